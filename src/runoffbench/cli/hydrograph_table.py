"""``runoffbench hydrograph-table``: daily flows of selected basins from prediction files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``hydrograph-table`` subcommand."""
    p = subparsers.add_parser(
        "hydrograph-table", help="observed and simulated flow of a few basins (the hydrograph figure's table)",
        description="Extract qobs and qsim of chosen basins from prediction files (all members of the "
        "runs to show) into one long CSV: model, forcing, split, member, basin, date, qobs, qsim.",
    )
    p.add_argument("predictions", nargs="+", type=Path, metavar="predictions.nc")
    p.add_argument("--basins", nargs="*", default=None, metavar="ID", help="basin ids to show")
    p.add_argument("--count", type=int, default=3,
                   help="without --basins: this many basins spread through the basin list (default 3)")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="first day (default: last water year of the test period)")
    p.add_argument("--end", metavar="YYYY-MM-DD", help="last day")
    p.add_argument("--output", required=True, type=Path, metavar="hydrographs.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.evaluation.collect import hydrograph_table
    from runoffbench.io import write_text_atomic

    table = hydrograph_table(args.predictions, args.basins, args.count, args.start, args.end)
    write_text_atomic(args.output, table.to_csv(index=False, float_format="%.5g"))
    log.info("wrote %s: %d basins, %d rows", args.output, table["basin"].nunique(), len(table))
    return 0
