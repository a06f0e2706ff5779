"""``runoffbench build-cache``: write the forcing cache of one forcing product (or the attributes)."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "build-cache",
        help="read CAMELS-US files into one NetCDF4 forcing cache",
        description=(
            "Read the forcing and USGS streamflow files of the listed basins from a CAMELS-US root "
            "(original NCAR layout) and write data/cache/<dataset>/<forcing>.nc: dims (basin, date), "
            "float32 forcings and qobs [mm/day] with units. With --attributes, write attributes.nc "
            "(every CAMELS attribute, dim basin) instead. Nothing is written if any basin fails."
        ),
    )
    parser.add_argument("--camels-root", required=True,
                        help="folder holding basin_dataset_public_v1p2/ and camels_attributes_v2.0/")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--forcing", help="forcing product: daymet, maurer, nldas, maurer_extended, nldas_extended")
    target.add_argument("--attributes", action="store_true",
                        help="write the attribute cache instead of a forcing cache")
    parser.add_argument("--basins", required=True, help="basin list file (one 8-digit USGS id per line)")
    parser.add_argument("--output", required=True, help="NetCDF file to write")
    parser.add_argument("--dataset", default="camels_us", help="dataset name stored in the file (default: camels_us)")
    parser.add_argument("--start", help="first day to keep (YYYY-MM-DD); default: all")
    parser.add_argument("--end", help="last day to keep (YYYY-MM-DD); default: all")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import build_attributes_cache, build_forcing_cache
    from runoffbench.data.camels_us import read_basin_list
    from runoffbench.periods import parse_period

    basins = read_basin_list(args.basins)
    if args.attributes:
        build_attributes_cache(args.camels_root, basins, args.output)
        return 0
    period = None
    if args.start or args.end:
        period = parse_period({"start": args.start or "1800-01-01", "end": args.end or "2200-12-31"}, "--start/--end")
    build_forcing_cache(args.camels_root, args.forcing, basins, args.output, args.dataset, period)
    return 0
