"""``runoffbench table``: one evaluation table as CSV, Markdown and LaTeX."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``table`` subcommand."""
    from runoffbench.evaluation.tables import TABLES

    p = subparsers.add_parser(
        "table", help="build an evaluation table (CSV + Markdown + LaTeX)",
        description="Build one table of runoffbench.evaluation.tables.TABLES from the long metrics "
        f"table and write <output>.csv, .md and .tex. Tables: {', '.join(TABLES)}.",
    )
    p.add_argument("table_id", metavar="ID", help=f"table id: {', '.join(TABLES)}")
    p.add_argument("--metrics", required=True, type=Path, metavar="metrics.csv",
                   help="the long metrics table of collect-metrics")
    p.add_argument("--split", help="split shown (default: the first split of the table)")
    p.add_argument("--reference", help="benchmark: model the others are tested against (default: first)")
    p.add_argument("--output", required=True, type=Path, metavar="TABLE.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    import inspect

    import pandas as pd

    from runoffbench.errors import DataError
    from runoffbench.evaluation.tables import TABLES, build_table
    from runoffbench.tables import write_table

    if not args.metrics.is_file():
        raise DataError(f"metrics table {args.metrics} does not exist")
    metrics = pd.read_csv(args.metrics, dtype={"basin": str, "member": str, "huc_02": str})
    options = {"split": args.split}
    if args.table_id in TABLES and "reference" in inspect.signature(TABLES[args.table_id]).parameters:
        options["reference"] = args.reference
    built = build_table(args.table_id, metrics, **options)
    paths = write_table(built.table, args.output, built.caption, built.notes, group=built.group)
    log.info("table %s: wrote %s", args.table_id, ", ".join(map(str, paths)))
    return 0
