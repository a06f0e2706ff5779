"""The NWM v2.0 retrospective importer (runoffbench.models.nwm_retrospective) on tiny files in the layouts
a user downloads: hourly CHRTOUT files and a streamflow(time, feature_id) time series, mapped by a
RouteLink NetCDF or a CSV crosswalk; daily means over each basin's local standard-time day against
answers worked out by hand, unit conversion, incomplete days and the errors that name gauge and file."""

from __future__ import annotations

import copy
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from runoffbench.cli import main
from runoffbench.config_check import schema_problems
from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.errors import ConfigError, DataError
from runoffbench.models.nwm_retrospective import (
    daily_means,
    import_nwm_retrospective,
    read_crosswalk,
    utc_offsets,
)
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions, validate_predictions

BASINS = ["01000001", "02000002", "03000003"]
LON = [-70.0, -76.0, -118.0]  # offsets: longitude -5, -5, -8; local_mean -5, -6, -8
AREA = [100.0, 250.0, 500.0]
REACH = {"01000001": 101, "02000002": 202, "03000003": 303}
BASE = {101: 1.0, 202: 2.0, 303: 3.0}  # Q(t) = BASE + t, t = hours since 2000-01-01 00:00 UTC
OTHER_REACHES = [7, 999]  # reaches without a CAMELS gauge, as in a CONUS file
START = pd.Timestamp("2000-01-01 00:00")
HOURS = 144  # 2000-01-01 00:00 .. 2000-01-06 23:00 UTC
TEST = Period(pd.Timestamp("2000-01-02"), pd.Timestamp("2000-01-04"))
MISSING_FILE = 80  # the hour whose CHRTOUT file is not there: 2000-01-04 08:00 UTC
FILL_HOUR = (202, 50)  # reach 202 has a fill value at 2000-01-03 02:00 UTC


def _flow(reach: int, hour: int) -> float:
    return BASE[reach] + hour if reach in BASE else 0.5


def _expected(basin: str, day: str, offset: int, missing=()) -> float:
    """Mean of Q over the UTC hours of local day ``day`` (local = UTC + offset), by hand; NaN if any is missing."""
    first = int((pd.Timestamp(day) - START) / pd.Timedelta(hours=1)) - offset
    hours = range(first, first + 24)
    reach = REACH[basin]
    if any(h < 0 or h >= HOURS or h in missing or (reach, h) == FILL_HOUR for h in hours):
        return np.nan
    return BASE[reach] + np.mean(hours)


def _cache() -> xr.Dataset:
    dates = pd.date_range("1999-12-30", "2000-01-08", name="date")
    qobs = np.arange(len(BASINS) * dates.size, dtype="float32").reshape(len(BASINS), dates.size)
    coords = {"basin": np.array(BASINS, dtype=object), "date": dates, "lat": ("basin", [44.0, 40.0, 36.0]),
              "lon": ("basin", LON), "area": ("basin", AREA),
              "huc_02": ("basin", np.array(["01", "02", "18"], dtype=object))}
    variables = {name: (("basin", "date"), np.zeros_like(qobs)) for name in FORCING_VARIABLES}
    variables["qobs"] = (("basin", "date"), qobs, {"units": "mm/day"})
    return xr.Dataset(variables, coords=coords)


def _write_routelink(path, gauges=BASINS):
    """A RouteLink: link(feature_id) reach ids, gages(feature_id, IDLength) blank-padded site numbers."""
    links = [*OTHER_REACHES[:1], *(REACH[b] for b in gauges), OTHER_REACHES[1]]
    gages = [" " * 15, *(b.rjust(15) for b in gauges), " " * 15]
    routelink = xr.Dataset({"link": ("feature_id", np.array(links, dtype="int32")),
                            "gages": ("feature_id", np.array(gages, dtype="S15")),
                            "order": ("feature_id", np.ones(len(links), dtype="int32"))})
    routelink.to_netcdf(path, encoding={"gages": {"char_dim_name": "IDLength"}})
    return path


