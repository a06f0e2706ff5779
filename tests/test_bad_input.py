"""The error table of the data layer: each bad input fails with a message naming file, basin and
problem, and leaves nothing half-written."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from runoffbench.data import camels_us
from runoffbench.data.cache import build_forcing_cache
from runoffbench.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[1]
BASINS = ["01000001", "02000002"]


def _forcing_file(root: Path, basin: str) -> Path:
    return camels_us.forcing_path(root, "daymet", basin)


def _build(root: Path, output: Path, basins=BASINS):
    return build_forcing_cache(root, "daymet", basins, output, "test")


def _assert_nothing_written(output: Path):
    assert not output.exists()
    assert not list(output.parent.glob(f".{output.name}*")), "temporary file left behind"


def test_missing_forcing_file(camels_tree, tmp_path):
    _forcing_file(camels_tree, "02000002").unlink()
    output = tmp_path / "out" / "daymet.nc"
    with pytest.raises(DataError, match=r"basin 02000002: no daymet forcing file .*02000002_lump_\*"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_missing_streamflow_file(camels_tree, tmp_path):
    next((camels_tree / "basin_dataset_public_v1p2" / "usgs_streamflow").rglob("01000001_*")).unlink()
    output = tmp_path / "daymet.nc"
    with pytest.raises(DataError, match=r"basin 01000001: no streamflow file"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_all_problems_reported_together(camels_tree, tmp_path):
    _forcing_file(camels_tree, "01000001").unlink()
    _forcing_file(camels_tree, "02000002").unlink()
    with pytest.raises(DataError, match=r"2 problem\(s\)(.|\n)*01000001(.|\n)*02000002"):
        _build(camels_tree, tmp_path / "daymet.nc")


def test_truncated_header(camels_tree, tmp_path):
    path = _forcing_file(camels_tree, "01000001")
    path.write_text("  44.50\n 300.00\n")
    with pytest.raises(DataError, match=rf"{path}.*truncated header"):
        camels_us.read_forcing(path)
    output = tmp_path / "daymet.nc"
    with pytest.raises(DataError, match="01000001"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_malformed_header_value(camels_tree):
    path = _forcing_file(camels_tree, "01000001")
    lines = path.read_text().splitlines()
    lines[2] = " unknown"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"latitude, elevation \[m\] and area \[m2\]"):
        camels_us.read_forcing(path)


def test_unknown_forcing_name(camels_tree, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown forcing 'daymett'.*daymet, maurer, nldas"):
        build_forcing_cache(camels_tree, "daymett", BASINS, tmp_path / "x.nc")


def test_basin_id_lost_leading_zero(camels_tree, tmp_path):
    basin_list = tmp_path / "basins.txt"
    basin_list.write_text("1000001\n")
    with pytest.raises(DataError, match=r"'1000001' has 7 digits.*'01000001'"):
        camels_us.read_basin_list(basin_list)
    with pytest.raises(DataError, match="lost its leading zero"):
        _build(camels_tree, tmp_path / "daymet.nc", basins=["1000001"])


def test_streamflow_dates_outside_forcing_period(camels_tree, tmp_path):
    path = next((camels_tree / "basin_dataset_public_v1p2" / "usgs_streamflow").rglob("01000001_*"))
    path.write_text("01000001 1990 01 01   10.00 A\n01000001 1990 01 02   11.00 A\n")
    output = tmp_path / "daymet.nc"
    with pytest.raises(DataError, match=r"basin 01000001: streamflow dates .*1990-01-01.*outside the forcing period"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_all_nan_streamflow(camels_tree, tmp_path):
    path = next((camels_tree / "basin_dataset_public_v1p2" / "usgs_streamflow").rglob("02000002_*"))
    rows = [line.split()[:4] for line in path.read_text().splitlines()]
    path.write_text("".join(" ".join(row) + "  -999.00 M\n" for row in rows))
    output = tmp_path / "daymet.nc"
    with pytest.raises(DataError, match=rf"basin 02000002: {path} has no valid streamflow"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_streamflow_file_of_another_gauge(camels_tree):
    path = next((camels_tree / "basin_dataset_public_v1p2" / "usgs_streamflow").rglob("02000002_*"))
    with pytest.raises(DataError, match=r"holds gauge id\(s\) \['02000002'\]"):
        camels_us.read_streamflow(path, 1e8, basin="01000001")


@pytest.mark.parametrize(
    ("override", "named"),
    [("experimnt=x", "'experimnt' was unexpected"), ("dataset={'nme': 'synthetic'}", "'nme'")],
)
def test_misspelled_config_key(tmp_path, override, named):
    shutil.copytree(REPO / "config", tmp_path / "config")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    shutil.copytree(REPO / "envs", tmp_path / "envs")
    shutil.copy(REPO / "Snakefile", tmp_path)
    result = subprocess.run(
        ["snakemake", "-n", "--config", override], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
