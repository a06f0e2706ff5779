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
      --forcing daymet --split kratzert2019 --cache data/cache/synthetic/daymet.nc --output P.nc"""


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
    p.add_argument("simulation", type=Path, metavar="FILE", help="CSV or NetCDF of simulated flow")
    p.add_argument("--variable", default="qsim",
                   help="flow variable (NetCDF) or column (long CSV) (default: qsim)")
    p.add_argument("--units", default="mm/day", choices=sorted(UNITS), help="units of the flow")
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
    predictions = import_simulation(
        args.simulation, open_cache(args.cache), periods["test"], model=args.model, forcing=args.forcing,
        split=args.split, member=args.member, units=args.units, variable=args.variable,
    )
    write_predictions(predictions, args.output)
    log.info("wrote %s", args.output)
    return 0