def _write_csv_crosswalk(path):
    """hydrotools' RouteLink_NWMv2.0.csv layout: comment lines, nwm_feature_id (a row number), link, usgs_site_code
    (a leading zero lost, as after a spreadsheet)."""
    rows = [f"{9206 + i},{REACH[b]},{b.lstrip('0') if i == 0 else b}" for i, b in enumerate(BASINS)]
    path.write_text("# Convention: CF-1.6\n# extracted from RouteLink_NWMv2.0.nc\n"
                    "nwm_feature_id,link,usgs_site_code\n" + "\n".join(rows) + "\n")
    return path


def _chrtout(hour: int, reaches) -> xr.Dataset:
    """One hourly channel file as the v2.0 retrospective writes it (streamflow packed, fill -999900)."""
    values = np.array([np.nan if (r, hour) == FILL_HOUR else _flow(r, hour) for r in reaches])
    return xr.Dataset(
        {"streamflow": ("feature_id", values, {"long_name": "River Flow", "units": "m3 s-1"}),
         "velocity": ("feature_id", np.ones(len(reaches)), {"units": "m s-1"})},
        coords={"feature_id": ("feature_id", np.array(reaches, dtype="int32")),
                "time": ("time", [START + pd.Timedelta(hours=hour)]),
                "reference_time": ("reference_time", [pd.Timestamp("1993-01-01")])},
    )


CHRTOUT_ENCODING = {
    "streamflow": {"dtype": "int32", "scale_factor": 0.01, "add_offset": 0.0, "_FillValue": -999900},
    "time": {"units": "minutes since 1970-01-01 00:00:00 UTC", "dtype": "int32"},
    "reference_time": {"units": "minutes since 1970-01-01 00:00:00 UTC", "dtype": "int32"},
}


def _write_chrtout_directory(root, reaches=None, hours=HOURS):
    reaches = reaches or [OTHER_REACHES[0], *BASE, OTHER_REACHES[1]]
    for hour in range(hours):
        if hour == MISSING_FILE:
            continue
        time = START + pd.Timedelta(hours=hour)
        folder = root / f"{time:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        _chrtout(hour, reaches).to_netcdf(folder / f"{time:%Y%m%d%H}00.CHRTOUT_DOMAIN1.comp",
                                          format="NETCDF4", encoding=CHRTOUT_ENCODING)
    return root


def _timeseries(drop_hours=(MISSING_FILE,)) -> xr.Dataset:
    hours = [h for h in range(HOURS) if h not in drop_hours]
    reaches = [*BASE, *OTHER_REACHES]
    values = np.array([[np.nan if (r, h) == FILL_HOUR else _flow(r, h) for r in reaches] for h in hours])
    return xr.Dataset({"streamflow": (("time", "feature_id"), values, {"units": "m3 s-1"})},
                      coords={"time": START + pd.to_timedelta(hours, unit="h"),
                              "feature_id": np.array(reaches, dtype="int64")})


def _mm_per_day(basin: str, flow: float) -> float:
    return flow * 86.4 / AREA[BASINS.index(basin)]


def _check_against_hand(predictions, offsets, missing=(MISSING_FILE,)):
    validate_predictions(predictions)
    assert list(predictions["basin"].values) == BASINS
    assert list(pd.DatetimeIndex(predictions["date"].values)) == list(pd.date_range(TEST.start, TEST.end))
    for basin, offset in zip(BASINS, offsets):
        for day in pd.date_range(TEST.start, TEST.end):
            expected = _mm_per_day(basin, _expected(basin, day, offset, missing))
            got = float(predictions["qsim"].sel(basin=basin, date=day))
            assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, rel=1e-6), (basin, day)


def test_utc_offsets_of_each_timezone_choice():
    lon = pd.Series([-70.0, -76.0, -84.0, -90.0, -118.0], index=list("abcde"))
    assert list(utc_offsets("longitude", lon)) == [-5, -5, -6, -6, -8]  # round(lon / 15)
    assert list(utc_offsets("local_mean", lon)) == [-5, -6, -6, -6, -8]  # floor(lon / 15): 4 min per degree
    assert list(utc_offsets("utc", lon)) == [0] * 5
    for fixed in (-6, "-6", "UTC-6", "utc-6"):
        assert list(utc_offsets(fixed, lon)) == [-6] * 5
    for bad in ("EST", "+15", "Europe/Vienna"):
        with pytest.raises(ConfigError, match="unknown timezone"):
            utc_offsets(bad, lon)
    with pytest.raises(DataError, match="longitude"):
        utc_offsets("longitude", pd.Series([np.nan], index=["x"]))


