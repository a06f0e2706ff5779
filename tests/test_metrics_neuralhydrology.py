"""Cross-check of the per-basin metrics against neuralhydrology 1.13's ``evaluation.metrics``."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

nh_metrics = pytest.importorskip("neuralhydrology.evaluation.metrics",
                                 reason="neuralhydrology is not installed (pip install neuralhydrology==1.13.0)")
from neuralhydrology.utils.errors import AllNaNError  # noqa: E402

from runoffbench.evaluation.metrics import METRICS, calculate_metrics  # noqa: E402

NH_FUNCTIONS = {
    "NSE": nh_metrics.nse,
    "KGE": nh_metrics.kge,
    "Pearson-r": nh_metrics.pearsonr,
    "Alpha-NSE": nh_metrics.alpha_nse,
    "Beta-NSE": nh_metrics.beta_nse,
    "Beta-KGE": nh_metrics.beta_kge,
    "RMSE": nh_metrics.rmse,
    "FHV": nh_metrics.fdc_fhv,
    "FMS": nh_metrics.fdc_fms,
    "FLV": nh_metrics.fdc_flv,
    "Peak-Timing": nh_metrics.mean_peak_timing,
    "Missed-Peaks": nh_metrics.missed_peaks,
    "Peak-MAPE": nh_metrics.mean_absolute_percentage_peak_error,
}

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared"
STREAMFLOW_FILE = (SHARED_DATA / "data/camels_us_sample/basin_dataset_public_v1p2/usgs_streamflow/01"
                   / "01022500_streamflow_qc.txt")
AREA_01022500_M2 = 587675987.0  # from the forcing file header


def as_dataarray(values, start="2000-01-01"):
    dates = pd.date_range(start, periods=len(values), freq="D")
    return xr.DataArray(np.asarray(values, dtype=float), coords={"date": dates}, dims="date")


def synthetic_flow(rng, n_days=3000):
    """A flashy, strictly positive flow: gamma-distributed rain through a linear reservoir."""
    rain = rng.gamma(0.3, 8.0, n_days)
    flow = np.empty(n_days)
    store = 10.0
    for day, inflow in enumerate(rain):
        store += inflow
        flow[day] = 0.08 * store
        store -= flow[day]
    return flow


def perturbed(rng, obs, lag=1):
    return np.roll(obs, lag) * rng.lognormal(0.0, 0.2, obs.size) + 0.05


def assert_matches_neuralhydrology(obs, sim, names=NH_FUNCTIONS):
    ours = calculate_metrics(obs, sim, list(names))
    for name in names:
        expected = float(NH_FUNCTIONS[name](obs, sim))
        assert ours[name] == pytest.approx(expected, rel=1e-8, abs=1e-8, nan_ok=True), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_series_match(seed):
    rng = np.random.default_rng(seed)
    obs = synthetic_flow(rng)
    assert_matches_neuralhydrology(as_dataarray(obs), as_dataarray(perturbed(rng, obs, lag=seed)))


def test_random_series_with_nan_gaps_match():
    rng = np.random.default_rng(3)
    obs = synthetic_flow(rng)
    sim = perturbed(rng, obs)
    obs[rng.choice(obs.size, 150, replace=False)] = np.nan
    obs[1000:1040] = np.nan  # a long gap next to peaks
    sim[rng.choice(obs.size, 20, replace=False)] = np.nan
    assert_matches_neuralhydrology(as_dataarray(obs), as_dataarray(sim))


def test_numpy_input_with_dates_equals_dataarray_input():
    rng = np.random.default_rng(4)
    obs = synthetic_flow(rng)
    obs[500:510] = np.nan
    sim = perturbed(rng, obs)
    dates = pd.date_range("1990-10-01", periods=obs.size, freq="D")
    from_numpy = calculate_metrics(obs, sim, "all", dates=dates)
    from_xarray = calculate_metrics(as_dataarray(obs, "1990-10-01"), as_dataarray(sim, "1990-10-01"))
    assert from_numpy == pytest.approx(from_xarray, nan_ok=True)


@pytest.fixture(scope="module")
def camels_01022500():
    if not STREAMFLOW_FILE.exists():
        pytest.skip(f"CAMELS sample not found at {STREAMFLOW_FILE}")
    table = pd.read_csv(STREAMFLOW_FILE, sep=r"\s+", header=None, names=["basin", "y", "m", "d", "q", "flag"])
    dates = pd.to_datetime(dict(year=table.y, month=table.m, day=table.d))
    q_cfs = table.q.where(table.q != -999.0)
    q_mm = q_cfs * 28316846.592 * 86400 / (AREA_01022500_M2 * 1e6)
    return xr.DataArray(q_mm.to_numpy(), coords={"date": dates.to_numpy()}, dims="date")


def test_camels_basin_01022500_matches(camels_01022500):
    obs = camels_01022500
    sim = obs.copy(data=perturbed(np.random.default_rng(5), obs.values, lag=2))
    assert obs.size == 1096 and float(obs.mean()) == pytest.approx(2.0, rel=0.5)
    assert_matches_neuralhydrology(obs, sim)


def test_camels_basin_01022500_with_gaps_matches(camels_01022500):
    obs = camels_01022500.copy()
    obs[[100, 101, 102, 400, 800]] = np.nan
    sim = obs.copy(data=perturbed(np.random.default_rng(6), camels_01022500.values))
    assert_matches_neuralhydrology(obs, sim)


def test_zero_flows_match_except_flat_low_flows():
    """Arid basin: 40 % zero-flow days. Everything but FLV agrees; neuralhydrology's FLV divides by its
    1e-6 guard (flat low-flow FDC) and is of order -1e10 %, ours is NaN by design."""
    rng = np.random.default_rng(7)
    obs = synthetic_flow(rng)
    obs[rng.random(obs.size) < 0.4] = 0.0
    sim = perturbed(rng, obs) + rng.uniform(0.0, 0.01, obs.size)
    shared = {name: f for name, f in NH_FUNCTIONS.items() if name != "FLV"}
    assert_matches_neuralhydrology(as_dataarray(obs), as_dataarray(sim), shared)
    assert abs(nh_metrics.fdc_flv(as_dataarray(obs), as_dataarray(sim))) > 1e8
    assert np.isnan(METRICS["FLV"](obs, sim))


def test_constant_obs_nan_where_neuralhydrology_gives_inf():
    obs = as_dataarray(np.full(400, 2.0))
    sim = as_dataarray(np.linspace(1.0, 3.0, 400))
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isinf(nh_metrics.nse(obs, sim)) and np.isinf(nh_metrics.alpha_nse(obs, sim))
    ours = calculate_metrics(obs, sim, ["NSE", "Alpha-NSE", "Beta-NSE", "KGE", "Pearson-r", "Beta-KGE", "RMSE"])
    assert np.isnan([ours["NSE"], ours["Alpha-NSE"], ours["Beta-NSE"], ours["KGE"], ours["Pearson-r"]]).all()
    assert ours["Beta-KGE"] == pytest.approx(float(nh_metrics.beta_kge(obs, sim)))  # 1.0, well defined
    assert ours["RMSE"] == pytest.approx(float(nh_metrics.rmse(obs, sim)))


def test_no_observed_peaks_missed_peaks_nan_not_zero():
    obs = as_dataarray(np.full(400, 1.0))
    assert nh_metrics.missed_peaks(obs, obs.copy()) == 0.0
    assert np.isnan(METRICS["Missed-Peaks"](obs, obs.copy()))


def test_all_missing_gives_nan_instead_of_exception():
    obs = as_dataarray(np.full(200, np.nan))
    sim = as_dataarray(np.ones(200))
    with pytest.raises(AllNaNError):
        nh_metrics.calculate_all_metrics(obs, sim)
    assert all(np.isnan(value) for value in calculate_metrics(obs, sim).values())


def test_short_series_fms_nan_where_neuralhydrology_crashes():
    obs, sim = as_dataarray([1.0]), as_dataarray([2.0])
    with pytest.raises(IndexError):
        nh_metrics.fdc_fms(obs, sim)
    assert np.isnan(METRICS["FMS"](obs, sim))
