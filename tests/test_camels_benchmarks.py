"""The CAMELS benchmark model simulations of Kratzert et al. (2019) in their released format (one
``<gauge_id>_benchmark_models.nc`` per basin: a pandas frame of QObs and the models, dimension
``index`` CF-encoded as days since 1989-10-01; the runs' pickles ``<model>_seed<N>.p``) become
prediction files with the right values, units and basins, and every bad input is a DataError naming
its file and basin."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from runoffbench.cli import main
from runoffbench.config_check import schema_problems
from runoffbench.data.camels_us import read_basin_list
from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.errors import ConfigError, DataError
from runoffbench.models.camels_benchmarks import (
    BENCHMARK_MODELS,
    benchmark_basins,
    benchmark_name,
    import_benchmark,
    read_benchmark,
)
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions

REPO = Path(__file__).resolve().parents[1]
BASINS = ["01013500", "02011400", "03015500"]
AREA = {"01013500": 100.0, "02011400": 250.0, "03015500": 500.0}
DAYS = pd.date_range("1989-10-01", "1989-10-06")  # what the files hold (the release: ..1999-09-30)
TEST = Period(pd.Timestamp("1989-10-01"), pd.Timestamp("1989-10-05"))


def _flows(basin: str, offset: float, days: int = DAYS.size) -> np.ndarray:
    return offset + np.arange(days) + int(basin[:2]) * 10.0


def write_basin(folder: Path, basin: str, models=BENCHMARK_MODELS, days=DAYS, units: dict | None = None,
                name: str | None = None, edit=None) -> Path:
    """One file as the release has it: ``xarray.Dataset.from_dataframe`` of a date-indexed frame."""
    frame = pd.DataFrame({"QObs": _flows(basin, 1.0, len(days))}, index=days)
    for i, model in enumerate(models):
        frame[model] = _flows(basin, 2.0 + i, len(days))
    if edit:
        edit(frame)
    dataset = xr.Dataset.from_dataframe(frame)
    for variable, unit in (units or {}).items():
        dataset[variable].attrs["units"] = unit
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{basin}_benchmark_models.nc")
    dataset.to_netcdf(path)
    return path


def make_cache(basins=BASINS) -> xr.Dataset:
    dates = pd.date_range("1989-10-01", "1989-10-10", name="date")
    qobs = np.stack([np.full(dates.size, 0.5 + i) for i in range(len(basins))]).astype("float32")
    coords = {"basin": np.array(basins, dtype=object), "date": dates, "area": ("basin", [AREA[b] for b in basins])}
    variables = {name: (("basin", "date"), np.zeros_like(qobs)) for name in FORCING_VARIABLES}
    variables["qobs"] = (("basin", "date"), qobs, {"units": "mm/day"})
    return xr.Dataset(variables, coords=coords)


def _import(path, cache=None, **options):
    options.setdefault("benchmark", "vic_basin")
    return import_benchmark(path, make_cache() if cache is None else cache, TEST, model="vic", forcing="maurer",
                            split="kratzert2019", **options)


@pytest.fixture
def release(tmp_path) -> Path:
    folder = tmp_path / "netcdf"
    for basin in BASINS:
        write_basin(folder, basin)
    return folder


def test_the_files_are_written_as_the_release_encodes_them(release):
    with xr.open_dataset(release / "01013500_benchmark_models.nc", decode_times=False) as raw:
        assert raw["index"].attrs["units"].startswith("days since 1989-10-01")  # dates = 1989-10-01 + index
        assert list(raw.data_vars) == ["QObs", *BENCHMARK_MODELS]


def test_names_case_and_prefix_are_optional():
    assert benchmark_name("vic_basin") == "VIC_basin"
    assert benchmark_name("MHM_CONUS") == "mHm_conus"
    assert benchmark_name("fuse_900") == benchmark_name("q_sim_fuse_900") == "q_sim_fuse_900"
    with pytest.raises(ConfigError, match=r"unknown CAMELS benchmark model 'vic'; the release has SAC_SMA"):
        benchmark_name("vic")


def test_values_over_the_test_period_with_qobs_from_the_cache(release):
    predictions = _import(release)
    assert list(predictions["basin"].values) == BASINS
    assert list(pd.DatetimeIndex(predictions["date"].values)) == list(TEST.dates)
    column = BENCHMARK_MODELS.index("VIC_basin")
    for basin in BASINS:
        expected = _flows(basin, 2.0 + column)[:5]
        np.testing.assert_allclose(predictions["qsim"].sel(basin=basin).values, expected)
    np.testing.assert_allclose(predictions["qobs"].values, make_cache()["qobs"].sel(date=TEST.dates).values)
    assert predictions.attrs["benchmark"] == "VIC_basin" and predictions.attrs["missing_basins"] == ""
    assert predictions.attrs["source_units"] == "mm/day"


def test_units_attribute_is_converted_with_the_cache_area(tmp_path):
    folder = tmp_path / "netcdf"
    write_basin(folder, BASINS[0], units={"VIC_basin": "m3 s-1"})
    write_basin(folder, BASINS[1], units={"VIC_basin": "cfs"})
    write_basin(folder, BASINS[2], units={"VIC_basin": "mm/d"})
    predictions = _import(folder)
    raw = {b: _flows(b, 2.0 + BENCHMARK_MODELS.index("VIC_basin"))[:5] for b in BASINS}
    np.testing.assert_allclose(predictions["qsim"].sel(basin=BASINS[0]).values, raw[BASINS[0]] * 86.4 / 100.0,
                               rtol=1e-6)
    np.testing.assert_allclose(predictions["qsim"].sel(basin=BASINS[1]).values,
                               raw[BASINS[1]] * 0.028316846592 * 86.4 / 250.0, rtol=1e-6)
    np.testing.assert_allclose(predictions["qsim"].sel(basin=BASINS[2]).values, raw[BASINS[2]], rtol=1e-6)
    assert predictions.attrs["source_units"] == "ft3/s, m3/s, mm/day"
    write_basin(folder, BASINS[2], units={"VIC_basin": "mm/h"})
    with pytest.raises(DataError, match=r"03015500_benchmark_models.nc, variable VIC_basin has units 'mm/h'"):
        _import(folder)


def test_common_basins_of_every_model(tmp_path):
    folder = tmp_path / "netcdf"
    write_basin(folder, "01013500")
    write_basin(folder, "02011400", models=[m for m in BENCHMARK_MODELS if m != "VIC_basin"])

    def gap_on_an_observed_day(frame):
        frame.loc["1989-10-02", "HBV_ub"] = np.nan

    def gap_where_nothing_was_observed(frame):
        frame.loc["1989-10-03", "QObs"] = -999.0 * 0.0283 * 86.4 / 100.0  # the release's missing days
        frame.loc["1989-10-03", "SAC_SMA"] = np.nan

    write_basin(folder, "03015500", edit=gap_on_an_observed_day)
    write_basin(folder, "04045500", edit=gap_where_nothing_was_observed)
    assert benchmark_basins(folder, period=TEST) == ["01013500", "04045500"]
    assert benchmark_basins(folder, ["SAC_SMA", "HBV_lb"], period=TEST) == ["01013500", "02011400", "03015500",
                                                                           "04045500"]
    assert benchmark_basins(folder, ["hbv_ub"], period=TEST) == ["01013500", "02011400", "04045500"]
    assert benchmark_basins(folder, period=TEST, within=["01013500", "02011400", "09999999"]) == ["01013500"]
    simulation = read_benchmark(folder, "HBV_ub", period=TEST)
    assert simulation.missing == {"03015500": "HBV_ub is missing on 1 observed day(s) in 03015500_benchmark_models.nc"}


def test_basin_list_written_by_the_cli(tmp_path, release, capsys):
    (tmp_path / "531.txt").write_text("01013500\n03015500\n")
    output = tmp_path / "lists" / "447_basins.txt"
    period = ["--period", "1989-10-01", "1989-10-05"]
    status = main(["benchmark-basins", str(release), "--within", str(tmp_path / "531.txt"), "--output", str(output),
                   "--models", "SAC_SMA", "vic_basin", *period])
    assert status == 0
    assert read_basin_list(output) == ["01013500", "03015500"]
    assert output.read_text().startswith("# 2 basins of ")
    assert main(["benchmark-basins", str(release / "02011400_benchmark_models.nc"), *period]) == 0
    assert capsys.readouterr().out.split() == ["02011400"]


def test_a_model_missing_basins_is_reported_not_dropped(tmp_path):
    folder = tmp_path / "netcdf"
    write_basin(folder, BASINS[0])
    write_basin(folder, BASINS[1], models=["SAC_SMA"])
    with pytest.raises(DataError, match=r"CAMELS benchmark VIC_basin \(.*netcdf\): 2 of the 3 basins of the forcing "
                                        r"cache are missing or incomplete \(02011400: 02011400_benchmark_models.nc has "
                                        r"no VIC_basin; 03015500: not in the benchmark files\)"):
        _import(folder)
    predictions = _import(folder, missing_basins="skip")
    assert list(predictions["basin"].values) == [BASINS[0]]
    assert predictions.attrs["missing_basins"] == "02011400 03015500"
    with pytest.raises(DataError, match=r"none of the 3 basins of the forcing cache is complete"):
        _import(folder / "02011400_benchmark_models.nc", missing_basins="skip")


def test_basins_of_the_release_outside_the_cache_are_ignored(release):
    predictions = _import(release, cache=make_cache(BASINS[:2]))
    assert list(predictions["basin"].values) == BASINS[:2]


def test_another_period_names_the_file(tmp_path):
    folder = tmp_path / "netcdf"
    write_basin(folder, BASINS[0])
    write_basin(folder, BASINS[1], days=pd.date_range("1995-10-01", "1995-10-06"))
    with pytest.raises(DataError, match=r"02011400_benchmark_models.nc \(basin 02011400\) covers "
                                        r"1995-10-01..1995-10-06, not the period 1989-10-01..1989-10-05 \(5 day\(s\) "
                                        r"missing, first 1989-10-01\); the release covers 1989-10-01..1999-09-30"):
        _import(folder, cache=make_cache(BASINS[:2]))
    with pytest.raises(DataError, match=r"covers 1989-10-01..1989-10-06, not the period 1989-10-01..1999-09-30"):
        benchmark_basins(folder / "01013500_benchmark_models.nc")  # the release's period by default


def test_repeated_dates_and_dates_that_are_no_dates(tmp_path):
    folder = tmp_path / "netcdf"
    days = DAYS.insert(2, DAYS[1])
    write_basin(folder, BASINS[0], days=days)
    with pytest.raises(DataError, match=r"01013500_benchmark_models.nc: dates \['1989-10-02'\] appear more than once"):
        _import(folder / "01013500_benchmark_models.nc", cache=make_cache(BASINS[:1]))
    xr.Dataset({"QObs": ("index", np.ones(3)), "VIC_basin": ("index", np.ones(3))},
               coords={"index": [0, 1, 2]}).to_netcdf(folder / "02011400_benchmark_models.nc")
    with pytest.raises(DataError, match=r"02011400_benchmark_models.nc: dimension 'index' holds no dates"):
        _import(folder / "02011400_benchmark_models.nc", cache=make_cache(BASINS[1:2]))


def test_a_basin_twice_names_both_files(tmp_path):
    folder = tmp_path / "netcdf"
    write_basin(folder, BASINS[0])
    write_basin(folder / "copy", BASINS[0])
    with pytest.raises(DataError, match=r"basin 01013500 appears twice, in .*netcdf/01013500_benchmark_models.nc and "
                                        r".*copy/01013500_benchmark_models.nc"):
        _import(folder, cache=make_cache(BASINS[:1]))


def test_folder_without_files_and_files_without_basin_ids(tmp_path):
    with pytest.raises(DataError, match=r"do not exist; download them from https://www.hydroshare.org/resource/"
                                        r"474ecc37e7db45baa425cdb4fc1b61e1"):
        _import(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no <gauge_id>_benchmark_models.nc file in it"):
        _import(tmp_path / "empty")
    path = write_basin(tmp_path, BASINS[0], name="benchmark.nc")
    with pytest.raises(DataError, match=r"benchmark.nc: the name does not start with an 8-digit basin id"):
        _import(path)


def _run_pickle(path: Path, keys=BASINS, days=DAYS) -> Path:
    results = {key: pd.DataFrame({"qobs": np.ones(len(days)), "qsim": _flows(key.zfill(8), 0.25, len(days))},
                                 index=days) for key in keys}
    pd.to_pickle(results, path)
    return path


def test_lstm_run_pickle(tmp_path):
    path = _run_pickle(tmp_path / "ealstm_seed111.p")
    predictions = _import(path, benchmark="ealstm")
    np.testing.assert_allclose(predictions["qsim"].sel(basin=BASINS[2]).values, _flows(BASINS[2], 0.25)[:5])
    assert predictions.attrs["benchmark"] == "ealstm"
    with pytest.raises(ConfigError, match=r"ealstm_seed111.p holds the ealstm run, not lstm"):
        _import(path, benchmark="lstm")
    twice = _run_pickle(tmp_path / "lstm_seed222.p", keys=["1013500", "01013500"])
    with pytest.raises(DataError, match=r"lstm_seed222.p: basin 01013500 appears twice"):
        _import(twice, benchmark="lstm", cache=make_cache(BASINS[:1]))
    with pytest.raises(DataError, match=r"run pickle .*run.p: expected a name <model>_seed<N>.p"):
        _import(_run_pickle(tmp_path / "run.p"), benchmark="ealstm")


def test_import_simulation_cli(tmp_path, release):
    make_cache().to_netcdf(tmp_path / "cache.nc")
    output = tmp_path / "runs" / "predictions.nc"
    periods = ('{"train": {"start": "1989-10-06", "end": "1989-10-10"}, '
               '"test": {"start": "1989-10-01", "end": "1989-10-05"}}')
    common = ["--cache", str(tmp_path / "cache.nc"), "--model", "sac", "--forcing", "maurer", "--split", "k",
              "--periods", periods, "--output", str(output)]
    assert main(["import-simulation", str(release), "--format", "camels_benchmark", "--benchmark", "SAC_SMA",
                 *common]) == 0
    predictions = read_predictions(output)
    np.testing.assert_allclose(predictions["qsim"].sel(basin=BASINS[0]).values, _flows(BASINS[0], 2.0)[:5])
    assert main(["import-simulation", str(release), "--format", "camels_benchmark", *common]) == 2  # no --benchmark


def test_config_entry_schema():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    good = copy.deepcopy(config)
    good["models"]["vic_basin"] = {"kind": "external", "format": "camels_benchmark", "benchmark": "VIC_basin",
                                   "path": "data/raw/camels_benchmarks/netcdf", "forcing": "daymet"}
    assert schema_problems(good, schema) == []
    bad = copy.deepcopy(good)
    del bad["models"]["vic_basin"]["benchmark"]
    problems = schema_problems(bad, schema)
    assert any("models.vic_basin" in p and "'benchmark' is a required property" in p for p in problems)
    bad["models"]["vic_basin"].update(benchmark="VIC_basin", missing_basins="drop")
    assert any("models.vic_basin.missing_basins" in p for p in schema_problems(bad, schema))