def test_daily_means_over_local_days_need_24_valid_hours():
    hours = START + pd.to_timedelta(np.arange(72), unit="h")  # 2000-01-01 00:00 .. 01-03 23:00 UTC
    values = np.arange(72, dtype=float)
    hourly = pd.DataFrame({"east": values, "utc": values, "gap": values}, index=hours)
    hourly.loc[hours[40], "gap"] = np.nan  # 2000-01-02 16:00 UTC
    daily = daily_means(hourly, {"east": -5, "utc": 0, "gap": -5})
    assert daily.index[0] == pd.Timestamp("1999-12-31") and daily.index[-1] == pd.Timestamp("2000-01-03")
    # UTC-5: 2000-01-01 local = UTC hours 5..28, mean 16.5; 1999-12-31 and 2000-01-03 lack hours
    assert daily.loc["2000-01-01", "east"] == 16.5 and daily.loc["2000-01-02", "east"] == 40.5
    assert daily[["east"]].loc[["1999-12-31", "2000-01-03"]].isna().all().all()
    assert list(daily["utc"].dropna()) == [11.5, 35.5, 59.5]  # the UTC day: hours 0..23, 24..47, 48..71
    assert daily.loc["2000-01-01", "gap"] == 16.5 and np.isnan(daily.loc["2000-01-02", "gap"])  # 23 hours: NaN
    with pytest.raises(DataError, match="duplicate hour"):
        daily_means(pd.concat([hourly, hourly.iloc[:1]]), {"east": 0, "utc": 0, "gap": 0})
    with pytest.raises(DataError, match="not whole UTC hours"):
        daily_means(hourly.set_axis(hours + pd.Timedelta(minutes=30)), {"east": 0, "utc": 0, "gap": 0})


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory):
    """The hourly files of the bucket's layout (full_physics/YYYY/...) and a RouteLink, written once."""
    root = tmp_path_factory.mktemp("nwm")
    return _write_chrtout_directory(root / "full_physics"), _write_routelink(root / "RouteLink_NWMv2.0.nc")


def test_chrtout_directory_with_routelink(downloaded):
    chrtout, routelink = downloaded
    predictions = import_nwm_retrospective(chrtout, _cache(), TEST, crosswalk=routelink, model="nwm",
                                           forcing="nldas_extended", split="newman2017")
    _check_against_hand(predictions, [-5, -5, -8])
    # spot checks by hand: basin 1 (UTC-5), 2000-01-02 = UTC hours 29..52, mean 40.5, Q = 41.5 m3/s
    assert float(predictions["qsim"].sel(basin="01000001", date="2000-01-02")) == pytest.approx(41.5 * 86.4 / 100)
    assert np.isnan(predictions["qsim"].sel(basin="02000002", date="2000-01-02"))  # the fill value at hour 50
    # the missing file, hour 80 (2000-01-04 08:00 UTC): 03:00 local of 2000-01-04 at UTC-5 (hours 77..100),
    # 00:00 local of 2000-01-04 at UTC-8 (hours 80..103); 2000-01-03 at UTC-8 is hours 56..79, complete
    assert np.isnan(predictions["qsim"].sel(basin="01000001", date="2000-01-04"))
    assert np.isnan(predictions["qsim"].sel(basin="03000003", date="2000-01-04"))
    assert float(predictions["qsim"].sel(basin="03000003", date="2000-01-03")) == pytest.approx(
        (3.0 + 67.5) * 86.4 / 500)
    np.testing.assert_array_equal(predictions["qobs"].values,
                                  _cache()["qobs"].sel(date=slice(TEST.start, TEST.end)).values)
    assert predictions.attrs["source_units"] == "m3/s" and predictions.attrs["timezone"] == "longitude"


