"""``runoffbench synth``: write the embedded synthetic CAMELS-US dataset."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

LOGGER = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``synth`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "synth",
        help="write the synthetic CAMELS-US dataset (the embedded default)",
        description="Generate synthetic basins (weather, two forcing products, EXP-HYDRO streamflow, "
        "attributes) and write them in the CAMELS-US file layout, plus truth.nc and a basin list.",
    )
    p.add_argument("--output", required=True, type=Path, metavar="DIR",
                   help="CAMELS root folder to write (created if missing; files are replaced atomically)")
    p.add_argument("--n-basins", type=int, default=24,
                   help="number of basins, spread over the HUC-02 regions (default: 24)")
    p.add_argument("--start", default="1980-01-01", help="first day, YYYY-MM-DD (default: 1980-01-01)")
    p.add_argument("--end", default="2014-12-31", help="last day, YYYY-MM-DD (default: 2014-12-31)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed; the same seed writes byte-identical files (default: 0)")
    p.add_argument("--basin-list", type=Path, default=None, metavar="FILE",
                   help="where to write the basin ids, one per line (default: <output>/basins.txt)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Generate and write the dataset described by ``args``; returns the exit status."""
    from runoffbench.data.synthetic.generator import SyntheticConfig, generate_dataset, write_dataset

    config = SyntheticConfig(n_basins=args.n_basins, start=args.start, end=args.end, seed=args.seed)
    started = time.perf_counter()
    LOGGER.info("generating %d synthetic basins %s..%s (seed %d)", config.n_basins, config.start, config.end,
                config.seed)
    dataset = generate_dataset(config)
    root = write_dataset(dataset, args.output, args.basin_list)
    LOGGER.info("wrote %s in %.1f s", root, time.perf_counter() - started)
    return 0
