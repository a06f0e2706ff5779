"""The data rules through Snakemake on real-layout CAMELS-US files put in place by hand (no
download): editing a raw forcing, streamflow or attribute file that a configured basin needs makes
the cache out of date (the raw files are inputs of build_cache), and an unchanged tree has nothing
to do. The downloaded case is checked in test_download_workflow.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from tests.camels_tree import write_camels_tree
from tests.test_workflow import copy_workflow, snakemake

pytestmark = pytest.mark.slow
TARGETS = ["data/cache/camels_us/by_hand/daymet.nc", "data/cache/camels_us/by_hand/attributes.nc"]


def _planned(workdir: Path) -> str:
    result = snakemake(workdir, "-n", *TARGETS, "--configfile", "by_hand.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def _edit(path: Path) -> None:
    """Change the file's content (Snakemake ignores a newer mtime when a small file's checksum is
    unchanged) without changing what it means: trailing blanks on the last line."""
    lines = path.read_text().splitlines(keepends=True)
    lines[-1] = lines[-1].rstrip("\n") + "  \n"
    path.write_text("".join(lines))
    later = time.time() + 1
    os.utime(path, (later, later))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("by_hand"))
    root = write_camels_tree(workdir / "data" / "raw" / "camels_us")
    (root / "basin_lists").mkdir()
    (root / "basins.txt").rename(root / "basin_lists" / "by_hand.txt")  # ROOT/basins.txt is synthetic's
    config = yaml.safe_load((workdir / "config" / "experiments" / "camels_us.yaml").read_text())
    config["dataset"].update(forcings=["daymet"], basins="data/raw/camels_us/basin_lists/by_hand.txt",
                             basin_list=None, download_sources=None)
    config["figures"] = {"basin_map": config["figures"]["basin_map"]}
    (workdir / "by_hand.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, *TARGETS, "--configfile", "by_hand.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_unchanged_raw_files_nothing_to_do(built):
    assert "Nothing to be done" in _planned(built)


@pytest.mark.parametrize("raw", [
    "basin_dataset_public_v1p2/basin_mean_forcing/daymet/02/02000002_lump_cida_forcing_leap.txt",
    "basin_dataset_public_v1p2/usgs_streamflow/01/01000001_streamflow_qc.txt",
])
def test_edited_raw_file_rebuilds_the_forcing_cache(built, raw):
    _edit(built / "data" / "raw" / "camels_us" / raw)
    planned = _planned(built)
    assert "build_cache" in planned and "build_attributes_cache" not in planned
    result = snakemake(built, *TARGETS, "--configfile", "by_hand.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in _planned(built)


def test_edited_attribute_table_rebuilds_the_attribute_cache(built):
    _edit(built / "data" / "raw" / "camels_us" / "camels_attributes_v2.0" / "camels_clim.txt")
    planned = _planned(built)
    assert "build_attributes_cache" in planned
