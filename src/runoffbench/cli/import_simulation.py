"""``runoffbench import-simulation``: an external model's simulated flows as a prediction file."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from runoffbench.cli.options import add_cache_argument, add_split_arguments, resolve_split

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  runoffbench import-simulation nwm_retrospective.csv --units m3/s --model nwm --forcing nldas \\
      --split frame2023 --cache data/cache/camels_us/531/nldas.nc \\
      --output results/frame2023/runs/nwm/nldas/frame2023/0/predictions.nc
  runoffbench import-simulation data/raw/synthetic/truth.nc --variable q --model generator \\
      --forcing daymet --split kratzert2019 --cache data/cache/synthetic/daymet.nc --output P.nc
  runoffbench import-simulation data/raw/camels_benchmarks --format camels_benchmark \\
      --benchmark VIC_basin --model vic_basin --forcing maurer_extended --split kratzert2019 \\
      --cache data/cache/camels_us/447_basins/maurer_extended.nc --output P.nc
      (the folder of <gauge_id>_benchmark_models.nc files of Kratzert et al. 2019, runoffbench.models.
       camels_benchmarks; `runoffbench benchmark-basins` writes 447_basins.txt, their common basins)
  runoffbench import-simulation data/raw/nwm_v2/CHRTOUT --format nwm_retrospective \\
      --crosswalk data/raw/nwm_v2/RouteLink_NWMv2.0.nc --model nwm --forcing nldas_extended \\
      --split newman2017 --cache data/cache/camels_us/531/nldas_extended.nc --output P.nc
      (hourly UTC CHRTOUT files or a streamflow(time, feature_id) NetCDF, averaged over each basin's
       local standard-time day: runoffbench.models.nwm_retrospective)
  runoffbench import-simulation data/raw/mhm_rakovec2019 --format mhm --model mhm --forcing daymet \
      --split feng2022 --cache data/cache/camels_us/671/daymet.nc --output P.nc
      (mHM's daily_discharge.out / discharge.nc in m3/s, e.g. the MPR-mHM runs of Rakovec et al. 2019:
       runoffbench.models.mhm)"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``import-simulation`` subcommand."""
    from runoffbench.models.external import UNITS

    p = subparsers.add_parser(
        "import-simulation", help="turn an external model's simulated flows into a prediction file",
        description="Read simulated streamflow from a CSV (date x basin columns, or long format with "
        "date, basin and the flow column) or a NetCDF file (dims basin, date/time), convert it to "
        "mm/day with the cache's basin areas, take qobs from the forcing cache and write the test "
        "period as a prediction file.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("simulation", type=Path, metavar="FILE",
                   help="CSV or NetCDF of simulated flow; --format camels_benchmark: the folder of "
                        "<gauge_id>_benchmark_models.nc files (or one), or a run pickle <model>_seed<N>.p")
    p.add_argument("--format", default="table", choices=["table", "camels_benchmark", "nwm_retrospective", "mhm"],
                   help="table: CSV/NetCDF as above (default); camels_benchmark: the benchmark model "
                        "simulations released with Kratzert et al. 2019 (runoffbench.models.camels_benchmarks); "
                        "nwm_retrospective: NWM v2.0 retrospective hourly streamflow, FILE a directory of "
                        "CHRTOUT files or a NetCDF/Zarr streamflow(time, feature_id) "
                        "(runoffbench.models.nwm_retrospective); mhm: mHM's daily_discharge.out or discharge.nc "
                        "(FILE one, or a folder searched at any depth; runoffbench.models.mhm)")
    p.add_argument("--crosswalk", type=Path, metavar="ROUTELINK",
                   help="nwm_retrospective: the gauge <-> feature_id crosswalk, the RouteLink NetCDF "
                        "(gages, link) or a CSV gauge,feature_id")
    p.add_argument("--timezone", default="longitude",
                   help="nwm_retrospective: local standard-time day of each basin: longitude (default: UTC "
                        "offset round(lon/15) h), local_mean (Frame et al.'s local mean time), utc, or a fixed "
                        "offset such as -6")
    p.add_argument("--benchmark", metavar="NAME",
                   help="camels_benchmark: the model in the files (SAC_SMA, VIC_basin, VIC_conus, mHm_basin, "
                        "mHm_conus, HBV_lb, HBV_ub, q_sim_fuse_900/902/904; case and q_sim_ optional)")
    p.add_argument("--missing-basins", default="error", choices=["error", "skip"],
                   help="camels_benchmark, mhm: cache basins the model lacks are an error (default), or left out, "
                        "logged and listed in the file's attribute missing_basins")
    p.add_argument("--variable", default="qsim",
                   help="flow variable (NetCDF) or column (long CSV) (default: qsim)")
    p.add_argument("--units", default="mm/day", choices=sorted(UNITS),
                   help="units of the flow (camels_benchmark: of a variable without a units attribute)")
    add_cache_argument(p, "forcing cache providing qobs and basin areas")
    p.add_argument("--model", required=True)
    p.add_argument("--forcing", required=True, help="forcing the external model was run with")
    add_split_arguments(p)
    p.add_argument("--member", default="0", help="member id (default: 0)")
    p.add_argument("--output", required=True, type=Path, metavar="predictions.nc")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.models.external import import_simulation
    from runoffbench.predictions import write_predictions

    periods = resolve_split(args)
    if args.format == "camels_benchmark":
        return _run_camels_benchmark(args, periods["test"])
    if args.format == "nwm_retrospective":
        return _run_nwm_retrospective(args, periods["test"])
    if args.format == "mhm":
        return _run_mhm(args, periods["test"])
    predictions = import_simulation(
        args.simulation, open_cache(args.cache), periods["test"], model=args.model, forcing=args.forcing,
        split=args.split, member=args.member, units=args.units, variable=args.variable,
    )
    write_predictions(predictions, args.output)
    log.info("wrote %s", args.output)
    return 0


