"""``runoffbench evaluate``: per-basin metrics of one prediction file (contract 2 -> contract 3)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from runoffbench.cli.options import add_cache_argument, resolve_split
from runoffbench.io import write_text_atomic

log = logging.getLogger(__name__)

EPILOG = """\
example:
  runoffbench evaluate --predictions results/default/runs/climatology/daymet/kratzert2019/0/predictions.nc \\
      --cache data/cache/synthetic/daymet.nc --split kratzert2019 \\
      --output results/default/metrics/climatology/daymet/kratzert2019/0.csv --metrics NSE KGE"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate", help="per-basin metrics of a prediction file (one row per basin)",
        description="Check a prediction file against the observations of the forcing cache (basins, "
        "test-period dates, qobs) and write one row per basin and one column per metric. A basin "
        "whose metric cannot be computed gets NaN; the reason is logged.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--predictions", required=True, type=Path, metavar="predictions.nc")
    add_cache_argument(p, "forcing cache holding the observations")
    p.add_argument("--split", metavar="NAME",
                   help="check that the dates cover exactly this split's test period")
    p.add_argument("--periods", metavar="JSON", help="the split's periods when it is not predefined")
    p.add_argument("--metrics", nargs="+", default=["all"], metavar="METRIC",
                   help="metric names (runoffbench.evaluation.metrics.METRICS) or 'all' (default)")
    p.add_argument("--output", required=True, type=Path, metavar="METRICS.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.evaluation.evaluate import evaluate_predictions
    from runoffbench.evaluation.metrics import resolve_metric_names
    from runoffbench.predictions import read_predictions

    names = resolve_metric_names(args.metrics[0] if args.metrics == ["all"] else args.metrics)
    period = resolve_split(args)["test"] if args.split else None
    table = evaluate_predictions(read_predictions(args.predictions), open_cache(args.cache), names,
                                 source=args.predictions, period=period)
    write_text_atomic(args.output, table.to_csv(float_format="%.6g"))
    undefined = table.isna().sum()
    log.info("wrote %s: %d basins x %d metrics; NaN counts: %s", args.output, len(table), len(names),
             ", ".join(f"{k}={v}" for k, v in undefined.items() if v) or "none")
    return 0
