"""``runoffbench collect-metrics``: every run's metrics in one long table with basin locations."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``collect-metrics`` subcommand."""
    p = subparsers.add_parser(
        "collect-metrics", help="gather metrics files into one long table (model, forcing, split, member, basin)",
        description="Read metrics files at .../<model>/<forcing>/<split>/<member>.csv and write one "
        "table with the run columns, the basin's huc_02, lat and lon (from --cache) and the metrics.",
    )
    p.add_argument("metrics", nargs="+", type=Path, metavar="MEMBER.csv")
    p.add_argument("--cache", required=True, type=Path, metavar="FORCING.nc",
                   help="forcing cache providing huc_02, lat and lon of the basins")
    p.add_argument("--output", required=True, type=Path, metavar="metrics.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.evaluation.collect import collect_metrics
    from runoffbench.io import write_text_atomic

    cache = open_cache(args.cache)
    locations = cache[["huc_02", "lat", "lon"]].to_dataframe().reset_index()[["basin", "huc_02", "lat", "lon"]]
    locations["basin"] = locations["basin"].astype(str)
    table = collect_metrics(args.metrics, locations)
    write_text_atomic(args.output, table.to_csv(index=False, float_format="%.6g"))
    log.info("wrote %s: %d rows from %d files", args.output, len(table), len(args.metrics))
    return 0
