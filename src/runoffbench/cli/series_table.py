"""``runoffbench series-table``: daily flows and dynamic parameters of the basins nearest a model's median NSE."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``series-table`` subcommand."""
    p = subparsers.add_parser(
        "series-table", help="qobs, qsim and beta_t/gamma_t of the basins near a model's median NSE",
        description="One row per model, basin and test day of one split and forcing: qobs, qsim (the ensemble "
        "where there is one), the dynamic parameters beta_t_<k>, gamma_t_<k> of every component (first member), "
        "the run's NSE, lat and lon; the basins are those nearest the reference model's median NSE "
        "(runoffbench.evaluation.process; Feng et al. 2022, Figs. 3-4).",
    )
    p.add_argument("predictions", nargs="+", type=Path, metavar="predictions.nc")
    p.add_argument("--metrics", required=True, type=Path, metavar="metrics.csv", help="tables/metrics.csv")
    p.add_argument("--reference", metavar="MODEL", help="the model whose median NSE picks the basins (default: the "
                   "first model of the files)")
    p.add_argument("--count", type=int, default=3, help="basins (default 3)")
    p.add_argument("--basins", nargs="*", default=None, metavar="ID", help="these basins instead")
    p.add_argument("--output", required=True, type=Path, metavar="series.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.evaluation.process import series_table
    from runoffbench.evaluation.scope import read_metrics_table
    from runoffbench.io import write_text_atomic

    table = series_table(args.predictions, read_metrics_table(args.metrics), args.reference, args.count, args.basins)
    write_text_atomic(args.output, table.to_csv(index=False, float_format="%.5g"))
    log.info("wrote %s: basins %s, %d rows", args.output, ", ".join(table["basin"].unique()), len(table))
    return 0