def test_timeseries_netcdf_with_csv_crosswalk_matches_the_hourly_files(tmp_path):
    _timeseries().to_netcdf(tmp_path / "nwm_v2_camels.nc")
    crosswalk = _write_csv_crosswalk(tmp_path / "RouteLink_NWMv2.0.csv")
    table = read_crosswalk(crosswalk)
    assert dict(zip(table["gauge"], table["feature_id"])) == REACH  # link, not the row number; zero-padded id
    predictions = import_nwm_retrospective(tmp_path / "nwm_v2_camels.nc", _cache(), TEST, crosswalk=crosswalk,
                                           model="nwm", forcing="nldas_extended", split="s", timezone="local_mean")
    _check_against_hand(predictions, [-5, -6, -8])
    # 03000003 at UTC-8, 2000-01-03 = UTC hours 56..79 (the missing hour 80 is the next day's)
    expected = (3.0 + np.mean(range(56, 80))) * 86.4 / 500
    assert float(predictions["qsim"].sel(basin="03000003", date="2000-01-03")) == pytest.approx(expected)


def test_timezone_moves_the_day(tmp_path):
    _timeseries(drop_hours=()).to_netcdf(tmp_path / "series.nc")
    routelink = _write_routelink(tmp_path / "RouteLink.nc")
    runs = {tz: import_nwm_retrospective(tmp_path / "series.nc", _cache(), TEST, crosswalk=routelink, model="nwm",
                                         forcing="f", split="s", timezone=tz) for tz in ("utc", "longitude", -6)}
    _check_against_hand(runs["utc"], [0, 0, 0], missing=())
    _check_against_hand(runs["longitude"], [-5, -5, -8], missing=())
    _check_against_hand(runs[-6], [-6, -6, -6], missing=())
    # a day later in UTC by |offset| hours: the mean of t rises by exactly 5 h (basin 1) and 8 h (basin 3)
    difference = (runs["longitude"]["qsim"] - runs["utc"]["qsim"]).sel(date="2000-01-04").values
    np.testing.assert_allclose(difference, [5 * 86.4 / 100, 5 * 86.4 / 250, 8 * 86.4 / 500], rtol=1e-6)


def test_zarr_store(tmp_path):
    pytest.importorskip("zarr")
    _timeseries().to_zarr(tmp_path / "nwm.zarr")
    predictions = import_nwm_retrospective(tmp_path / "nwm.zarr", _cache(), TEST,
                                           crosswalk=_write_routelink(tmp_path / "rl.nc"), model="nwm",
                                           forcing="f", split="s")
    _check_against_hand(predictions, [-5, -5, -8])


def test_errors_name_the_gauge_and_the_file(tmp_path):
    cache = _cache()
    _timeseries().to_netcdf(tmp_path / "series.nc")
    partial = _write_routelink(tmp_path / "RouteLink_partial.nc", gauges=BASINS[:2])
    with pytest.raises(DataError, match=r"RouteLink_partial.nc has no reach .* \['03000003'\]"):
        import_nwm_retrospective(tmp_path / "series.nc", cache, TEST, crosswalk=partial, model="nwm",
                                 forcing="f", split="s")
    (tmp_path / "extra.csv").write_text("gauge,feature_id\n01000001,101\n02000002,202\n03000003,404\n")
    with pytest.raises(DataError, match=r"series.nc has no streamflow .* \{'03000003': 404\}"):
        import_nwm_retrospective(tmp_path / "series.nc", cache, TEST, crosswalk=tmp_path / "extra.csv",
                                 model="nwm", forcing="f", split="s")
    _write_chrtout_directory(tmp_path / "chrtout", reaches=[101, 202], hours=3)
    with pytest.raises(DataError, match=r"chrtout: the reach\(es\) \(feature_id\) \[303\] are in none"):
        import_nwm_retrospective(tmp_path / "chrtout", cache, TEST, crosswalk=_write_routelink(tmp_path / "rl.nc"),
                                 model="nwm", forcing="f", split="s")
    (tmp_path / "twice.csv").write_text("site_no,feature_id\n01000001,101\n01000001,102\n02000002,202\n"
                                        "03000003,303\n")
    with pytest.raises(DataError, match=r"several reaches for gauge\(s\) \{'01000001': \[101, 102\]\}"):
        import_nwm_retrospective(tmp_path / "series.nc", cache, TEST, crosswalk=tmp_path / "twice.csv",
                                 model="nwm", forcing="f", split="s")
    (tmp_path / "bad.csv").write_text("station,reach\n01000001,101\n")
    with pytest.raises(DataError, match=r"bad.csv: needs a gauge column"):
        read_crosswalk(tmp_path / "bad.csv")
    late = Period(pd.Timestamp("2000-01-04"), pd.Timestamp("2000-01-07"))  # the last (local) day is 2000-01-06
    with pytest.raises(DataError, match=r"series.nc lacks 1 day\(s\) of the test period"):
        import_nwm_retrospective(tmp_path / "series.nc", cache, late, crosswalk=_write_routelink(tmp_path / "r.nc"),
                                 model="nwm", forcing="f", split="s")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no CHRTOUT files"):
        import_nwm_retrospective(tmp_path / "empty", cache, TEST, crosswalk=tmp_path / "r.nc", model="nwm",
                                 forcing="f", split="s")


