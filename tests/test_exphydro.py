"""EXP-HYDRO against the original code's reference run, and water-balance closure."""

from pathlib import Path

import numpy as np
import pytest

from runoffbench.errors import ConfigError
from runoffbench.models.conceptual import exphydro

REFERENCE = Path(__file__).parents[2] / "shared" / "reference" / "exphydro_patil"
PARAMS = {"f": 0.07, "smax": 200.0, "qmax": 20.0, "df": 2.0, "tmin": -1.0, "tmax": 1.0}
WINDOW = slice(365, 2558)  # day indices 365..2557 inclusive


def _kge_nse(sim, obs):
    r = np.corrcoef(sim, obs)[0, 1]
    kge = 1 - np.sqrt((r - 1) ** 2 + (sim.std() / obs.std() - 1) ** 2 + (sim.mean() / obs.mean() - 1) ** 2)
    nse = 1 - np.sum((sim - obs) ** 2) / np.sum((obs - obs.mean()) ** 2)
    return kge, nse


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference/exphydro_patil not available")
    return {name: np.loadtxt(REFERENCE / f"{name}_test.txt", comments="#") for name in ("P", "T", "PET", "Q")}


@pytest.mark.parametrize(
    ("scheme", "kge", "nse"),
    [("rk4_patil", 0.734, 0.639), ("euler", 0.616, 0.198), ("rk4", 0.780, 0.767)],
)
def test_reference_basin_scores(reference, scheme, kge, nse):
    out = exphydro.simulate(PARAMS, reference["P"], reference["T"], pet=reference["PET"], scheme=scheme)
    got_kge, got_nse = _kge_nse(out["q"][WINDOW], reference["Q"][WINDOW])
    assert got_kge == pytest.approx(kge, abs=0.02)
    assert got_nse == pytest.approx(nse, abs=0.02)


def _synthetic_forcing(years=30, seed=1):
    rng = np.random.default_rng(seed)
    n = 365 * years
    doy = np.arange(n) % 365
    temp = 6.0 - 14.0 * np.cos(2 * np.pi * (doy - 15) / 365) + rng.normal(0, 3, n)
    prcp = np.where(rng.random(n) < 0.35, rng.exponential(8.0, n), 0.0)
    dayl = 43200.0 + 15000.0 * np.sin(2 * np.pi * (doy - 80) / 365)
    return prcp, temp, dayl


@pytest.mark.parametrize("scheme", ["rk4", "euler"])
def test_water_balance_closes_over_30_years(scheme):
    prcp, temp, dayl = _synthetic_forcing()
    out = exphydro.simulate(PARAMS, prcp, temp, dayl, scheme=scheme, initial_swe=10.0, initial_soil=150.0)
    residual = prcp.sum() - out["et"].sum() - out["q"].sum() - (out["swe"][-1] - 10.0) - (out["soil"][-1] - 150.0)
    assert abs(residual) <= 1e-6
    assert np.allclose(out["q"], out["qb"] + out["qs"])
    assert np.allclose(out["snowfall"] + out["rainfall"], prcp)
    assert out["swe"].max() > 50.0  # cold winters build a snow pack
    assert np.all(out["swe"] >= 0.0)


def test_daily_store_changes_equal_fluxes():
    prcp, temp, dayl = _synthetic_forcing(years=3)
    out = exphydro.simulate(PARAMS, prcp, temp, dayl)
    swe_prev = np.concatenate([[0.0], out["swe"][:-1]])
    assert np.allclose(out["swe"] - swe_prev, out["snowfall"] - out["melt"], atol=1e-9)


def test_batch_equals_single_runs_and_hamon_default():
    prcp, temp, dayl = _synthetic_forcing(years=2)
    params = np.array([[0.07, 200, 20, 2, 1, -1], [0.02, 800, 40, 4, 0.5, -2]], dtype=float)
    batch = exphydro.simulate_batch(params, np.stack([prcp, prcp]), np.stack([temp, temp]), np.stack([dayl, dayl]))
    for b in range(2):
        single = exphydro.simulate(params[b], prcp, temp, dayl)
        np.testing.assert_allclose(batch["q"][b], single["q"])
    assert not np.allclose(batch["q"][0], batch["q"][1])


def test_bad_scheme_and_parameters_are_rejected():
    prcp, temp, dayl = _synthetic_forcing(years=1)
    with pytest.raises(ConfigError, match="scheme"):
        exphydro.simulate(PARAMS, prcp, temp, dayl, scheme="rk45")
    with pytest.raises(ConfigError, match="missing"):
        exphydro.simulate({"f": 0.1}, prcp, temp, dayl)
    assert set(exphydro.PARAMETER_BOUNDS) == set(exphydro.PARAMETER_NAMES)
