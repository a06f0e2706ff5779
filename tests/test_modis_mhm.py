"""The two external inputs of Feng et al. 2022 in their real formats: MOD16A2 8-day basin-mean ET per
CAMELS basin (runoffbench.data.modis_et: units, scale, composites, basin set, period) and the mHM
discharge outputs of Rakovec et al. 2019 (runoffbench.models.mhm: daily_discharge.out, discharge.nc,
m3/s -> mm/day, basins, period); every bad input is a DataError naming file and problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.cli import main
from runoffbench.data.modis_et import composite_days, composite_means, read_basin_file, read_modis_et
from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.errors import DataError
from runoffbench.models.mhm import import_mhm, read_mhm_discharge
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions
from tests.feng_files import MODIS_HEADER, modis_starts, write_mhm_netcdf, write_mhm_text, write_modis_file

BASINS = ["01013500", "02011400", "03015500"]
HUC = {"01013500": "01", "02011400": "02", "03015500": "03"}
AREA = {"01013500": 100.0, "02011400": 250.0, "03015500": 500.0}
PERIOD = Period(pd.Timestamp("2003-10-01"), pd.Timestamp("2005-09-30"))


def _modis(tmp_path, basins=BASINS, start="2002-01-01", end="2006-12-31", **options) -> Path:
    starts = modis_starts(start, end)
    for i, basin in enumerate(basins):
        daily = 1.0 + i + np.sin(2 * np.pi * starts.day_of_year.to_numpy() / 365.0)
        write_modis_file(tmp_path / "modiset4camels", basin, HUC[basin], starts, daily, **options)
    return tmp_path / "modiset4camels"


def test_composites_the_last_of_a_year_is_shorter():
    starts = modis_starts("2004-01-01", "2005-01-09")
    assert starts[-3:].strftime("%Y-%m-%d").tolist() == ["2004-12-26", "2005-01-01", "2005-01-09"]
    assert composite_days(starts)[-3:].tolist() == [6, 8, 8]  # 2004 is a leap year: 366 - 360 = 6
    assert composite_days(modis_starts("2003-12-27", "2003-12-31")).tolist() == [5]


def test_basin_means_in_mm_per_day_of_each_composite(tmp_path):
    folder = _modis(tmp_path)
    et = read_modis_et(folder, BASINS, PERIOD)
    assert et["et"].dims == ("basin", "date") and list(et["basin"].values) == BASINS
    starts = pd.DatetimeIndex(et["date"].values)
    assert starts[0] == pd.Timestamp("2003-10-08") and starts[-1] <= PERIOD.end  # composites starting in the period
    expected = 2.0 + np.sin(2 * np.pi * starts.day_of_year.to_numpy() / 365.0)
    np.testing.assert_allclose(et["et"].sel(basin="02011400").values, expected, rtol=1e-5)
    # stored: 0.1 mm per composite; the file of basin 1 on 2004-12-26 (6 days) holds mean * 6 * 10
    raw = pd.read_csv(next(folder.rglob("01013500_*.txt")))
    row = raw[(raw["Year"] == 2004) & (raw["Mnth"] == 12) & (raw["Day"] == 26)]
    assert float(row["ET(kg/m^2/8day)"].iloc[0]) / 60.0 == pytest.approx(
        float(et["et"].sel(basin="01013500", date="2004-12-26")), rel=1e-4)


def test_fill_codes_and_empty_values_are_missing(tmp_path):
    folder = _modis(tmp_path, basins=BASINS[:1])
    file = next(folder.rglob("*.txt"))
    lines = file.read_text().splitlines()
    lines[5] = ",".join(lines[5].split(",")[:4] + ["32767"] + lines[5].split(",")[5:])
    lines[6] = ",".join(lines[6].split(",")[:4] + [""] + lines[6].split(",")[5:])
    file.write_text("\n".join(lines) + "\n")
    series = read_basin_file(file)
    assert series.iloc[[4, 5]].isna().all() and series.drop(series.index[[4, 5]]).notna().all()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda text: text.replace("ET(kg/m^2/8day)", "ET(W/m^2)"), r"ET is in 'W/m\^2'; expected kg/m\^2/8day"),
    (lambda text: text.replace("2002,1,9,", "2002,1,10,"), r"no MOD16A2 composite start .* first 2002-01-10"),
    (lambda text: text.replace("Mnth", "Month"), r"expected Year, Mnth, Day and ET"),
])
def test_another_unit_or_product_names_the_file(tmp_path, edit, message):
    folder = _modis(tmp_path, basins=BASINS[:1])
    file = next(folder.rglob("*.txt"))
    file.write_text(edit(file.read_text()))
    with pytest.raises(DataError, match=message) as error:
        read_modis_et(folder, BASINS[:1], PERIOD)
    assert file.name in str(error.value)


def test_values_of_another_scale_are_refused(tmp_path):
    folder = _modis(tmp_path, basins=BASINS[:1])
    with pytest.raises(DataError, match=r"mm/day on 2002-01-01 is no evapotranspiration; are the values scaled"):
        read_modis_et(folder, BASINS[:1], PERIOD, scale=10.0)
    assert read_modis_et(folder, BASINS[:1], PERIOD, scale=0.1)["et"].notnull().all()


def test_another_basin_set_is_named_or_skipped(tmp_path):
    folder = _modis(tmp_path, basins=BASINS[:2])
    with pytest.raises(DataError, match=r"1 of 3 basin\(s\) have no file \(03015500\); another basin set"):
        read_modis_et(folder, BASINS, PERIOD)
    skipped = read_modis_et(folder, BASINS, PERIOD, missing_basins="skip")
    assert list(skipped["basin"].values) == BASINS[:2] and skipped.attrs["missing_basins"] == "03015500"
    with pytest.raises(DataError, match=r"2 of 2 basin\(s\) have no file"):  # nothing in common
        read_modis_et(folder, ["09000009", "10000010"], PERIOD, missing_basins="skip")


def test_another_period_is_named(tmp_path):
    folder = _modis(tmp_path, start="2004-06-01")
    with pytest.raises(DataError, match=r"lacks \d+ composite\(s\) of the period 2003-10-08\.\.2005-09-30 \(first "
                                        r"2003-10-08; the file covers 2004-06-01\.\.2006-12-27\): another period"):
        read_modis_et(folder, BASINS, PERIOD)
    with pytest.raises(DataError, match=r"ends before the MOD16A2 record starts \(2001-01-01\)"):
        read_modis_et(folder, BASINS, Period(pd.Timestamp("1989-10-01"), pd.Timestamp("1999-09-30")))


def test_a_period_before_2001_starts_with_the_record(tmp_path):
    folder = _modis(tmp_path, start="2001-01-01", end="2005-12-31")
    et = read_modis_et(folder, BASINS, Period(pd.Timestamp("1995-10-01"), pd.Timestamp("2002-09-30")))
    assert pd.Timestamp(et["date"].values[0]) == pd.Timestamp("2001-01-01")


def test_composite_means_of_daily_values():
    days = pd.date_range("2004-12-20", "2005-01-16")
    daily = pd.DataFrame({"a": np.arange(days.size, dtype=float)}, index=days)
    means = composite_means(daily, modis_starts("2004-12-26", "2005-01-09"))
    assert means["a"].tolist() == [np.mean(range(6, 12)), np.mean(range(12, 20)), np.mean(range(20, 28))]
    assert composite_means(daily, modis_starts("2005-01-09", "2005-01-17"))["a"].isna().tolist() == [False, True]


# -- mHM -----------------------------------------------------------------------------------------------

DAYS = pd.date_range("2001-10-01", "2001-10-10")
TEST = Period(pd.Timestamp("2001-10-02"), pd.Timestamp("2001-10-09"))


def _cache(basins=BASINS) -> xr.Dataset:
    qobs = np.ones((len(basins), DAYS.size), "float32")
    coords = {"basin": np.array(basins, dtype=object), "date": DAYS, "area": ("basin", [AREA[b] for b in basins])}
    variables = {name: (("basin", "date"), np.zeros_like(qobs)) for name in FORCING_VARIABLES}
    variables["qobs"] = (("basin", "date"), qobs, {"units": "mm/day"})
    return xr.Dataset(variables, coords=coords)


def _flows(basins=BASINS, days=DAYS) -> pd.DataFrame:
    return pd.DataFrame({b: 1.0 + i + np.arange(days.size) / 10.0 for i, b in enumerate(basins)}, index=days)


@pytest.mark.parametrize("writer", [write_mhm_text, write_mhm_netcdf])
def test_mhm_outputs_become_mm_per_day_with_the_cache_area(tmp_path, writer):
    flows = _flows()
    for basin in BASINS:  # one mHM run per basin, as Rakovec et al. ran them
        writer(tmp_path / "mhm" / basin / "output", flows[[basin]])
    predictions = import_mhm(tmp_path / "mhm", _cache(), TEST, model="mhm", forcing="daymet", split="s")
    assert list(predictions["basin"].values) == BASINS and predictions.sizes["date"] == 8
    expected = flows.loc[TEST.start : TEST.end, "02011400"].to_numpy() * 86.4 / AREA["02011400"]
    np.testing.assert_allclose(predictions["qsim"].sel(basin="02011400").values, expected, rtol=1e-5)
    assert predictions.attrs["source_units"] == "m3/s" and predictions.attrs["missing_basins"] == ""


def test_one_file_with_several_gauges_and_both_files_in_a_folder(tmp_path):
    write_mhm_text(tmp_path / "run", _flows() * 2)     # the NetCDF of the same folder wins
    write_mhm_netcdf(tmp_path / "run", _flows())
    table = read_mhm_discharge(tmp_path / "run")
    assert list(table.columns) == BASINS and table.index.equals(pd.DatetimeIndex(DAYS, name="date"))
    np.testing.assert_allclose(table.to_numpy(), _flows().to_numpy())
    text = tmp_path / "run" / "daily_discharge.out"
    assert text.read_text().split()[:6] == ["No", "Day", "Mon", "Year", "Qobs_0001013500", "Qsim_0001013500"]
    np.testing.assert_allclose(read_mhm_discharge(text).to_numpy(), 2 * _flows().to_numpy())


def test_mhm_missing_basins_nodata_period_and_units(tmp_path):
    flows = _flows(BASINS[:2])
    flows.iloc[3, 1] = np.nan  # nodata -9999 on an observed test day
    write_mhm_text(tmp_path / "a", flows)
    with pytest.raises(DataError, match=r"1 basin\(s\) of the cache are not in the mHM files \(03015500\); "
                                        r"1 basin\(s\) lack simulated flow on observed test days \(02011400\)"):
        import_mhm(tmp_path / "a", _cache(), TEST, model="mhm", forcing="daymet", split="s")
    kept = import_mhm(tmp_path / "a", _cache(), TEST, model="mhm", forcing="daymet", split="s", missing_basins="skip")
    assert list(kept["basin"].values) == ["01013500"] and kept.attrs["missing_basins"] == "02011400 03015500"
    write_mhm_text(tmp_path / "b", _flows(days=pd.date_range("2001-10-05", "2001-10-20")))
    with pytest.raises(DataError, match=r"lacks 3 day\(s\) of the test period .* the files cover 2001-10-05"):
        import_mhm(tmp_path / "b", _cache(), TEST, model="mhm", forcing="daymet", split="s")
    write_mhm_netcdf(tmp_path / "c", _flows(), units="mm d-1")
    with pytest.raises(DataError, match=r"discharge.nc: Qsim_0001013500 has units 'mm d-1', expected m3 s-1"):
        read_mhm_discharge(tmp_path / "c")
    write_mhm_netcdf(tmp_path / "d" / "x", _flows())
    write_mhm_netcdf(tmp_path / "d" / "y", _flows(BASINS[:1]))
    with pytest.raises(DataError, match=r"basin 01013500 is in .*x/discharge.nc and in .*y/discharge.nc"):
        read_mhm_discharge(tmp_path / "d")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no discharge.nc or daily_discharge.out below it"):
        read_mhm_discharge(tmp_path / "empty")


def test_import_simulation_cli_format_mhm(tmp_path):
    write_mhm_netcdf(tmp_path / "mhm", _flows())
    _cache().to_netcdf(tmp_path / "daymet.nc")
    periods = ('{"train": {"start": "2001-10-01", "end": "2001-10-01"}, '
               '"test": {"start": "2001-10-02", "end": "2001-10-09"}}')
    output = tmp_path / "runs" / "predictions.nc"
    assert main(["import-simulation", str(tmp_path / "mhm"), "--format", "mhm", "--cache", str(tmp_path / "daymet.nc"),
                 "--model", "mhm", "--forcing", "daymet", "--split", "s", "--periods", periods,
                 "--output", str(output)]) == 0
    assert read_predictions(output).sizes == {"basin": 3, "date": 8}


def test_modis_header_is_the_hydrodataset_layout():
    assert MODIS_HEADER.split(",")[:5] == ["Year", "Mnth", "Day", "Hr", "ET(kg/m^2/8day)"]


def test_config_entry_of_format_mhm():
    import yaml

    from runoffbench.config_check import schema_problems

    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    config["models"]["mhm"] = {"kind": "external", "format": "mhm", "path": "data/raw/mhm", "forcing": "daymet",
                               "missing_basins": "skip"}
    assert schema_problems(config, repo / "workflow" / "schemas" / "config.schema.yaml") == []
