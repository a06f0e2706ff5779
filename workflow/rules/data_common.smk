# Helpers of the data rules (data.smk): the raw files each cache reads, derived from the config.
import os
from types import SimpleNamespace

CAMELS_SERIES = "basin_dataset_public_v1p2"
CAMELS_TABLES = ("clim", "geol", "hydro", "name", "soil", "topo", "vege")


def _configured_basins():
    """The ids of the basin list (8-digit tokens before any '#'), or [] while it does not exist."""
    path = Path(basins_file())
    if not path.is_file():
        return []
    ids = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [basin for basin in ids if basin]


def _files_by_basin(folder, suffix):
    """basin id -> files named '<id>...<suffix>' in folder and its HUC sub-folders."""
    found = {}
    if not os.path.isdir(folder):
        return found
    with os.scandir(folder) as entries:
        folders = [folder]
        for entry in entries:
            if entry.is_dir():
                folders.append(entry.path)
    for sub in folders:
        with os.scandir(sub) as entries:
            for entry in entries:
                if entry.name.endswith(suffix) and entry.is_file():
                    found.setdefault(entry.name[:8], []).append(entry.path)
    return found


def camels_raw_files(forcing):
    """The raw files the cache of `forcing` ('attributes' for attributes.nc) reads, those that exist
    (a missing one is reported by build-cache itself, naming the basin)."""
    if forcing == "attributes":
        tables = [f"{ROOT}/camels_attributes_v2.0/camels_{t}.txt" for t in CAMELS_TABLES]
        return [t for t in tables if os.path.isfile(t)]
    basins = _configured_basins()
    forcing_files = _files_by_basin(
        f"{ROOT}/{CAMELS_SERIES}/basin_mean_forcing/{forcing}", "_forcing_leap.txt"
    )
    flow_files = _files_by_basin(f"{ROOT}/{CAMELS_SERIES}/usgs_streamflow", "_streamflow_qc.txt")
    return sorted(
        path for basin in basins for path in forcing_files.get(basin, []) + flow_files.get(basin, [])
    )


def cache_root(wildcards):
    """params.root of the cache rules: camels_root of the dataset marker, without the input files
    (which are the checkpoint's outputs until download_camels has run)."""
    return camels_root(wildcards, SimpleNamespace(ready=dataset_ready()))


def cache_inputs(kind):
    """Input function of the cache rules: the basin list, the dataset marker and (camels_us) the raw
    files; after a download only once the download_camels checkpoint has run."""

    def inputs(wildcards):
        files = {"basins": basins_file(), "ready": dataset_ready()}
        if DATASET["name"] == "synthetic":
            return files
        if DATASET.get("download_sources"):
            checkpoints.download_camels.get()
        files["raw"] = camels_raw_files(kind if kind == "attributes" else wildcards.forcing)
        return files

    return inputs