def _run_camels_benchmark(args: argparse.Namespace, test) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.errors import ConfigError
    from runoffbench.models.camels_benchmarks import import_benchmark
    from runoffbench.predictions import write_predictions

    if not args.benchmark:
        raise ConfigError("--format camels_benchmark needs --benchmark (the model's name in the files)")
    predictions = import_benchmark(
        args.simulation, open_cache(args.cache), test, benchmark=args.benchmark, model=args.model,
        forcing=args.forcing, split=args.split, member=args.member, units=args.units,
        missing_basins=args.missing_basins,
    )
    write_predictions(predictions, args.output)
    log.info("wrote %s", args.output)
    return 0


def _run_nwm_retrospective(args: argparse.Namespace, test) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.errors import ConfigError
    from runoffbench.models.nwm_retrospective import import_nwm_retrospective
    from runoffbench.predictions import write_predictions

    if not args.crosswalk:
        raise ConfigError("--format nwm_retrospective needs --crosswalk (the RouteLink NetCDF or a CSV "
                          "gauge,feature_id)")
    predictions = import_nwm_retrospective(
        args.simulation, open_cache(args.cache), test, crosswalk=args.crosswalk, model=args.model,
        forcing=args.forcing, split=args.split, member=args.member, timezone=args.timezone,
    )
    write_predictions(predictions, args.output)
    log.info("wrote %s", args.output)
    return 0


def _run_mhm(args: argparse.Namespace, test) -> int:
    from runoffbench.data.cache import open_cache
    from runoffbench.models.mhm import import_mhm
    from runoffbench.predictions import write_predictions

    predictions = import_mhm(args.simulation, open_cache(args.cache), test, model=args.model, forcing=args.forcing,
                             split=args.split, member=args.member, missing_basins=args.missing_basins)
    write_predictions(predictions, args.output)
    log.info("wrote %s", args.output)
    return 0
