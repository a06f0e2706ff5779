"""The error table of the data layer: each bad input fails with a message naming file, basin and
problem, and leaves nothing half-written."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
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


# --------------------------------------------------------------------------- forcing values and dates
# The bad-input table of the forcing files: one edit of basin 01000001's Daymet file per row, the
# message it must produce (file, basin, line, date, value) and nothing written. The tree's file
# has 4 header lines, then one row per day from 2000-01-01 (so the row of day d is line 5 + d).

FORCING_COLUMNS = ["year", "month", "day", "hr", "dayl", "prcp", "srad", "swe", "tmax", "tmin", "vp"]
DAY = "2001-03-05"
DAY_LINE = 5 + (pd.Timestamp(DAY) - pd.Timestamp("2000-01-01")).days  # 434


def _edit_rows(path: Path, edit) -> None:
    """Rewrite the data rows of a forcing file: ``edit(rows)`` gets and returns lists of fields."""
    lines = path.read_text().splitlines()
    rows = [line.split() for line in lines[4:]]
    path.write_text("\n".join(lines[:4] + ["\t".join(row) for row in edit(rows)]) + "\n")


def _set(column: str, value: str, day: str = DAY):
    def edit(rows):
        for row in rows:
            if pd.Timestamp(int(row[0]), int(row[1]), int(row[2])) == pd.Timestamp(day):
                row[FORCING_COLUMNS.index(column)] = value
        return rows

    return edit


def _drop(first: str, days: int):
    start = (pd.Timestamp(first) - pd.Timestamp("2000-01-01")).days
    return lambda rows: rows[:start] + rows[start + days:]


def _duplicate(day: str = DAY):
    index = (pd.Timestamp(day) - pd.Timestamp("2000-01-01")).days
    return lambda rows: rows[: index + 1] + [list(rows[index])] + rows[index + 1:]


def _swap(day: str = DAY):
    index = (pd.Timestamp(day) - pd.Timestamp("2000-01-01")).days
    return lambda rows: rows[:index] + [rows[index + 1], rows[index]] + rows[index + 2:]


def _cut_last_field(day: str = DAY):
    index = (pd.Timestamp(day) - pd.Timestamp("2000-01-01")).days

    def edit(rows):
        rows[index] = rows[index][:-1]
        return rows

    return edit


def _extra_field(day: str = DAY):
    index = (pd.Timestamp(day) - pd.Timestamp("2000-01-01")).days

    def edit(rows):
        rows[index] = rows[index] + ["7.00"]
        return rows

    return edit


def _tmin_above_tmax(rows):
    return _set("tmin", "8.00")(_set("tmax", "5.00")(rows))


BAD_FORCING = {
    "negative precipitation": (
        _set("prcp", "-50.00"), rf"line {DAY_LINE} \({DAY}\): prcp = -50(\.0)? mm/day is negative"
    ),
    "precipitation sentinel": (
        _set("prcp", "-999.00"), rf"line {DAY_LINE} \({DAY}\): prcp = -999(\.0)? .*missing-value sentinel"
    ),
    "temperature sentinel": (
        _set("tmax", "-999.00"), rf"line {DAY_LINE} \({DAY}\): tmax = -999(\.0)? .*missing-value sentinel"
    ),
    "tmin above tmax": (
        _tmin_above_tmax, rf"line {DAY_LINE} \({DAY}\): tmin = 8(\.0)? degC exceeds tmax = 5(\.0)? degC"
    ),
    "tmax out of range": (
        _set("tmax", "75.00"), rf"line {DAY_LINE} \({DAY}\): tmax = 75(\.0)? degC .*outside \[-90, 60\]"
    ),
    "negative radiation": (_set("srad", "-5.00"), rf"line {DAY_LINE} \({DAY}\): srad = -5(\.0)? W/m2 is negative"),
    "radiation too high": (_set("srad", "5000.00"), rf"line {DAY_LINE} \({DAY}\): srad = 5000(\.0)? W/m2 .*outside"),
    "negative vapour pressure": (_set("vp", "-1.00"), rf"line {DAY_LINE} \({DAY}\): vp = -1(\.0)? Pa is negative"),
    "day longer than 24 h": (
        _set("dayl", "90000.00"), rf"line {DAY_LINE} \({DAY}\): dayl = 90000(\.0)? s .*outside \[0, 86400\]"
    ),
    "negative swe": (_set("swe", "-3.00"), rf"line {DAY_LINE} \({DAY}\): swe = -3(\.0)? mm .*negative"),
    "non-numeric value": (_set("prcp", "abc"), rf"line {DAY_LINE}: prcp value 'abc' is not a number"),
    "empty value": (_set("vp", "NaN"), rf"line {DAY_LINE} \({DAY}\): vp has no value"),
    "short row": (_cut_last_field(), rf"line {DAY_LINE} has 10 fields, expected 11"),
    "long row": (_extra_field(), rf"line {DAY_LINE} has 12 fields, expected 11"),
    "invalid date": (_set("month", "02", "2001-01-30"), r"line 400: 2001-02-30 is not a valid date"),
    "duplicate date": (_duplicate(), rf"line {DAY_LINE + 1}: date {DAY} repeats line {DAY_LINE}"),
    "dates out of order": (_swap(), rf"line {DAY_LINE + 1}: date {DAY} follows 2001-03-06"),
    "one missing day": (_drop(DAY, 1), rf"1 day missing.*{DAY}"),
    "101-day gap": (_drop("2001-02-01", 101), r"101 days missing.*2001-02-01\.\.2001-05-12"),
}


@pytest.mark.parametrize("case", list(BAD_FORCING))
def test_bad_forcing_values_table(camels_tree, tmp_path, case):
    edit, message = BAD_FORCING[case]
    path = _forcing_file(camels_tree, "01000001")
    _edit_rows(path, edit)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}(.|\n)*{message}"):
        camels_us.read_forcing(path, "daymet")
    output = tmp_path / "out" / "daymet.nc"
    with pytest.raises(DataError, match=rf"basin 01000001(.|\n)*{re.escape(str(path))}(.|\n)*{message}"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_rounding_of_tmax_equal_tmin_passes(camels_tree, tmp_path):
    """Tmax == Tmin (the v1p2 Maurer/NLDAS daily means) and Tmin above Tmax by one rounding step pass."""
    path = _forcing_file(camels_tree, "01000001")
    _edit_rows(path, lambda rows: [row[:8] + [row[8], row[8], row[10]] for row in rows])
    _edit_rows(path, lambda rows: _set("tmin", "5.01")(_set("tmax", "5.00")(rows)))
    table, _ = camels_us.read_forcing(path)
    assert table.loc[DAY, "tmin"] - table.loc[DAY, "tmax"] == pytest.approx(0.01)
    _build(camels_tree, tmp_path / "daymet.nc")


def test_several_bad_values_are_counted(camels_tree):
    path = _forcing_file(camels_tree, "01000001")
    _edit_rows(path, lambda rows: _set("prcp", "-1.00", "2001-03-07")(_set("prcp", "-2.00")(rows)))
    with pytest.raises(DataError, match=rf"prcp is negative on 2 days, first line {DAY_LINE} \({DAY}\)"):
        camels_us.read_forcing(path)


# --------------------------------------------------------------------------- streamflow values and dates


def _flow_file(root: Path, basin: str) -> Path:
    return next((root / "basin_dataset_public_v1p2" / "usgs_streamflow").rglob(f"{basin}_*"))


def _edit_flow(path: Path, edit) -> None:
    rows = [line.split() for line in path.read_text().splitlines()]
    path.write_text("".join(" ".join(row) + "\n" for row in edit(rows)))


FLOW_DAY_LINE = 1 + (pd.Timestamp(DAY) - pd.Timestamp("2000-01-01")).days
BAD_FLOW = {
    "negative flow": (lambda rows: [r if i != FLOW_DAY_LINE - 1 else r[:4] + ["-50.00", "A"]
                                    for i, r in enumerate(rows)],
                      rf"line {FLOW_DAY_LINE} \({DAY}\): streamflow -50(\.0)? cfs is negative"),
    "non-numeric flow": (lambda rows: [r if i != FLOW_DAY_LINE - 1 else r[:4] + ["12,5", "A"]
                                       for i, r in enumerate(rows)],
                         rf"line {FLOW_DAY_LINE}: streamflow value '12,5' is not a number"),
    "duplicate flow date": (lambda rows: rows[:FLOW_DAY_LINE] + [rows[FLOW_DAY_LINE - 1]] + rows[FLOW_DAY_LINE:],
                            rf"line {FLOW_DAY_LINE + 1}: date {DAY} repeats line {FLOW_DAY_LINE}"),
}


@pytest.mark.parametrize("case", list(BAD_FLOW))
def test_bad_streamflow_table(camels_tree, tmp_path, case):
    edit, message = BAD_FLOW[case]
    path = _flow_file(camels_tree, "01000001")
    _edit_flow(path, edit)
    output = tmp_path / "daymet.nc"
    with pytest.raises(DataError, match=rf"basin 01000001(.|\n)*{re.escape(str(path))}(.|\n)*{message}"):
        _build(camels_tree, output)
    _assert_nothing_written(output)


def test_missing_streamflow_is_masked_counted_and_logged(camels_tree, tmp_path, caplog):
    """-999 (flag M) and days the file does not list are CAMELS's real gaps: NaN in the cache, with
    a warning giving their count per basin in the build log."""
    path = _flow_file(camels_tree, "02000002")
    _edit_flow(path, lambda rows: rows[:400] + rows[500:])  # 100 days not listed at all
    with caplog.at_level(logging.INFO, logger="runoffbench.data.cache"):
        _build(camels_tree, tmp_path / "daymet.nc")
    text = caplog.text
    missing_999 = len(range(0, 1096, 97))
    assert re.search(rf"basin 01000001: streamflow missing on {missing_999} of 1096 days \({missing_999} -999/M\)",
                     text)
    listed_999 = len([i for i in range(0, 1096, 97) if not 400 <= i < 500])
    assert re.search(
        rf"basin 02000002: streamflow missing on {listed_999 + 100} of 1096 days \({listed_999} -999/M, "
        r"100 not listed in the file, first 2001-02-04\)", text)
    summary = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(summary) == 1 and re.search(
        rf"streamflow missing .* on {missing_999 + listed_999 + 100} of 2192 basin-days in 2 of 2 basins",
        summary[0].getMessage())


def test_forcing_and_streamflow_without_rows(camels_tree, tmp_path):
    path = _forcing_file(camels_tree, "01000001")
    path.write_text("\n".join(path.read_text().splitlines()[:4]) + "\n")
    with pytest.raises(DataError, match=rf"basin 01000001: {re.escape(str(path))}: no data rows"):
        camels_us.read_forcing(path)
    flow = _flow_file(camels_tree, "02000002")
    flow.write_text("")
    output = tmp_path / "daymet.nc"
    with pytest.raises(DataError, match=r"2 problem\(s\)(.|\n)*01000001.*no data rows(.|\n)*02000002.*no data rows"):
        _build(camels_tree, output)
    _assert_nothing_written(output)
