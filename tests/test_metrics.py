"""Hand-computed values of the per-basin metric suite, the paper metrics and the error messages."""
import logging

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.across_basins import (
    baseflow_index,
    baseflow_index_correlation,
    basins_with_gaps,
    kge_skill_score,
)
from runoffbench.evaluation.information import mutual_information_pooled
from runoffbench.evaluation.metrics import METRICS, calculate_metrics

OBS = np.array([1.0, 2.0, 3.0, 4.0])
SIM = np.array([2.0, 1.0, 3.0, 6.0])  # differences +1, -1, 0, +2; total observed flow 10


def test_nse_rmse_and_kge_components_by_hand():
    values = calculate_metrics(OBS, SIM, ["NSE", "RMSE", "Beta-KGE", "Beta-NSE", "Alpha-NSE"])
    assert values["NSE"] == pytest.approx(1 - 6 / 5)  # sum of squared errors 6, of squared anomalies 5
    assert values["RMSE"] == pytest.approx(np.sqrt(6 / 4))
    assert values["Beta-KGE"] == pytest.approx(3.0 / 2.5)
    assert values["Beta-NSE"] == pytest.approx(0.5 / np.sqrt(1.25))
    assert values["Alpha-NSE"] == pytest.approx(np.sqrt(3.5) / np.sqrt(1.25))


def test_kge_combines_its_components():
    values = calculate_metrics(OBS, SIM, ["KGE", "Pearson-r", "Alpha-NSE", "Beta-KGE"])
    distance = np.sqrt((values["Pearson-r"] - 1) ** 2 + (values["Alpha-NSE"] - 1) ** 2
                       + (values["Beta-KGE"] - 1) ** 2)
    assert values["Pearson-r"] == pytest.approx(7.0 / np.sqrt(5 * 14))
    assert values["KGE"] == pytest.approx(1 - distance)


MASS_BIAS = ["Mass-Bias-Absolute", "Mass-Bias-Positive", "Mass-Bias-Negative"]


def test_mass_bias_by_hand():
    # sum(SIM) - sum(OBS) = +0.2 of sum(OBS): over-estimation counts as positive bias only
    values = calculate_metrics(OBS, SIM, MASS_BIAS)
    assert values == pytest.approx({"Mass-Bias-Absolute": 0.2, "Mass-Bias-Positive": 0.2,
                                    "Mass-Bias-Negative": 0.0})
    under = calculate_metrics(OBS, OBS * 0.75, MASS_BIAS)
    assert under == pytest.approx({"Mass-Bias-Absolute": 0.25, "Mass-Bias-Positive": 0.0,
                                   "Mass-Bias-Negative": -0.25})


def test_mass_bias_nan_with_gaps_and_helper_names_the_basins(caplog):
    obs_with_gap = OBS.copy()
    obs_with_gap[1] = np.nan
    with caplog.at_level(logging.WARNING, logger="runoffbench.evaluation"):
        assert np.isnan(METRICS["Mass-Bias-Absolute"](obs_with_gap, SIM, basin="01022500"))
    assert "Mass-Bias-Absolute is NaN for basin 01022500: record has 1 missing days" in caplog.text
    skipped_day = pd.to_datetime(["2000-01-01", "2000-01-02", "2000-01-04", "2000-01-05"])
    assert np.isnan(METRICS["Mass-Bias-Positive"](OBS, SIM, skipped_day))
    dates = pd.date_range("2000-01-01", periods=4)
    qobs = xr.DataArray([OBS, obs_with_gap, OBS], coords={"basin": ["a", "b", "c"], "date": dates},
                        dims=("basin", "date"))
    qsim = xr.DataArray([SIM, SIM, [np.nan, 1.0, 1.0, 1.0]], coords=qobs.coords, dims=qobs.dims)
    assert basins_with_gaps(qobs) == ["b"]
    assert basins_with_gaps(qobs, qsim) == ["b", "c"]


def test_missing_days_masked_identically_for_all_metrics():
    rng = np.random.default_rng(0)
    obs, sim = rng.gamma(2.0, 1.0, 400), rng.gamma(2.0, 1.0, 400)
    obs[[3, 50]], sim[[7, 300]] = np.nan, np.nan
    dates = pd.date_range("2000-01-01", periods=400)
    keep = np.isfinite(obs) & np.isfinite(sim)
    with_gaps = calculate_metrics(obs, sim, "all", dates=dates)
    dropped = calculate_metrics(obs[keep], sim[keep], "all", dates=dates[keep])
    assert with_gaps == pytest.approx(dropped, nan_ok=True)
    assert np.isnan(with_gaps["Mass-Bias-Absolute"])


def test_peak_timing_by_hand():
    obs, sim = np.zeros(300), np.zeros(300)
    obs[150], sim[152] = 10.0, 8.0
    values = calculate_metrics(obs, sim, ["Peak-Timing", "Peak-MAPE"])
    assert values == {"Peak-Timing": 2.0, "Peak-MAPE": 100.0}


def test_peak_timing_skips_peak_next_to_a_missing_day():
    obs, sim = np.zeros(300), np.zeros(300)
    obs[150], sim[152] = 10.0, 8.0
    dates = pd.date_range("2000-01-01", periods=300).delete(149)  # day before the peak missing
    assert np.isnan(METRICS["Peak-Timing"](obs[:-1], sim[:-1], dates[:299]))


