"""``runoffbench download-benchmarks``: fetch the CAMELS benchmark model simulations of Kratzert et al. 2019."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``download-benchmarks`` subcommand."""
    p = subparsers.add_parser(
        "download-benchmarks", help="download the CAMELS benchmark model simulations (HydroShare 474ecc37)",
        description="Download the archive of the CAMELS benchmark models (Kratzert 2019, HydroShare resource "
        "474ecc37e7db45baa425cdb4fc1b61e1; the camels_benchmarks entry of the sources file) and extract its "
        "<gauge_id>_benchmark_models.nc files into OUTPUT; OUTPUT/download_manifest.json is written last. "
        "A folder unpacked by hand serves as well (runoffbench.models.camels_benchmarks).",
    )
    p.add_argument("--sources", type=Path, required=True, metavar="FILE",
                   help="the sources file (config/download_sources.yaml) or a workflow config naming it")
    p.add_argument("--output", type=Path, required=True, metavar="FOLDER", help="where the basin files go")
    p.add_argument("--downloads", type=Path, metavar="FOLDER",
                   help="where the archive is kept (default: OUTPUT/../downloads)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.cli.download import load_sources
    from runoffbench.models.camels_benchmarks import fetch_release

    print(f"wrote {fetch_release(load_sources(args.sources), args.output, args.downloads, not args.no_progress)}")
    return 0
