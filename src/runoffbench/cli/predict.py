"""``runoffbench predict``: re-predict with a trained run (contract 5), without training."""

from __future__ import annotations

import argparse
from pathlib import Path

from runoffbench.cli.options import add_split_arguments


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``predict`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "predict",
        help="predict a period with a trained nn run (its model.pt), nothing trained",
        description="Load RUNDIR/model.pt and RUNDIR/config.yaml (weights, normalisation, settings, basins, "
        "periods) and write the prediction contract for the run's test period, or for the test period of "
        "--split, from the run's forcing cache or --cache. The spin-up and the normalisation are the run's "
        "own; with the run's cache and split the output equals the run's predictions.nc.",
    )
    p.add_argument("--run", dest="run_dir", required=True, type=Path, metavar="RUNDIR",
                   help="a run directory of runoffbench train")
    p.add_argument("--cache", type=Path, metavar="FORCING.nc", help="forcing cache (default: the run's)")
    add_split_arguments(p, required=False)
    p.add_argument("--output", type=Path, metavar="PREDICTIONS.nc",
                   help="where to write (default: RUNDIR/predictions_<split>.nc)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.cli.options import resolve_split
    from runoffbench.predictions import write_predictions
    from runoffbench.training.run import repredict

    test = resolve_split(args)["test"] if args.split else None
    dataset = repredict(args.run_dir, cache=args.cache, test=test, split=args.split, device=args.device)
    output = args.output or args.run_dir / f"predictions_{dataset.attrs['split']}.nc"
    print(f"wrote {write_predictions(dataset, output)}")
    return 0
