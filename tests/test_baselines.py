"""Baselines and the external-simulation importer write the prediction contract with sound values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runoffbench.cli import main
from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.metrics import calculate_metrics
from runoffbench.models.baselines import baseline_predictions, baseline_run, calendar_day, fit_climatology
from runoffbench.models.external import import_simulation
from runoffbench.predictions import read_predictions, validate_predictions
from tests.evaluation_data import BASINS, TEST, TRAIN, make_cache

PERIODS = ('{"train": {"start": "1995-10-01", "end": "1999-09-30"}, '
           '"test": {"start": "1999-10-01", "end": "2001-09-30"}}')


def _baseline(cache, method, test=TEST, **options):
    return baseline_predictions(cache, method, TRAIN, test, model=method, forcing="daymet", split="s", **options)


def test_mean_flow_scores_knoben_benchmark_on_its_training_period():
    cache = make_cache()
    predictions = validate_predictions(_baseline(cache, "mean_flow", test=TRAIN))
    for basin in BASINS:
        obs, sim = predictions["qobs"].sel(basin=basin), predictions["qsim"].sel(basin=basin)
        scores = calculate_metrics(obs.values, sim.values, ["KGE", "NSE", "Beta-KGE", "Alpha-NSE"])
        assert scores["KGE"] == pytest.approx(1 - np.sqrt(2), abs=1e-5)  # Knoben et al. 2019: -0.41
        assert scores["NSE"] == pytest.approx(0.0, abs=1e-5)
        assert scores["Beta-KGE"] == pytest.approx(1.0, abs=1e-5) and scores["Alpha-NSE"] == 0.0
        assert float(sim[0]) == pytest.approx(float(obs.mean()), rel=1e-5)


def test_climatology_handles_29_february_and_beats_mean_flow():
    dates = pd.DatetimeIndex(["2000-02-28", "2000-02-29", "2000-03-01", "2001-03-01", "2001-12-31"])
    assert list(calendar_day(dates)) == [58, 58, 59, 59, 364]
    cache = make_cache()
    climatology = _baseline(cache, "climatology", window=31)
    mean_flow = _baseline(cache, "mean_flow")
    assert np.isfinite(climatology["qsim"].values).all()
    assert climatology["qsim"].sel(date="2000-02-29").values == pytest.approx(
        climatology["qsim"].sel(date="2000-02-28").values)
    nse = [calculate_metrics(ds["qobs"].values[0], ds["qsim"].values[0], ["NSE"])["NSE"]
           for ds in (climatology, mean_flow)]
    assert nse[0] > nse[1] + 0.1


def test_climatology_smoothing_is_a_circular_moving_average():
    days = pd.date_range("2001-01-01", "2001-12-31")
    flow = np.zeros((1, days.size))
    flow[0, 0] = 365.0  # one wet day on 1 January
    smooth = fit_climatology(flow, days, window=5)[0]
    assert smooth[[363, 364, 0, 1, 2]] == pytest.approx([73.0] * 5) and smooth[3:363].sum() == 0
    with pytest.raises(ConfigError, match="odd"):
        fit_climatology(flow, days, window=4)


def test_bootstrap_members_differ_and_are_reproducible():
    cache = make_cache()
    first, again, second = (_baseline(cache, "climatology", bootstrap_years=True, member=m) for m in (1, 1, 2))
    np.testing.assert_array_equal(first["qsim"].values, again["qsim"].values)
    assert not np.allclose(first["qsim"].values, second["qsim"].values)


def test_import_wide_csv_in_cubic_metres(tmp_path):
    cache = make_cache()
    dates = pd.date_range(TEST.start, TEST.end)
    table = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "1000001": 1.0, "02000002": 2.0})
    table.to_csv(tmp_path / "sim.csv", index=False)
    predictions = import_simulation(tmp_path / "sim.csv", cache, TEST, model="nwm", forcing="daymet",
                                    split="s", units="m3/s")
    assert list(predictions["basin"].values) == ["01000001", "02000002"]  # zero-padded ids
    assert float(predictions["qsim"].sel(basin="01000001")[0]) == pytest.approx(86.4 / 100.0)
    assert float(predictions["qsim"].sel(basin="02000002")[0]) == pytest.approx(2 * 86.4 / 250.0)
    np.testing.assert_allclose(predictions["qobs"].values, cache["qobs"].sel(basin=BASINS[:2], date=dates).values)


def test_import_long_csv_and_netcdf_via_cli(tmp_path):
    cache = make_cache()
    cache.to_netcdf(tmp_path / "cache.nc")
    dates = pd.date_range(TEST.start, TEST.end, name="date")
    long = pd.DataFrame({"date": np.tile(dates, 2), "basin": np.repeat(["01000001", "03000003"], dates.size),
                         "flow": 1.5})
    long.to_csv(tmp_path / "long.csv", index=False)
    cache["qobs"].rename("q").to_netcdf(tmp_path / "sim.nc")
    # a predefined paper split is not needed: --periods defines the test period
    periods = PERIODS
    for source, variable in (("long.csv", "flow"), ("sim.nc", "q")):
        output = tmp_path / "runs" / source / "predictions.nc"
        assert main(["import-simulation", str(tmp_path / source), "--variable", variable, "--cache",
                     str(tmp_path / "cache.nc"), "--model", "ext", "--forcing", "daymet", "--split", "s",
                     "--periods", periods, "--output", str(output)]) == 0
        assert read_predictions(output).sizes["date"] == dates.size


def test_import_errors_name_file_and_problem(tmp_path):
    cache = make_cache()
    short = pd.DataFrame({"date": ["2000-01-01"], "01000001": [1.0]})
    short.to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match=r"short.csv lacks 730 day\(s\) of the test period"):
        import_simulation(tmp_path / "short.csv", cache, TEST, model="x", forcing="daymet", split="s")
    pd.DataFrame({"date": ["2000-01-01"], "09999999": [1.0]}).to_csv(tmp_path / "alien.csv", index=False)
    with pytest.raises(DataError, match=r"alien.csv: basins \['09999999'\] are not in the forcing cache"):
        import_simulation(tmp_path / "alien.csv", cache, TEST, model="x", forcing="daymet", split="s")




def _late_gauge_cache():
    """The second basin's record starts after the training period (real CAMELS has such gauges)."""
    cache = make_cache()
    cache["qobs"].loc[{"basin": BASINS[1], "date": slice(None, TEST.start - pd.Timedelta(days=1))}] = np.nan
    return cache


