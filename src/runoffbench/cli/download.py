"""``runoffbench download``: fetch the real CAMELS-US archives and extract what a run needs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
Download the CAMELS-US archives (NCAR time series and attributes; the HydroShare extended
Maurer/NLDAS forcings when one of them is requested; a published basin list), verify them (the
sha256/md5 pinned in the sources file or, where none is pinned, the archive's integrity check before
a download is kept), and extract only the forcing, streamflow and attribute files of the requested
basins (--basins, else --basin-list) into the original CAMELS layout under --root:

  ROOT/basin_dataset_public_v1p2/basin_mean_forcing/<forcing>/<huc>/<basin>_lump_*_forcing_leap.txt
  ROOT/basin_dataset_public_v1p2/usgs_streamflow/<huc>/<basin>_streamflow_qc.txt
  ROOT/camels_attributes_v2.0/camels_{clim,geol,hydro,name,soil,topo,vege}.txt
  ROOT/basin_lists/<name>_basin_list.txt          (with --basin-list)
  ROOT/download_manifest.json                     (written last: files, sha256 sums, sources)

Interrupted downloads resume (HTTP Range) on the next run; finished archives are kept in
--downloads and not transferred again. The manifest records the sha256 of every archive; pin a sum
the sources file leaves null after a first trusted download (--print-checksums shows them)."""

EPILOG = """\
examples:
  runoffbench download --sources config/download_sources.yaml --basin-list 531 \\
      --forcing daymet --forcing maurer_extended --forcing nldas_extended
  runoffbench download --sources config/experiments/camels_us.yaml --basins my_basins.txt \\
      --root data/camels          (a workflow config: the file its dataset.download_sources names)
  runoffbench download --print-checksums --root data/raw/camels_us"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``download`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "download",
        help="download and extract the real CAMELS-US data",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sources", type=Path, metavar="FILE",
                   help="YAML/JSON sources file (timeseries, attributes, maurer_extended, "
                        "nldas_extended, basin_lists: each url, sha256, md5), e.g. "
                        "config/download_sources.yaml, or a workflow config whose "
                        "dataset.download_sources names one (required unless --print-checksums)")
    p.add_argument("--root", type=Path, default=Path("data/raw/camels_us"), metavar="DIR",
                   help="where the CAMELS layout is written (default: %(default)s)")
    p.add_argument("--downloads", type=Path, default=Path("data/downloads"), metavar="DIR",
                   help="where the archives are kept between runs (default: %(default)s)")
    p.add_argument("--forcing", action="append", metavar="NAME", dest="forcings",
                   help="forcing product to extract, repeatable: daymet, maurer, nldas, "
                        "maurer_extended, nldas_extended (default: daymet)")
    p.add_argument("--basins", type=Path, metavar="FILE",
                   help="text file with one 8-digit USGS basin id per line: only these basins are "
                        "extracted (wins over --basin-list)")
    p.add_argument("--basin-list", metavar="NAME",
                   help="published basin list named in sources.basin_lists (e.g. 531); downloaded, "
                        "written to ROOT/basin_lists/ and, without --basins, used as the basins")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--print-checksums", action="store_true",
                   help="download nothing: print the sha256 of every archive recorded in "
                        "ROOT/download_manifest.json, as lines to paste into the sources file")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the download; print a one-line error and return 1 on bad input or a failed download."""
    import logging

    from runoffbench.data.camels_us import read_basin_list
    from runoffbench.data.download import fetch_camels
    from runoffbench.errors import ConfigError, RunoffbenchError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.print_checksums:
            print(recorded_checksums(args.root), end="")
            return 0
        if args.sources is None:
            raise ConfigError("--sources is required (config/download_sources.yaml)")
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
    """Read the sources mapping from a sources file, or from the file a workflow config names in
    ``dataset.download_sources`` (relative to the working directory, else to the config's folder or
    one above it, as the repository's configs are written)."""
    from runoffbench.errors import ConfigError

    path = Path(path)
    data = _read_yaml(path, "--sources")
    if isinstance(data, dict) and isinstance(data.get("dataset"), dict):
        dataset = data["dataset"]
        if "download" in dataset:
            raise ConfigError(
                f"--sources {path}: dataset.download is not read any more (the config schema rejects "
                "it): put the sources in a file (config/download_sources.yaml) and name it in "
                "dataset.download_sources"
            )
        named = dataset.get("download_sources")
        if not named:
            raise ConfigError(f"--sources {path}: this workflow config sets no dataset.download_sources")
        candidates = [Path(named)] if Path(named).is_absolute() else [
            Path.cwd() / named, *(parent / named for parent in path.resolve().parents)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ConfigError(f"--sources {path}: dataset.download_sources {named!r} does not exist")
        data = _read_yaml(found, f"dataset.download_sources of {path}")
    if not isinstance(data, dict) or "timeseries" not in data:
        raise ConfigError(
            f"--sources {path}: expected a mapping with timeseries/attributes/... entries, or a "
            "workflow config naming such a file in dataset.download_sources"
        )
    return data


def _read_yaml(path: Path, what: str):
    import yaml

    from runoffbench.errors import ConfigError

    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{what} {path}: cannot read it ({exc})") from exc


def recorded_checksums(root: Path) -> str:
    """The sha256 of each downloaded archive from ``root``'s manifest, one ``key: sha256`` line each."""
    import json

    from runoffbench.data.download import MANIFEST_NAME
    from runoffbench.errors import ConfigError

    manifest = Path(root) / MANIFEST_NAME
    if not manifest.is_file():
        raise ConfigError(f"--print-checksums: {manifest} does not exist; download first")
    sources = json.loads(manifest.read_text()).get("sources", {})
    return "".join(
        f"{key}: {entry['sha256']}  # {entry['file']}{'' if entry.get('sha256_configured') else ' (not pinned)'}\n"
        for key, entry in sources.items()
    )
