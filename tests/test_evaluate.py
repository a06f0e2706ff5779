"""The metrics stage: prediction files checked against the cache, one row per basin, the ensemble."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from runoffbench.cli import main
from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.ensemble import ensemble_mean
from runoffbench.evaluation.evaluate import evaluate_predictions
from runoffbench.predictions import read_predictions, write_predictions
from tests.evaluation_data import BASINS, TEST, make_cache, make_run


def test_one_row_per_basin_one_column_per_metric():
    cache = make_cache()
    table = evaluate_predictions(make_run(cache, "m", noise=0.1), cache, ["nse", "KGE"], period=TEST)
    assert list(table.index) == BASINS and list(table.columns) == ["NSE", "KGE", "complete_record"]
    assert (table["NSE"] > 0.5).all() and (table["NSE"] < 1).all()


def test_dates_that_do_not_match_the_observations_are_named():
    cache = make_cache()
    run = make_run(cache, "m")
    with pytest.raises(DataError, match=r"bad.nc: dates do not match the observations: 1 day\(s\) of the test period "
                                        r"1999-10-01..2001-09-30 missing \(2001-09-30..2001-09-30\)"):
        evaluate_predictions(run.isel(date=slice(0, -1)), cache, ["NSE"], source="bad.nc", period=TEST)
    shifted = run.assign_coords(date=run["date"].values + np.timedelta64(3650, "D"))
    with pytest.raises(DataError, match=r"731 date\(s\) lie outside the forcing cache"):
        evaluate_predictions(shifted, cache, ["NSE"], source="late.nc")


def test_basins_or_observations_that_do_not_match_are_named():
    cache = make_cache()
    run = make_run(cache, "m")
    alien = run.assign_coords(basin=np.array(["01000001", "02000002", "09999999"], dtype=object))
    with pytest.raises(DataError, match=r"alien.nc: basins \['09999999'\] are not in the forcing cache"):
        evaluate_predictions(alien, cache, ["NSE"], source="alien.nc")
    run["qobs"] = run["qobs"].where(run["basin"] != "02000002", run["qobs"] * 2)
    differs = r"qobs differs from the forcing cache's observations for basins \['02000002'\]"
    with pytest.raises(DataError, match=differs):
        evaluate_predictions(run, cache, ["NSE"], source="other.nc")


def test_unknown_metric_is_a_config_error():
    cache = make_cache()
    with pytest.raises(ConfigError, match="unknown metric 'NSE2'"):
        evaluate_predictions(make_run(cache, "m"), cache, ["NSE", "NSE2"])


def test_basin_without_metrics_gets_nan_and_a_logged_reason(caplog):
    cache = make_cache()
    cache["qobs"].loc[{"basin": "03000003", "date": slice(TEST.start, TEST.end)}] = np.nan
    run = make_run(cache, "m")
    with caplog.at_level(logging.WARNING, logger="runoffbench.evaluation"):
        table = evaluate_predictions(run, cache, ["NSE", "KGE"], period=TEST)
    assert table.loc["03000003", ["NSE", "KGE"]].isna().all() and table.loc["01000001"].notna().all()
    assert table.loc["03000003", "complete_record"] == 0
    assert "basin 03000003" in caplog.text and "no time step has both" in caplog.text


def test_ensemble_is_the_member_mean_and_cli_round_trip(tmp_path):
    cache = make_cache()
    cache.to_netcdf(tmp_path / "cache.nc")
    paths = []
    for member in (0, 1, 2):
        paths.append(write_predictions(make_run(cache, "m", member=member), tmp_path / f"{member}" / "predictions.nc"))
    members = [read_predictions(p) for p in paths]
    ensemble = ensemble_mean(members)
    assert ensemble.attrs["member"] == "ensemble" and ensemble.attrs["n_members"] == 3
    np.testing.assert_allclose(ensemble["qsim"].values, np.mean([m["qsim"].values for m in members], axis=0), rtol=1e-6)
    output = tmp_path / "ensemble" / "predictions.nc"
    assert main(["ensemble", *map(str, paths), "--output", str(output)]) == 0
    metrics = tmp_path / "metrics" / "m" / "daymet" / "test_split" / "ensemble.csv"
    periods = ('{"train": {"start": "1995-10-01", "end": "1999-09-30"}, '
               '"test": {"start": "1999-10-01", "end": "2001-09-30"}}')
    assert main(["evaluate", "--predictions", str(output), "--cache", str(tmp_path / "cache.nc"),
                 "--split", "test_split", "--periods", periods, "--metrics", "NSE", "Peak-Timing",
                 "--output", str(metrics)]) == 0
    table = pd.read_csv(metrics, dtype={"basin": str})
    assert list(table.columns) == ["basin", "NSE", "Peak-Timing", "complete_record"] and list(table["basin"]) == BASINS
    assert main(["evaluate", "--predictions", str(output), "--cache", str(tmp_path / "cache.nc"),
                 "--metrics", "bogus", "--output", str(metrics)]) == 2


def test_ensemble_refuses_members_of_other_runs():
    cache = make_cache()
    with pytest.raises(DataError, match="belongs to run"):
        ensemble_mean([make_run(cache, "a"), make_run(cache, "b", member=1)])


def test_ensemble_averages_fluxes_but_not_the_components_of_a_delta_model():
    """Component k of one seed is not component k of another: beta_t (basin, date, component) is left out."""
    cache = make_cache()
    members = []
    for member in (0, 1):
        run = make_run(cache, "dhbv", member=member)
        shape = (run.sizes["basin"], run.sizes["date"])
        run["et"] = (("basin", "date"), np.full(shape, 1.0 + member, "float32"), {"units": "mm/day"})
        run["beta_t"] = (("basin", "date", "component"), np.ones((*shape, 3), "float32"), {"units": "1"})
        members.append(run)
    ensemble = ensemble_mean(members)
    np.testing.assert_allclose(ensemble["et"].values, 1.5)
    assert "beta_t" not in ensemble and "component" not in ensemble.dims
