"""Mutual information: the per-basin estimator is nearly unbiased on one water year of daily flow."""

from __future__ import annotations

import numpy as np
import pytest

from runoffbench.evaluation.information import KSG_NEIGHBOURS, histogram_mutual_information, ksg_mutual_information
from runoffbench.evaluation.metrics import METRICS

ONE_WATER_YEAR = 365


def _flows(rng, n=ONE_WATER_YEAR):
    """A year of daily flow: a seasonal cycle times gamma noise, a climatology and a good model of it."""
    season = 2.0 + 1.5 * np.sin(2 * np.pi * np.arange(n) / 365.25)
    obs = season * rng.gamma(2.0, 0.5, n)
    return obs, season.copy(), obs * rng.lognormal(0.0, 0.25, n)


@pytest.mark.parametrize("n", [ONE_WATER_YEAR, 3650])
def test_per_basin_mi_of_independent_series_is_about_zero(n):
    """Independent series share no information. On one year the 100-bin plug-in histogram estimate of
    Frame et al. (2023) is > 1 nat (its bias, ~ occupied cells / 2n); the per-basin metric is not."""
    rng = np.random.default_rng(3)
    values = [METRICS["MI"](rng.gamma(2.0, 1.0, n), rng.gamma(2.0, 1.0, n)) for _ in range(20)]
    assert np.mean(values) == pytest.approx(0.0, abs=0.02)
    assert max(values) < 0.1
    plugin = histogram_mutual_information(rng.gamma(2.0, 1.0, n), rng.gamma(2.0, 1.0, n))
    assert plugin > 0.4  # what the per-basin metric used to report for unrelated series


def test_per_basin_mi_of_gaussians_is_the_analytic_value():
    rng = np.random.default_rng(4)
    for rho in (0.5, 0.9):
        x = rng.standard_normal(2000)
        y = rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal(2000)
        assert METRICS["MI"](x, y) == pytest.approx(-0.5 * np.log(1 - rho ** 2), abs=0.05)


def test_a_climatology_does_not_beat_a_good_model_on_one_year():
    """The defect behind the issue: the histogram estimator cannot tell the day-of-year climatology from
    a model that follows every event (and ranks it first as often as not)."""
    obs, climatology, model = _flows(np.random.default_rng(0))
    assert METRICS["MI"](obs, model) > METRICS["MI"](obs, climatology) + 0.5
    histogram = histogram_mutual_information(obs, model) - histogram_mutual_information(obs, climatology)
    assert abs(histogram) < 0.2


def test_ties_such_as_zero_flow_days_do_not_make_independent_series_informative():
    rng = np.random.default_rng(5)
    obs, sim = rng.gamma(2.0, 1.0, 730), rng.gamma(2.0, 1.0, 730)
    obs[rng.random(730) < 0.3], sim[rng.random(730) < 0.3] = 0.0, 0.0  # an intermittent stream
    assert METRICS["MI"](obs, sim) < 0.05
    assert METRICS["MI"](obs, obs) > 2.0  # and identical series stay very informative


def test_ksg_matches_sklearn_mutual_info_regression():
    feature_selection = pytest.importorskip("sklearn.feature_selection")
    obs, _, model = _flows(np.random.default_rng(6), 1000)
    expected = feature_selection.mutual_info_regression(model.reshape(-1, 1), obs, n_neighbors=KSG_NEIGHBOURS,
                                                        random_state=0)[0]
    assert ksg_mutual_information(obs, model) == pytest.approx(expected, rel=1e-6)


def test_the_histogram_estimator_of_frame_et_al_stays_available():
    obs, _, model = _flows(np.random.default_rng(7))
    assert METRICS["MI"](obs, model, estimator="histogram") == pytest.approx(histogram_mutual_information(obs, model))
    assert np.isnan(METRICS["MI"](obs[:3], model[:3]))  # fewer days than neighbours + 1
