"""EXP-HYDRO against the original code's reference run, and water-balance closure."""

from pathlib import Path

import numpy as np
import pytest

from runoffbench.errors import ConfigError, DataError
from runoffbench.models.conceptual import exphydro
from runoffbench.models.conceptual.pet import hamon

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


def _reference_rhs(s0, s1, p, t, pet, f, smax, qmax, df, tmax, tmin):
    """The module docstring's equations, written out plainly (no numba)."""
    snow = p if t < tmin else 0.0
    melt = min(s0, df * (t - tmax)) if t > tmax and s0 > 0.0 else 0.0
    if s1 < 0.0:
        et, qb, qs = 0.0, 0.0, 0.0
    elif s1 > smax:
        et, qb, qs = pet, qmax, s1 - smax
    else:
        et, qb, qs = pet * s1 / smax, qmax * np.exp(-f * (smax - s1)), 0.0
    return np.array([snow - melt, p - snow + melt - et - qb - qs, qb, qs, et, melt])


def _reference_run(params, prcp, temp, pet, scheme, s0=0.0, s1=0.0):
    rows = []
    for i in range(prcp.size):
        forcing = (prcp[i], temp[i], pet[i], *params)
        k1 = _reference_rhs(s0, s1, *forcing)
        if scheme == "euler":
            w = k1
        else:
            k2 = _reference_rhs(s0 + 0.5 * k1[0], s1 + 0.5 * k1[1], *forcing)
            k3 = _reference_rhs(s0 + 0.5 * k2[0], s1 + 0.5 * k2[1], *forcing)
            k4 = _reference_rhs(s0 + k3[0], s1 + k3[1], *forcing)
            w = (k1 + 2.0 * (k2 + k3) + k4) / 6.0
        s0, s1 = s0 + w[0], s1 + w[1]
        rows.append([w[2] + w[3], w[2], w[3], w[4], w[5], s0, s1])
    return dict(zip(("q", "qb", "qs", "et", "melt", "swe", "soil"), np.array(rows).T))


@pytest.mark.parametrize("scheme", ["rk4", "euler"])
@pytest.mark.parametrize("params", [[0.07, 200.0, 20.0, 2.0, 1.0, -1.0], [0.1, 100.0, 50.0, 5.0, 0.0, 0.0]])
def test_compiled_schemes_match_the_plain_equations(scheme, params):
    """The optimised kernel stays within 1e-12 of the equations evaluated naively (overflow too)."""
    prcp, temp, dayl = _synthetic_forcing(years=2, seed=3)
    prcp = prcp * 3.0  # wet enough for S1 > Smax (overflow) with Smax = 100
    pet = hamon(temp, dayl)
    out = exphydro.simulate(params, prcp, temp, pet=pet, scheme=scheme, initial_swe=5.0, initial_soil=80.0)
    expected = _reference_run(np.array(params), prcp, temp, pet, scheme, 5.0, 80.0)
    for name, values in expected.items():
        np.testing.assert_allclose(out[name], values, rtol=1e-12, atol=1e-12 * np.abs(values).max(), err_msg=name)
    if params[1] == 100.0:
        assert out["qs"].max() > 0.0


def test_prepared_run_equals_simulate_and_reports_storage():
    prcp, temp, dayl = _synthetic_forcing(years=2)
    forcing = exphydro.prepare(prcp, temp, dayl)
    params = exphydro.parameter_array(PARAMS)
    for scheme in exphydro.SCHEMES:
        rows = exphydro.run(params, forcing, scheme=scheme, initial_soil=50.0)
        full = exphydro.simulate(PARAMS, prcp, temp, dayl, scheme=scheme, initial_soil=50.0)
        assert rows.shape == (len(exphydro.OUTPUT_NAMES), prcp.size)
        for k, name in enumerate(exphydro.OUTPUT_NAMES):
            np.testing.assert_array_equal(rows[k], full[name])
        np.testing.assert_array_equal(full["storage"], full["swe"] + full["soil"])
    snow_days = temp < PARAMS["tmin"]
    assert (full["rainfall"][snow_days] == 0.0).all()


def test_nan_forcing_is_rejected_with_its_position():
    prcp, temp, dayl = _synthetic_forcing(years=1)
    temp = temp.copy()
    temp[40] = np.nan
    with pytest.raises(DataError, match=r"'tmean' contains NaN or inf \(first at flat index 40\)"):
        exphydro.simulate(PARAMS, prcp, temp, dayl)


@pytest.mark.parametrize("scheme", ["rk4", "rk4_patil"])
def test_calibration_beats_the_hand_set_parameters(reference, scheme):
    """SCE-UA on KGE over the reference window beats Patil's hand-set parameters (issue 3)."""
    from runoffbench.calibration.calibrate import _sample
    from runoffbench.calibration.settings import CalibrationSettings
    from runoffbench.calibration.setup import SpotpySetup
    from runoffbench.models.conceptual import get_model

    model = get_model("exphydro")
    inputs = {"forcing": exphydro.prepare(reference["P"], reference["T"], pet=reference["PET"]), "scheme": scheme}
    observed = np.arange(WINDOW.start, WINDOW.stop)  # the first 365 days are the spin-up
    hand_set = model.simulate(exphydro.parameter_array(PARAMS), inputs)["q"]
    hand_kge, _ = _kge_nse(hand_set[WINDOW], reference["Q"][WINDOW])
    settings = CalibrationSettings(evaluations=3000, objective="kge", algorithm_options={"ngs": 6})
    setup = SpotpySetup(model, inputs, observed, reference["Q"][WINDOW], model.resolve_bounds(), "kge", "sceua")
    _sample(setup, settings)
    calibrated, _ = _kge_nse(model.simulate(setup.best_params, inputs)["q"][WINDOW], reference["Q"][WINDOW])
    assert calibrated == pytest.approx(setup.best_value)
    assert calibrated > hand_kge + 0.02
    assert calibrated > 0.734  # the original code's KGE with the hand-set parameters
