"""``runoffbench table KIND``: one table of the output registry as CSV, Markdown and LaTeX."""

from __future__ import annotations

import argparse
import logging

from runoffbench.cli.outputs import add_kind_parsers, kind_input

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``table`` subcommand, one sub-subcommand per table kind."""
    p = subparsers.add_parser(
        "table", help="build an evaluation table (CSV + Markdown + LaTeX)",
        description="Build one table kind of the output registry (runoffbench.outputs.KINDS) and write "
        "<output>.csv, .md and .tex. Tables of the metrics table take the scope flags (--split, --forcings, "
        "--models, --members, --basins, --factors); `runoffbench table KIND --help` lists a kind's own flags.",
    )
    add_kind_parsers(p, "tables", run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.evaluation.collect import collect_failures, failure_summary
    from runoffbench.table_files import write_table

    kind = args.output_kind
    if kind.reads == "failures":
        failures = collect_failures(args.failures)
        built = kind.load()(failures, len(args.failures))
        summary = failure_summary(failures)
        if summary:
            log.warning("%s", summary)
    else:
        table, options = kind_input(args, kind)
        if getattr(args, "expected_runs", None):
            options["expected_runs"] = args.expected_runs
        built = kind.load()(table, **options)
    paths = write_table(built.table, args.output, built.caption, built.notes, group=built.group)
    log.info("table %s: wrote %s", kind.name, ", ".join(map(str, paths)))
    return 0
