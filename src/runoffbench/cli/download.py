"""``runoffbench download``: fetch the real CAMELS-US archives and extract what a run needs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
Download the CAMELS-US archives (NCAR time series and attributes; the HydroShare extended
Maurer/NLDAS forcings when one of them is requested; a published basin list), verify their sha256
sums, and extract only the forcing, streamflow and attribute files of the requested basins into the
original CAMELS layout under --root:

  ROOT/basin_dataset_public_v1p2/basin_mean_forcing/<forcing>/<huc>/<basin>_lump_*_forcing_leap.txt
  ROOT/basin_dataset_public_v1p2/usgs_streamflow/<huc>/<basin>_streamflow_qc.txt
  ROOT/camels_attributes_v2.0/camels_{clim,geol,hydro,name,soil,topo,vege}.txt
  ROOT/basin_lists/<name>_basin_list.txt          (with --basin-list)
  ROOT/download_manifest.json                     (written last: files, sha256 sums, sources)

Interrupted downloads resume (HTTP Range) on the next run; finished archives are kept in
--downloads and not transferred again."""

EPILOG = """\
examples:
  runoffbench download --sources config/download_sources.yaml --basin-list 531 \\
      --forcing daymet --forcing maurer_extended --forcing nldas_extended
  runoffbench download --sources config/config.yaml --basins my_basins.txt --root data/camels"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``download`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "download",
        help="download and extract the real CAMELS-US data",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sources", type=Path, required=True, metavar="FILE",
                   help="YAML/JSON file holding the sources mapping (timeseries, attributes, "
                        "maurer_extended, nldas_extended, basin_lists), or a workflow config "
                        "holding it under dataset.download")
    p.add_argument("--root", type=Path, default=Path("data/raw/camels_us"), metavar="DIR",
                   help="where the CAMELS layout is written (default: %(default)s)")
    p.add_argument("--downloads", type=Path, default=Path("data/downloads"), metavar="DIR",
                   help="where the archives are kept between runs (default: %(default)s)")
    p.add_argument("--forcing", action="append", metavar="NAME", dest="forcings",
                   help="forcing product to extract, repeatable: daymet, maurer, nldas, "
                        "maurer_extended, nldas_extended (default: daymet)")
    basins = p.add_mutually_exclusive_group()
    basins.add_argument("--basins", type=Path, metavar="FILE",
                        help="text file with one 8-digit USGS basin id per line")
    basins.add_argument("--basin-list", metavar="NAME",
                        help="published basin list named in sources.basin_lists (e.g. 531); "
                             "downloaded, written to ROOT/basin_lists/ and used as the basins")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the download; print a one-line error and return 1 on bad input or a failed download."""
    import logging

    from runoffbench.data.camels_us import read_basin_list
    from runoffbench.data.download import fetch_camels
    from runoffbench.errors import RunoffbenchError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        manifest = fetch_camels(
            load_sources(args.sources),
            args.root,
            args.forcings or ["daymet"],
            basins=read_basin_list(args.basins) if args.basins else None,
            basin_list=args.basin_list,
            downloads_dir=args.downloads,
            progress=not args.no_progress,
        )
    except RunoffbenchError as exc:
        print(f"runoffbench download: error: {exc}", file=sys.stderr)
        return 1
    print(manifest)
    return 0


def load_sources(path: Path) -> dict:
    """Read the sources mapping from a sources file or from a workflow config's dataset.download."""
    import yaml

    from runoffbench.errors import ConfigError

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--sources {path}: cannot read it ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("dataset"), dict):
        data = data["dataset"].get("download")
    if not isinstance(data, dict) or "timeseries" not in data:
        raise ConfigError(
            f"--sources {path}: expected a mapping with timeseries/attributes/... entries, or a "
            "workflow config holding one under dataset.download"
        )
    return data
