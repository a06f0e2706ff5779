"""Command-line interface: ``runoffbench <command> --help``.

Each command lives in its own module ``runoffbench.cli.<command>`` with ``add_parser(subparsers)``
and ``run(args) -> int``; heavy imports happen inside ``run`` so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from runoffbench import __version__
from runoffbench.errors import RunoffbenchError

#: module names under runoffbench.cli, in the order they appear in --help
COMMANDS = ("synth", "download", "build_cache", "water_balance", "calibrate", "train", "predict", "analyse",
            "baseline", "import_simulation", "benchmark_basins", "download_benchmarks", "evaluate", "ensemble",
            "collect_metrics", "run_summary", "hydrograph_table", "process_table", "series_table", "table", "figure")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runoffbench",
        description="Benchmark rainfall-runoff models on CAMELS-US (the Snakemake workflow's steps).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"runoffbench.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)
    try:
        return int(args.run(args) or 0)
    except RunoffbenchError as error:
        print(f"runoffbench {args.command}: error: {error}", file=sys.stderr)
        return 2
