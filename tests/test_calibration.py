"""Per-basin SpotPy calibration: parameter recovery, algorithm direction, determinism, bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from runoffbench.calibration.calibrate import (
    BasinInputs,
    calibrate_basin,
    default_complexes,
    simulate_period,
    trial_seeds,
)
from runoffbench.calibration.objectives import kge, nse, rmse
from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.errors import ConfigError, DataError
from runoffbench.models.conceptual import CONCEPTUAL_MODELS, get_model
from runoffbench.models.conceptual.pet import day_length
from runoffbench.periods import Period, water_years

TRAIN = water_years(1998, 2000)
TEST = water_years(2001, 2003)
DATES = pd.date_range("1995-10-01", "2003-09-30", freq="D")

#: known parameters of the synthetic basins (EXP-HYDRO: a snowy basin; SAC-SMA: the NCAR
#: calibration of 03049800 with a Priestley-Taylor coefficient of 1.4)
TRUE_PARAMETERS = {
    "exphydro": {"f": 0.03, "smax": 600.0, "qmax": 25.0, "df": 2.0, "tmax": 1.0, "tmin": -1.0},
    "sacsma": {
        "scf": 0.95, "mfmax": 2.443, "mfmin": 0.55, "uadj": 0.05, "si": 1918.9, "pxtemp": -0.99,
        "uztwm": 40.0, "uzfwm": 396.2, "lztwm": 339.0, "lzfpm": 54.97, "lzfsm": 211.7, "uzk": 0.5,
        "lzpk": 0.009, "lzsk": 0.142, "zperc": 196.4, "rexp": 3.0, "pfree": 0.4, "pctim": 0.005,
        "adimp": 0.05, "unit_shape": 1.294, "unit_scale": 0.893, "pet_coef": 1.4,
    },
}
#: (evaluations, SCE-UA complexes, required test NSE against the true flow)
RECOVERY = {"exphydro": (800, 3, 0.98), "sacsma": (6000, 4, 0.95)}


def synthetic_basin(seed: int = 0, basin: str = "01000001") -> BasinInputs:
    """Eight water years of daily weather for a snowy mid-latitude basin (lat 42 N, 800 m)."""
    rng = np.random.default_rng(seed)
    n = DATES.size
    doy = DATES.day_of_year.to_numpy()
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)
    tmean = 7.0 + 12.0 * season + rng.normal(0.0, 3.0, n)
    wet = rng.random(n) < 0.35
    prcp = np.where(wet, rng.gamma(0.8, 9.0, n), 0.0)
    dayl = day_length(42.0, doy)
    srad = np.where(wet, 120.0, 260.0) * (1.0 + 0.6 * season) * 43200.0 / dayl
    forcings = {"prcp": prcp, "tmax": tmean + 5.0, "tmin": tmean - 5.0, "srad": srad, "dayl": dayl}
    return BasinInputs(basin, DATES, forcings, 42.0, 800.0)


def true_flow(model_name: str, inputs: BasinInputs) -> np.ndarray:
    """Streamflow of the true parameters, simulated from the first day (no spin-up)."""
    model = get_model(model_name)
    params = np.array([TRUE_PARAMETERS[model_name][p] for p in model.parameter_names])
    whole = Period(DATES[0], DATES[-1])
    return simulate_period(model, params, inputs, whole, spinup_years=0)["qsim"]


def settings(**changes) -> CalibrationSettings:
    base = {"evaluations": 200, "algorithm_options": {"ngs": 2}, "spinup_years": 2}
    return CalibrationSettings(**{**base, **changes})


@pytest.fixture(scope="module")
def basin() -> BasinInputs:
    return synthetic_basin()


@pytest.fixture(scope="module")
def exphydro_flow(basin) -> np.ndarray:
    return true_flow("exphydro", basin)


@pytest.mark.parametrize("model_name", ["exphydro", "sacsma"])
def test_parameter_recovery_reaches_test_nse(basin, model_name):
    qtrue = true_flow(model_name, basin)
    evaluations, ngs, required = RECOVERY[model_name]
    result = calibrate_basin(get_model(model_name), basin, qtrue, TRAIN, TEST,
                             settings(evaluations=evaluations, algorithm_options={"ngs": ngs}))
    test = DATES.get_indexer(TEST.dates)
    assert nse(obs=qtrue[test], sim=result.test_outputs["qsim"]) >= required
    assert set(result.test_outputs) == {"qsim", "et", "baseflow", "swe", "storage"}
    assert result.test_dates.equals(TEST.dates)


@pytest.mark.parametrize("algorithm, objective", [("sceua", "rmse"), ("sceua", "nse"), ("dds", "rmse"), ("dds", "kge")])
def test_best_parameters_in_the_objectives_direction(basin, exphydro_flow, algorithm, objective):
    options = {"ngs": 2} if algorithm == "sceua" else {}
    result = calibrate_basin(get_model("exphydro"), basin, exphydro_flow, TRAIN, TEST,
                             settings(algorithm=algorithm, objective=objective, algorithm_options=options))
    best_so_far = result.trace[:, 1]
    improving = np.diff(best_so_far) <= 0 if objective == "rmse" else np.diff(best_so_far) >= 0
    assert improving.all()
    assert result.train_value == pytest.approx(best_so_far[-1])
    # re-simulating the returned parameters gives the reported best value on the train period
    params = np.array([result.parameters[p] for p in get_model("exphydro").parameter_names])
    qsim = simulate_period(get_model("exphydro"), params, basin, TRAIN, 2)["qsim"]
    function = {"rmse": rmse, "nse": nse, "kge": kge}[objective]
    observed = exphydro_flow[DATES.get_indexer(TRAIN.dates)]
    assert function(obs=observed, sim=qsim) == pytest.approx(result.train_value)


def test_deterministic_for_a_seed(basin, exphydro_flow):
    model = get_model("exphydro")
    first, second, other = (calibrate_basin(model, basin, exphydro_flow, TRAIN, TEST, settings(seed=seed))
                            for seed in (7, 7, 8))
    assert first.parameters == second.parameters
    np.testing.assert_array_equal(first.test_outputs["qsim"], second.test_outputs["qsim"])
    assert first.parameters != other.parameters


def test_missing_observations_are_masked(basin, exphydro_flow):
    model = get_model("exphydro")
    gappy = exphydro_flow.copy()
    gappy[DATES.get_indexer(TRAIN.dates)[::3]] = np.nan
    result = calibrate_basin(model, basin, gappy, TRAIN, TEST, settings(objective="nse"))
    assert np.isfinite(result.train_value)
    assert np.isfinite(result.test_outputs["qsim"]).all()


def test_basin_without_observations_raises_data_error(basin, exphydro_flow):
    empty = exphydro_flow.copy()
    empty[DATES.get_indexer(TRAIN.dates)] = np.nan
    with pytest.raises(DataError, match="01000001.*observed streamflow in the calibration period"):
        calibrate_basin(get_model("exphydro"), basin, empty, TRAIN, TEST, settings())


def test_nan_forcing_inside_the_window_is_named(exphydro_flow):
    broken = synthetic_basin()
    broken.forcings["tmax"][DATES.get_loc(pd.Timestamp("1999-02-03"))] = np.nan
    with pytest.raises(DataError, match="01000001: forcing 'tmax' is missing on 1999-02-03"):
        calibrate_basin(get_model("exphydro"), broken, exphydro_flow, TRAIN, TEST, settings())


def test_period_outside_the_forcing_is_named(basin, exphydro_flow):
    with pytest.raises(DataError, match="outside the forcing"):
        calibrate_basin(get_model("exphydro"), basin, exphydro_flow, TRAIN, water_years(2003, 2005), settings())


@pytest.mark.parametrize(
    "bounds, message",
    [
        ({"smax": [900.0, 100.0]}, r"models.exphydro.bounds.smax: lower bound 900.0 must be .* below"),
        ({"f": [-0.5, 0.1]}, r"models.exphydro.bounds.f: .* leaves the valid range"),
        ({"smaxx": [100.0, 200.0]}, r"models.exphydro.bounds.smaxx: unknown parameter"),
        ({"qmax": [10.0]}, r"models.exphydro.bounds.qmax: expected \[lower, upper\]"),
    ],
)
def test_bad_bounds_are_config_errors(bounds, message):
    with pytest.raises(ConfigError, match=message):
        get_model("exphydro").resolve_bounds(bounds)


def test_bounds_override_is_used(basin, exphydro_flow):
    result = calibrate_basin(get_model("exphydro"), basin, exphydro_flow, TRAIN, TEST,
                             settings(bounds={"smax": [700.0, 710.0]}))
    assert 700.0 <= result.parameters["smax"] <= 710.0


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"algorithm": "annealing"}, "calibration.algorithm: unknown algorithm 'annealing'"),
        ({"objective": "mae"}, "calibration.objective: unknown objective 'mae'"),
        ({"algorithm_options": {"complexes": 3}}, "calibration.sceua.complexes: unknown setting"),
        ({"evaluations": 0}, "calibration.evaluations"),
        ({"trials": 0}, "calibration.trials: must be a positive integer"),
        ({"trials": 1.5}, "calibration.trials: must be a positive integer"),
        ({"algorithm_options": {"ngs": 2.5}}, "calibration.sceua.ngs: must be a whole number"),
    ],
)
def test_bad_settings_are_config_errors(changes, message):
    with pytest.raises(ConfigError, match=message):
        settings(**changes)


def test_unknown_model_and_option():
    with pytest.raises(ConfigError, match="unknown conceptual model 'hbv'; known: exphydro, sacsma"):
        get_model("hbv")
    with pytest.raises(ConfigError, match="models.exphydro.options.scheme: 'rk2'"):
        get_model("exphydro").check_options({"scheme": "rk2"})


def test_registry_entries_are_consistent():
    for name, model in CONCEPTUAL_MODELS.items():
        assert model.name == name
        assert tuple(model.bounds) == model.parameter_names
        assert model.resolve_bounds() == dict(model.bounds)
        assert {"qsim", "et", "baseflow", "swe", "storage"} <= set(model.outputs)


def test_spotpy_database_stays_in_memory(basin, exphydro_flow, tmp_path, monkeypatch):
    """No CSV (or any other) database file is written, for either algorithm."""
    monkeypatch.chdir(tmp_path)
    for algorithm, options in (("sceua", {"ngs": 2}), ("dds", {})):
        calibrate_basin(get_model("exphydro"), basin, exphydro_flow, TRAIN, TEST,
                        settings(algorithm=algorithm, evaluations=60, algorithm_options=options))
    assert list(tmp_path.iterdir()) == []


def test_spinup_days_do_not_enter_the_objective(basin, exphydro_flow):
    """Observations inside the spin-up are ignored: spoiling them changes nothing."""
    spoiled = exphydro_flow.copy()
    spinup = DATES < TRAIN.start
    spoiled[spinup] = 1.0e6
    first, second = (calibrate_basin(get_model("exphydro"), basin, q, TRAIN, TEST, settings(seed=3))
                     for q in (exphydro_flow, spoiled))
    assert first.parameters == second.parameters and first.train_value == second.train_value


@pytest.mark.parametrize("algorithm, options", [("sceua", {"ngs": 3, "pcento": 1e-12, "peps": 1e-12}), ("dds", {})])
def test_evaluations_are_model_runs(basin, exphydro_flow, monkeypatch, algorithm, options):
    """The budget counts model runs, not SpotPy's repetitions (SCE-UA re-scores stored points)."""
    model = get_model("exphydro")
    runs = []
    counting = replace(model, simulate=lambda params, inputs: runs.append(1) or model.simulate(params, inputs))
    result = calibrate_basin(counting, basin, exphydro_flow, TRAIN, TEST,
                             settings(algorithm=algorithm, evaluations=300, algorithm_options=options))
    assert len(runs) == 300 + 1  # the budget, plus the test-period run
    assert result.evaluations == 300
    assert result.trace[-1, 0] == 300


