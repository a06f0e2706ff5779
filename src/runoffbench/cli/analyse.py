"""``runoffbench analyse``: analyses of trained runs (contract 6), e.g. static-attribute noise."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``analyse`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "analyse",
        help="analyse a trained run (static-attribute noise) into a per-basin table",
        description="Reload a trained run (RUNDIR/model.pt, config.yaml), analyse it over its test period and "
        "write one row per basin and setting. static_noise (Kratzert et al. 2019, Fig. 6): Gaussian noise of each "
        "--sigma added to the standardised static inputs, --draws draws per basin and sigma (sigma 0 once), NSE of "
        "each; the draws are batched --draws-per-batch at a time.",
    )
    p.add_argument("analysis", choices=("static_noise",), help="the analysis")
    p.add_argument("--run", dest="run_dir", type=Path, metavar="RUNDIR", help="a trained run")
    p.add_argument("--collect", nargs="+", type=Path, metavar="TABLE.csv",
                   help="instead of --run: concatenate these per-run tables of the analysis into --output")
    p.add_argument("--sigma", dest="sigmas", type=float, action="append", metavar="S",
                   help="noise standard deviation (repeatable; default 0.1, 0.2, ..., 1.0 as the paper)")
    p.add_argument("--draws", type=int, default=50, help="draws per basin and sigma (default 50, the paper's)")
    p.add_argument("--draws-per-batch", type=int, default=10, help="draws predicted in one batch (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (recorded in the table)")
    p.add_argument("--cache", type=Path, metavar="FORCING.nc", help="forcing cache (default: the run's)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--output", required=True, type=Path, metavar="TABLE.csv", help="the analysis table")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from runoffbench.analysis.static_noise import PAPER_SIGMAS, analyse_run
    from runoffbench.errors import ConfigError
    from runoffbench.io import write_text_atomic

    if (args.run_dir is None) == (args.collect is None):
        raise ConfigError("runoffbench analyse: give either --run (analyse a run) or --collect (join run tables)")
    if args.collect:
        table = pd.concat([pd.read_csv(path, dtype={"basin": str, "member": str}) for path in args.collect],
                          ignore_index=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_text_atomic(args.output, table.to_csv(index=False))}")
        return 0
    table = analyse_run(args.run_dir, sigmas=args.sigmas or PAPER_SIGMAS, draws=args.draws, seed=args.seed,
                        draws_per_batch=args.draws_per_batch, cache=args.cache, device=args.device)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_text_atomic(args.output, table.to_csv(index=False))}")
    return 0
