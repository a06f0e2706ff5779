"""``runoffbench benchmark-basins``: the basins every CAMELS benchmark model simulates, as a basin list."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  runoffbench benchmark-basins data/raw/camels_benchmarks \\
      --within data/raw/camels_us/basin_lists/531_basin_list.txt --output config/447_basins.txt
      (Kratzert et al. 2019's 447: the 531 basins where all ten models of the release are complete;
       then dataset.basins: config/447_basins.txt)
  runoffbench benchmark-basins data/raw/camels_benchmarks --models SAC_SMA VIC_basin mHm_basin"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``benchmark-basins`` subcommand."""
    p = subparsers.add_parser(
        "benchmark-basins", help="list the basins every CAMELS benchmark model simulates (a basin list file)",
        description="Read the CAMELS benchmark model simulations of Kratzert et al. 2019 (HydroShare "
        "474ecc37e7db45baa425cdb4fc1b61e1: a folder of <gauge_id>_benchmark_models.nc files) and list the "
        "basins where every given model has a complete simulation over 1989-10-01..1999-09-30 "
        "(runoffbench.models.camels_benchmarks).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", type=Path, metavar="FOLDER",
                   help="folder of <gauge_id>_benchmark_models.nc files (or one file, or a run pickle)")
    p.add_argument("--models", nargs="+", default=["all"], metavar="NAME",
                   help="models in the files (default: all ten: SAC_SMA VIC_basin VIC_conus mHm_basin mHm_conus "
                        "HBV_lb HBV_ub q_sim_fuse_900 q_sim_fuse_902 q_sim_fuse_904)")
    p.add_argument("--within", type=Path, metavar="BASINS.txt",
                   help="only basins of this basin list (e.g. the 531 of Kratzert et al. 2019)")
    p.add_argument("--period", nargs=2, metavar=("START", "END"), default=["1989-10-01", "1999-09-30"],
                   help="days every simulation must cover (default: the release's, 1989-10-01 1999-09-30)")
    p.add_argument("--output", type=Path, metavar="BASINS.txt",
                   help="write the basin list here (default: print the ids)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.camels_us import read_basin_list
    from runoffbench.models.camels_benchmarks import benchmark_basins, resolve_models, write_basin_list
    from runoffbench.periods import parse_period

    within = read_basin_list(args.within) if args.within else None
    period = parse_period({"start": args.period[0], "end": args.period[1]}, "--period")
    basins = benchmark_basins(args.path, args.models, within=within, period=period)
    models = resolve_models(args.models, args.path)
    if args.output is None:
        print("\n".join(basins))
    else:
        scope = f" of {args.within}" if args.within else ""
        write_basin_list(basins, args.output,
                         f"{len(basins)} basins{scope} with a complete simulation of every one of "
                         f"{', '.join(models)}\n(runoffbench benchmark-basins {args.path})")
        log.info("wrote %d basins to %s", len(basins), args.output)
    return 0