@pytest.mark.parametrize("algorithm, options", [("sceua", {"ngs": 2}), ("dds", {})])
def test_trials_keep_the_best_trial(basin, exphydro_flow, algorithm, options):
    """``trials`` independent calibrations (seeds from :func:`trial_seeds`), the best by the training
    objective kept: the same as the best of the single calibrations with those seeds."""
    model = get_model("exphydro")
    chosen = settings(algorithm=algorithm, algorithm_options=options, evaluations=150, seed=5)
    combined = calibrate_basin(model, basin, exphydro_flow, TRAIN, TEST, replace(chosen, trials=3))
    singles = [calibrate_basin(model, basin, exphydro_flow, TRAIN, TEST, replace(chosen, seed=seed))
               for seed in trial_seeds(5, 3)]
    assert trial_seeds(5, 3)[0] == 5 and len(set(trial_seeds(5, 3))) == 3
    assert len({single.train_value for single in singles}) == 3  # the trials search differently
    best = min(singles, key=lambda single: single.train_value)  # RMSE: smaller is better
    assert combined.parameters == best.parameters and combined.train_value == best.train_value
    np.testing.assert_array_equal(combined.test_outputs["qsim"], best.test_outputs["qsim"])
    assert combined.evaluations == 450 and combined.trace[-1, 0] == 450
    assert combined.trace[-1, 1] == best.train_value