def test_cli_writes_the_prediction_file(tmp_path, capsys, downloaded):
    chrtout, routelink = downloaded
    _cache().to_netcdf(tmp_path / "cache.nc")
    output = tmp_path / "runs" / "nwm" / "predictions.nc"
    periods = '{"train": {"start": "1999-12-30", "end": "2000-01-01"}, "test": {"start": "2000-01-02", ' \
              '"end": "2000-01-04"}}'
    assert main(["import-simulation", str(chrtout), "--format", "nwm_retrospective", "--crosswalk",
                 str(routelink), "--timezone", "UTC-6", "--variable", "qsim", "--units",
                 "mm/day", "--cache", str(tmp_path / "cache.nc"), "--model", "nwm", "--forcing", "nldas_extended",
                 "--split", "s", "--periods", periods, "--output", str(output)]) == 0
    _check_against_hand(read_predictions(output), [-6, -6, -6])
    assert main(["import-simulation", str(chrtout), "--format", "nwm_retrospective", "--cache",
                 str(tmp_path / "cache.nc"), "--model", "nwm", "--forcing", "f", "--split", "s", "--periods", periods,
                 "--output", str(output)]) != 0
    assert "--format nwm_retrospective needs --crosswalk" in capsys.readouterr().err


SCHEMA = "workflow/schemas/config.schema.yaml"


def _config_with(entry):
    from tests.test_config_check import DEFAULT

    config = copy.deepcopy(DEFAULT)
    config["models"]["nwm"] = entry
    return config


def test_schema_needs_a_crosswalk_and_a_known_timezone():
    from tests.test_config_check import REPO

    entry = {"kind": "external", "format": "nwm_retrospective", "path": "data/raw/nwm/CHRTOUT",
             "crosswalk": "data/raw/nwm/RouteLink_NWMv2.0.nc", "forcing": "daymet"}
    assert schema_problems(_config_with(entry), REPO / SCHEMA) == []
    for timezone in ("local_mean", "utc", -6, "UTC-6"):
        assert schema_problems(_config_with({**entry, "timezone": timezone}), REPO / SCHEMA) == []
    without = {k: v for k, v in entry.items() if k != "crosswalk"}
    assert any("models.nwm" in p and "'crosswalk' is a required property" in p
               for p in schema_problems(_config_with(without), REPO / SCHEMA))
    assert any("models.nwm.timezone" in p for p in schema_problems(_config_with({**entry, "timezone": "EST"}),
                                                                    REPO / SCHEMA))


@pytest.mark.slow
def test_the_rule_passes_format_crosswalk_and_timezone(tmp_path):
    from tests.test_workflow import copy_workflow

    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "nwm").mkdir()
    (workdir / "nwm" / "RouteLink_NWMv2.0.nc").write_bytes(b"")
    entry = {"kind": "external", "format": "nwm_retrospective", "path": "nwm", "forcing": "daymet",
             "crosswalk": "nwm/RouteLink_NWMv2.0.nc", "timezone": "local_mean", "splits": ["kratzert2019"]}
    (workdir / "nwm.yaml").write_text(yaml.safe_dump(_config_with(entry)))
    target = "results/default/runs/nwm/daymet/kratzert2019/0/predictions.nc"
    result = subprocess.run(["snakemake", "-n", "-p", target, "--configfile", "nwm.yaml"], cwd=workdir,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert ("--format nwm_retrospective --crosswalk nwm/RouteLink_NWMv2.0.nc --timezone local_mean"
            in result.stdout), result.stdout[-3000:]
