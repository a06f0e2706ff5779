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
        f"table and write <output>.csv, .md and .tex. Tables: {', '.join(TABLES)}; and 'failures', the basins "
        "every run left out, from the runs' failures.csv (--failures).",
    )
    p.add_argument("table_id", metavar="ID", help=f"table id: {', '.join(TABLES)}, failures")
    p.add_argument("--metrics", type=Path, metavar="metrics.csv",
                   help="the long metrics table of collect-metrics (every table but failures)")
    p.add_argument("--failures", nargs="*", type=Path, default=[], metavar="failures.csv",
                   help="failures: the runs' runs/<model>/<forcing>/<split>/<member>/failures.csv")
    p.add_argument("--expected-runs", nargs="+", default=None, metavar="MODEL/FORCING",
                   help="the configured runs of the split: a table built from fewer says which are missing")
    p.add_argument("--split", help="split shown (default: the first split of the table)")
    p.add_argument("--basins", default="all", choices=("all", "complete_record"),
                   help="basins covered: all (default) or complete_record, those observed on every test day "
                   "(Frame et al. 2023)")
    p.add_argument("--reference", help="benchmark: model the others are tested against (default: first)")
    p.add_argument("--output", required=True, type=Path, metavar="TABLE.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    import inspect

    import pandas as pd

    from runoffbench.errors import DataError
    from runoffbench.evaluation.collect import collect_failures, failure_summary, select_basins
    from runoffbench.evaluation.tables import TABLES, build_table, failures_table
    from runoffbench.table_files import write_table

    if args.table_id == "failures":
        failures = collect_failures(args.failures)
        built = failures_table(failures, len(args.failures))
        summary = failure_summary(failures)
        if summary:
            log.warning("%s", summary)
        paths = write_table(built.table, args.output, built.caption, built.notes)
        log.info("table failures (%d rows from %d runs): wrote %s", len(failures), len(args.failures),
                 ", ".join(map(str, paths)))
        return 0
    if args.metrics is None:
        raise DataError(f"table {args.table_id}: --metrics is required")
    if not args.metrics.is_file():
        raise DataError(f"metrics table {args.metrics} does not exist")
    metrics = select_basins(pd.read_csv(args.metrics, dtype={"basin": str, "member": str, "huc_02": str}),
                            args.basins)
    options = {"split": args.split}
    parameters = inspect.signature(TABLES[args.table_id]).parameters if args.table_id in TABLES else {}
    if "reference" in parameters:
        options["reference"] = args.reference
    if "expected_runs" in parameters:
        options["expected_runs"] = args.expected_runs
    built = build_table(args.table_id, metrics, **options)
    paths = write_table(built.table, args.output, built.caption, built.notes, group=built.group)
    log.info("table %s: wrote %s", args.table_id, ", ".join(map(str, paths)))
    return 0