def test_default_number_of_complexes_follows_the_budget():
    # SAC-SMA (22 parameters): 2 complexes for a few thousand runs, more for larger budgets, at most 22
    assert [default_complexes(22, runs) for runs in (500, 3000, 10000, 30000, 10**6)] == [2, 2, 3, 11, 22]
    assert [default_complexes(6, runs) for runs in (500, 3000, 10000)] == [2, 3, 6]


def _starting_on(inputs: BasinInputs, day: str) -> BasinInputs:
    """``inputs`` with every forcing missing before ``day`` (a record that starts late)."""
    late = {name: np.where(DATES < pd.Timestamp(day), np.nan, values) for name, values in inputs.forcings.items()}
    return replace(inputs, forcings=late)


def test_a_short_record_is_spun_up_from_its_first_day_and_scored_after(basin, exphydro_flow):
    """Item 10: the forcing starts inside the train period; the spin-up starts on its first day (not on
    the cache's, where it is missing) and the objective counts only the days after a full spin-up:
    spoiling the observations of the spin-up changes nothing."""
    short = _starting_on(basin, "1998-01-01")
    spoiled = exphydro_flow.copy()
    spoiled[(DATES >= pd.Timestamp("1998-01-01")) & (DATES < pd.Timestamp("2000-01-01"))] = 1.0e6
    first, second = (calibrate_basin(get_model("exphydro"), short, q, TRAIN, TEST, settings(seed=3))
                     for q in (exphydro_flow, spoiled))
    assert first.parameters == second.parameters and np.isfinite(first.train_value)
    assert np.isfinite(first.test_outputs["qsim"]).all()


