"""``runoffbench run-summary``: pooled mutual information and baseflow-index correlation per run."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)

CAPTION = ("Scores of whole runs: mutual information of observed and simulated flow pooled over all basins "
           "(nats), and the correlation across basins of the simulated baseflow index with CAMELS "
           "baseflow_index (an output no model is trained on).")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``run-summary`` subcommand."""
    p = subparsers.add_parser(
        "run-summary", help="pooled mutual information and baseflow-index correlation of prediction files",
        description="One row per prediction file: basins, MI-pooled (Frame et al. 2023), BFI-r and BFI-rho "
        "(Pearson/Spearman correlation of the simulated baseflow index with CAMELS baseflow_index, Feng et "
        "al. 2022; NaN for runs without a baseflow flux). Writes <output>.csv, .md and .tex.",
    )
    p.add_argument("predictions", nargs="+", type=Path, metavar="predictions.nc")
    p.add_argument("--attributes", required=True, type=Path, metavar="attributes.nc",
                   help="attribute cache providing CAMELS baseflow_index")
    p.add_argument("--failures", nargs="*", type=Path, default=None, metavar="failures.csv",
                   help="the runs' failures.csv (runoffbench.failures): the basins they left out, counted in the "
                   "'left out' column and named in a warning")
    p.add_argument("--output", required=True, type=Path, metavar="TABLE.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import open_attributes
    from runoffbench.evaluation.collect import collect_failures, failure_summary
    from runoffbench.evaluation.run_summary import run_summary_table
    from runoffbench.table_files import write_table

    failures = collect_failures(args.failures) if args.failures is not None else None
    table = run_summary_table(args.predictions, open_attributes(args.attributes), failures)
    notes = ()
    if failures is not None:
        summary = failure_summary(failures)
        if summary:
            log.warning("%s (see the failures table)", summary)
        notes = (f"left out: basins a run left out (failures table); {failures['basin'].nunique()} distinct basins "
                 f"left out over {len(args.failures)} run(s)." if summary else "left out: no run left a basin out.",)
    paths = write_table(table.round(4), args.output, CAPTION, notes)
    log.info("run summary of %d runs: wrote %s", len(table), ", ".join(map(str, paths)))
    return 0