def test_histogram_mutual_information_of_identical_series_is_the_entropy():
    uniform = np.repeat(np.arange(100.0), 10)  # one value per histogram bin
    assert METRICS["MI"](uniform, uniform, estimator="histogram") == pytest.approx(np.log(100))
    two_states = np.repeat([0.0, 5.0], 50)
    assert METRICS["MI"](two_states, two_states, estimator="histogram") == pytest.approx(np.log(2))


def test_histogram_mutual_information_of_independent_series_is_the_plugin_bias():
    rng = np.random.default_rng(1)
    n = 200_000
    value = METRICS["MI"](rng.random(n), rng.random(n), estimator="histogram")
    assert value == pytest.approx(99 ** 2 / (2 * n), rel=0.2)  # ~0.0245 nats, the estimator's bias


def test_histogram_mutual_information_matches_sklearn_contingency_estimator():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    obs = rng.gamma(2.0, 1.0, 5000)
    sim = obs * rng.lognormal(0.0, 0.3, obs.size)
    contingency = np.histogram2d(obs, sim, 100)[0]
    assert METRICS["MI"](obs, sim, estimator="histogram") == pytest.approx(
        metrics.mutual_info_score(None, None, contingency=contingency))


def test_pooled_mutual_information_uses_one_histogram_over_basins():
    low, high = np.repeat(np.arange(50.0), 4), np.repeat(np.arange(50.0, 100.0), 4)
    assert mutual_information_pooled([low, high], [low, high]) == pytest.approx(np.log(100))
    basins = xr.DataArray(np.stack([low, high]), dims=("basin", "date"), coords={"basin": ["a", "b"]})
    with_gap = basins.copy()
    with_gap[0, :4] = np.nan  # drops one of the 100 values: 99 equally likely bins remain
    assert mutual_information_pooled(with_gap, basins) == pytest.approx(np.log(99), rel=1e-3)


def test_kge_skill_score_by_hand():
    assert kge_skill_score(0.8, 0.6) == pytest.approx(0.5)
    assert kge_skill_score(0.2, 0.6) == pytest.approx(-1.0)
    assert kge_skill_score(0.5, -0.41) == pytest.approx(0.91 / 1.41)
    assert np.isnan(kge_skill_score(0.9, 1.0))
    model = pd.Series({"a": 0.8, "b": 0.5})
    baseline = pd.Series({"b": 0.0, "a": 0.6})
    assert kge_skill_score(model, baseline).to_dict() == pytest.approx({"a": 0.5, "b": 0.5})


def test_baseflow_index_and_its_correlation_with_camels():
    assert baseflow_index([1.0, 1.0, 1.0, 1.0, np.nan], [2.0, 2.0, 4.0, 2.0, 3.0]) == pytest.approx(0.4)
    assert np.isnan(baseflow_index([0.0, 0.0], [0.0, 0.0], basin="x"))
    simulated = pd.Series({"a": 0.2, "b": 0.4, "c": 0.6, "d": 0.8, "e": np.nan})
    camels = pd.Series({"d": 0.85, "c": 0.65, "b": 0.45, "a": 0.25, "f": 0.5})
    assert baseflow_index_correlation(simulated, camels) == pytest.approx(1.0)
    assert baseflow_index_correlation(simulated, 1 - camels) == pytest.approx(-1.0)
    assert baseflow_index_correlation(simulated, camels ** 3, method="spearman") == pytest.approx(1.0)
    assert baseflow_index_correlation(simulated, camels ** 3) < 0.99
    assert np.isnan(baseflow_index_correlation(simulated[["a", "b"]], camels))
    with pytest.raises(ConfigError, match="unknown method 'kendal'"):
        baseflow_index_correlation(simulated, camels, method="kendal")


def test_undefined_metrics_are_nan_with_the_reason_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="runoffbench.evaluation"):
        values = calculate_metrics(np.zeros(50), np.ones(50), ["NSE", "Beta-KGE", "FHV", "RMSE"], basin="09999999")
    assert np.isnan([values["NSE"], values["Beta-KGE"], values["FHV"]]).all() and values["RMSE"] == 1.0
    assert "NSE is NaN for basin 09999999: observed flow is constant" in caplog.text
    assert "Beta-KGE is NaN for basin 09999999: mean observed flow is zero" in caplog.text
    assert np.isnan(METRICS["KGE"]([1.0], [1.0]))  # too few points


def test_unknown_metric_raises_config_error_listing_valid_names():
    with pytest.raises(ConfigError, match=r"unknown metric 'NES'; valid metrics: NSE, KGE, .*MI"):
        calculate_metrics(OBS, SIM, ["NSE", "NES"])
    assert list(calculate_metrics(OBS, SIM, ["nse", "kge"])) == ["NSE", "KGE"]


def test_invalid_options_and_inputs_raise():
    with pytest.raises(ConfigError, match=r"FHV: h must lie in \]0, 1\["):
        METRICS["FHV"](OBS, SIM, h=2.0)
    with pytest.raises(ConfigError, match="FMS: lower"):
        METRICS["FMS"](OBS, SIM, lower=0.7, upper=0.2)
    with pytest.raises(DataError, match="basin 01013500: obs has 4 time steps but sim has 3"):
        calculate_metrics(OBS, SIM[:3], basin="01013500")
    with pytest.raises(DataError, match="strictly increasing whole days"):
        calculate_metrics(OBS, SIM, dates=pd.date_range("2000-01-01", periods=4, freq="12h"))