def test_a_record_too_short_for_its_spin_up_names_the_fix(basin, exphydro_flow, caplog):
    with pytest.raises(DataError, match=r"0 day\(s\) with observed streamflow .* after the spin-up from 2000-06-01.*"
                                        r"cache.start.*calibration.spinup_years"):
        calibrate_basin(get_model("exphydro"), _starting_on(basin, "2000-06-01"), exphydro_flow, TRAIN, TEST,
                        settings())
    params = np.array([TRUE_PARAMETERS["exphydro"][p] for p in get_model("exphydro").parameter_names])
    with caplog.at_level("WARNING"):  # a test period is predicted with the shorter spin-up, and a warning
        simulate_period(get_model("exphydro"), params, _starting_on(basin, "2000-01-01"), TEST, 2)
    assert "forcing starts on 2000-01-01" in caplog.text and "cache.start" in caplog.text
    with pytest.raises(DataError, match="inside the period"):
        simulate_period(get_model("exphydro"), params, _starting_on(basin, "2001-01-01"), TEST, 2)


def test_objectives_take_obs_and_sim_by_name_only():
    """NSE and KGE are asymmetric: a positional (sim, obs) call would silently score something else."""
    obs, sim = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])
    for function in (rmse, nse, kge):
        with pytest.raises(TypeError):
            function(sim, obs)
    assert nse(obs=obs, sim=sim) == pytest.approx(1 - 5 / (14 / 3))
