"""``runoffbench ensemble``: the ``ensemble`` member (mean over members) as a prediction file."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``ensemble`` subcommand."""
    p = subparsers.add_parser(
        "ensemble", help="mean prediction over the members (seeds) of one run",
        description="Average qsim (and the fluxes every member reports) over member prediction files "
        "of one model, forcing and split; writes the member 'ensemble' of the prediction contract.",
    )
    p.add_argument("members", nargs="+", type=Path, metavar="predictions.nc")
    p.add_argument("--output", required=True, type=Path, metavar="predictions.nc")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.evaluation.ensemble import ensemble_mean
    from runoffbench.predictions import read_predictions, write_predictions

    ensemble = ensemble_mean([read_predictions(p) for p in args.members], [str(p) for p in args.members])
    write_predictions(ensemble, args.output)
    log.info("wrote %s (mean of %d members)", args.output, len(args.members))
    return 0