@pytest.mark.parametrize("method", ["mean_flow", "climatology"])
def test_a_basin_without_training_flow_is_left_out_and_recorded(method, tmp_path):
    """One rule for every model kind (runoffbench.failures): the baseline does not abort, it predicts
    the other basins and names the gauge in failures.csv (basin, stage, reason)."""
    _late_gauge_cache().to_netcdf(tmp_path / "cache.nc")
    output = tmp_path / "run" / "predictions.nc"
    status = main(["baseline", "--method", method, "--cache", str(tmp_path / "cache.nc"), "--model", method,
                   "--forcing", "daymet", "--split", "s", "--periods", PERIODS, "--output", str(output)])
    assert status == 0
    assert list(read_predictions(output)["basin"].values) == [BASINS[0], BASINS[2]]
    failures = pd.read_csv(tmp_path / "run" / "failures.csv", dtype={"basin": str})
    assert list(failures.columns) == ["basin", "stage", "reason"]
    assert failures[["basin", "stage"]].to_dict("records") == [{"basin": BASINS[1], "stage": "baseline"}]
    assert failures["reason"].iloc[0].startswith("0 days of observed streamflow in the training period")
    complete = tmp_path / "complete" / "predictions.nc"
    make_cache().to_netcdf(tmp_path / "complete.nc")
    assert main(["baseline", "--method", method, "--cache", str(tmp_path / "complete.nc"), "--model", method,
                 "--forcing", "daymet", "--split", "s", "--periods", PERIODS, "--output", str(complete)]) == 0
    assert pd.read_csv(complete.parent / "failures.csv").empty  # header only


def test_a_baseline_without_any_training_flow_fails():
    cache = make_cache()
    cache["qobs"].loc[{"date": slice(None, TEST.start - pd.Timedelta(days=1))}] = np.nan
    with pytest.raises(DataError, match="no basin .* observed streamflow in the training period"):
        _baseline(cache, "mean_flow")


def test_bootstrap_members_keep_a_basin_whose_record_their_resample_misses():
    """A basin observed in one training water year only passes the screening rule; a member whose
    resample of the years misses it resamples that basin's observed years instead, so every member
    covers the same basins (an ensemble needs that) and no member drops it."""
    cache = make_cache()
    cache["qobs"].loc[{"basin": BASINS[1], "date": slice(None, pd.Timestamp("1998-09-30"))}] = np.nan
    runs = [baseline_run(cache, "climatology", TRAIN, TEST, model="c", forcing="daymet", split="s", member=m,
                         bootstrap_years=True) for m in range(10)]
    assert all(excluded == {} for _, excluded in runs)
    for predictions, _ in runs:
        assert list(predictions["basin"].values) == BASINS
        assert np.isfinite(predictions["qsim"].values).all()
    first, again = (baseline_run(cache, "climatology", TRAIN, TEST, model="c", forcing="daymet", split="s",
                                 member=3, bootstrap_years=True)[0] for _ in range(2))
    np.testing.assert_array_equal(first["qsim"].values, again["qsim"].values)
