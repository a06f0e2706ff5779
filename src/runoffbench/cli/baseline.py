"""``runoffbench baseline``: a benchmark model (mean flow, climatology) as a prediction file."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from runoffbench.cli.options import add_cache_argument, add_split_arguments, resolve_split

log = logging.getLogger(__name__)

EPILOG = """\
example:
  runoffbench baseline --method climatology --cache data/cache/synthetic/daymet.nc \\
      --model climatology --forcing daymet --split kratzert2019 --member 0 \\
      --output results/default/runs/climatology/daymet/kratzert2019/0/predictions.nc"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``baseline`` subcommand."""
    from runoffbench.models.baselines import METHODS

    p = subparsers.add_parser(
        "baseline", help="predict the test period with a benchmark model (prediction contract)",
        description="Fit a baseline on the training-period streamflow of a forcing cache and write "
        "its test-period prediction file; basins with too little training flow are left out and listed in "
        "failures.csv (runoffbench.failures). Methods: " + "; ".join(f"{k}: {v}" for k, v in METHODS.items()),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--method", required=True, choices=sorted(METHODS))
    add_cache_argument(p, "forcing cache whose qobs the baseline is fitted on")
    p.add_argument("--model", required=True, help="model name written to the file (the config key)")
    p.add_argument("--forcing", required=True, help="forcing name written to the file")
    add_split_arguments(p)
    p.add_argument("--member", type=int, default=0, help="member id; the bootstrap seed (default: 0)")
    p.add_argument("--bootstrap-years", action="store_true",
                   help="fit on a bootstrap resample of the training water years (seed = --member)")
    p.add_argument("--window", type=int, default=31, help="climatology smoothing window, odd days (31)")
    p.add_argument("--output", required=True, type=Path, metavar="predictions.nc")
    p.add_argument("--failures", type=Path, metavar="failures.csv",
                   help="the basins left out for too little training flow, with the reason (runoffbench.failures; "
                   "default: failures.csv next to --output)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.failures import write_failures
    from runoffbench.models.baselines import baseline_run
    from runoffbench.predictions import write_predictions

    periods = resolve_split(args)
    predictions, excluded = baseline_run(
        open_cache(args.cache), args.method, periods["train"], periods["test"], model=args.model,
        forcing=args.forcing, split=args.split, member=args.member,
        bootstrap_years=args.bootstrap_years, window=args.window,
    )
    failures = args.failures or args.output.parent / "failures.csv"
    write_failures(failures, excluded, stage="baseline")
    write_predictions(predictions, args.output)
    log.info("wrote %s (%d basins) and %s (%d left out)", args.output, predictions.sizes["basin"], failures,
             len(excluded))
    return 0
