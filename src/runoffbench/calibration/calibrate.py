"""Calibrate one conceptual model on one basin with SpotPy and simulate its test period.

Simulation windows: a period ``[start, end]`` is simulated from ``start − spinup_years`` to ``end``,
from the model's default initial states; the spin-up days are left out of the objective and of the
predictions. Spin-up per basin: where the basin's forcing is complete only from a later day (its
record starts late, or the cache starts late: ``cache.start``), the window starts on that day
(:func:`first_complete_day`) instead of failing on the missing forcing; in the calibration period
the objective then counts only the days after a full ``spinup_years`` from it, and a test period
whose spin-up is cut is predicted with the shorter spin-up and a warning naming the fix. The
calibration run covers the train period and
the test predictions come from a separate run over the test period with its own spin-up, so a split
whose test period precedes its train period (Kratzert et al. 2019) is handled like any other.

The objective (:mod:`.objectives`) is computed on the train-period days with an observation; a basin
with fewer than :data:`MIN_OBSERVED_DAYS` such days, a period outside the forcing, or a NaN forcing
inside a simulation window raises :class:`DataError` naming the basin — the chunk runner records it
as that basin's failure.

The best parameter set is the best objective value met over all runs, judged in the objective's own
direction (see :mod:`.setup`), so SCE-UA (minimising) and DDS (maximising) both return their best.
``evaluations`` is a budget of model runs per trial (SCE-UA may stop earlier on its convergence
criteria), and the trace counts model runs, not SpotPy's repetitions (see :mod:`.setup`).

Trials (``settings.trials``, the CAMELS protocol of Newman et al. 2015: independent random-start
SCE-UA runs, the best kept): each trial is a fresh SpotPy sampler with its own random state
(:func:`trial_seeds`: the first is ``seed``), the best set over all trials' runs is returned, which
is the best trial's by the training objective.

SCE-UA is :class:`.sceua.DuanSCEUA`: SpotPy's algorithm with the complex evolution of Duan's
SCE-UA 2.1 (SpotPy's own draws uniformly random points over the whole box where a step fails or
leaves the bounds, which stalls a 22-parameter SAC-SMA search), and with
:func:`default_complexes` complexes unless ``ngs`` is set.

SpotPy keeps its database in memory (``dbformat='ram'``, ``save_sim=False``) and runs sequentially
(one basin per process); ``random_state`` makes a calibration reproducible bit for bit, in any
process (the parameters' bounds no longer come from unseeded draws: :func:`.setup.uniform_parameter`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import spotpy
import xarray as xr

from runoffbench.calibration.sceua import DuanSCEUA
from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.calibration.setup import SpotpySetup
from runoffbench.errors import DataError
from runoffbench.models.conceptual import ConceptualModel
from runoffbench.periods import Period

log = logging.getLogger(__name__)

#: fewest observed days in the train period for a calibration to be attempted
MIN_OBSERVED_DAYS = 30
#: number of points of the objective-versus-evaluations trace (log-spaced evaluation counts)
TRACE_POINTS = 40
#: SpotPy ``repetitions`` per evaluation for SCE-UA (it counts re-scorings too; at most ~2 per run)
SCEUA_REPETITIONS_FACTOR = 4
#: model runs per population point that :func:`default_complexes` sizes SCE-UA's population for
COMPLEX_RUNS_PER_POINT = 60


@dataclass(frozen=True)
class BasinInputs:
    """Forcing of one basin: the cache variables over ``dates`` plus latitude and elevation."""

    basin: str
    dates: pd.DatetimeIndex
    forcings: Mapping[str, np.ndarray]
    lat: float
    elev: float

    @classmethod
    def from_cache(cls, cache: xr.Dataset, basin: str, variables: tuple[str, ...]) -> BasinInputs:
        """Select ``basin`` from an open forcing cache (contract 1)."""
        if basin not in cache.indexes["basin"]:
            raise DataError(f"basin {basin}: not in the forcing cache")
        missing = [v for v in variables if v not in cache]
        if missing:
            raise DataError(f"basin {basin}: the forcing cache lacks variable(s) {missing}")
        one = cache.sel(basin=basin)
        forcings = {v: one[v].to_numpy().astype(np.float64) for v in variables}
        return cls(basin, pd.DatetimeIndex(cache.indexes["date"]), forcings, float(one["lat"]), float(one["elev"]))


@dataclass
class BasinResult:
    """Outcome of one basin's calibration.

    Attributes:
        parameters: best parameter set, by name.
        objective: objective name; ``train_value`` its best value over the train period.
        evaluations: number of model runs, over all trials.
        trace: ``(evaluation count, best value so far)`` pairs, natural units, over the trials'
            runs in order (trial 2's runs follow trial 1's).
        test_dates: days of the test period; ``test_outputs`` maps contract names (``qsim``, ``et``,
            ``baseflow``, ``swe``, ``storage``) to their series over them.
        seconds: wall-clock time of calibration and test simulation.
    """

    basin: str
    parameters: dict[str, float]
    objective: str
    train_value: float
    evaluations: int
    trace: np.ndarray
    test_dates: pd.DatetimeIndex
    test_outputs: dict[str, np.ndarray]
    seconds: float


def first_complete_day(inputs: BasinInputs, variables: tuple[str, ...]) -> int:
    """Index of the basin's first day on which every forcing of ``variables`` is present (the start of
    its record in the cache); ``len(dates)`` when there is none."""
    complete = np.logical_and.reduce([np.isfinite(inputs.forcings[v]) for v in variables])
    return int(np.argmax(complete)) if complete.any() else len(inputs.dates)


def simulation_window(dates: pd.DatetimeIndex, period: Period, spinup_years: int, basin: str,
                      first_valid: int = 0) -> tuple[int, int, int]:
    """``(first, period_first, stop)`` indices of ``dates``: spin-up start, period start, end + 1.

    The spin-up starts ``spinup_years`` before the period, or on day ``first_valid`` (the basin's
    first day with complete forcing, :func:`first_complete_day`) where that is later.
    """
    if period.start < dates[0] or period.end > dates[-1]:
        raise DataError(
            f"basin {basin}: period {period} lies outside the forcing ({dates[0].date()}..{dates[-1].date()})"
        )
    stop = int(dates.get_loc(period.end)) + 1
    if first_valid >= stop:
        raise DataError(f"basin {basin}: no day with complete forcing up to the end of period {period}")
    first = max(int(dates.searchsorted(period.start - pd.DateOffset(years=spinup_years))), int(first_valid))
    return first, int(dates.get_loc(period.start)), stop


def scored_from(dates: pd.DatetimeIndex, first: int, period_first: int, spinup_years: int) -> int:
    """First index of the objective: the period's first day, or a full spin-up after the window's first
    day where the window starts late (the basin's record or the cache starts after ``start − spinup``)."""
    return max(period_first, int(dates.searchsorted(dates[first] + pd.DateOffset(years=spinup_years))))


def _spinup_note(inputs: BasinInputs, first: int, spinup_years: int, period: Period) -> str:
    return (f"basin {inputs.basin}: its forcing starts on {inputs.dates[first].date()} (the basin's record or the "
            f"cache's first day), later than the {spinup_years} spin-up year(s) (calibration.spinup_years) before "
            f"the period {period}; build the cache from earlier (cache.start) or lower calibration.spinup_years")


def _prepared(model: ConceptualModel, inputs: BasinInputs, first: int, stop: int, options) -> dict:
    """The model's inputs over ``[first, stop)``, after checking that no forcing is missing there."""
    window = {}
    for name in model.forcings:
        values = inputs.forcings[name][first:stop]
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise DataError(
                f"basin {inputs.basin}: forcing '{name}' is missing on {inputs.dates[first + bad[0]].date()} "
                f"({bad.size} day(s)) inside the simulation window "
                f"{inputs.dates[first].date()}..{inputs.dates[stop - 1].date()}"
            )
        window[name] = values
    return model.prepare(window, inputs.lat, inputs.elev, inputs.dates[first:stop], options)


def default_complexes(n_parameters: int, evaluations: int) -> int:
    """SCE-UA's number of complexes when ``ngs`` is not set: the budget's, within [2, n_parameters].

    ``evaluations // (COMPLEX_RUNS_PER_POINT · (2 n + 1))``: each of the population's ngs (2n + 1)
    points gets about :data:`COMPLEX_RUNS_PER_POINT` model runs, i.e. some 40 shuffling loops (a
    loop costs ~1.5 runs per point), enough for the complexes to converge. More complexes search
    more robustly but converge more slowly (Duan et al. 1994); SpotPy's fixed default of 20
    complexes leaves SAC-SMA (22 parameters, a population of 900) fewer than 10 loops in 10,000
    runs. SAC-SMA: 2 complexes below 8,100 runs, 3 at 10,000, 11 at 30,000; EXP-HYDRO: 2 at 500,
    3 at 3,000, 6 from 4,680. Measured on SAC-SMA (benchmarks/README.md, "Calibration"): at 10,000
    runs 3 complexes reached the best training NSE on a real basin and on synthetic ones, 5-10 no
    better, SpotPy's 20 clearly worse.
    """
    points = 2 * int(n_parameters) + 1
    return int(min(max(int(evaluations) // (COMPLEX_RUNS_PER_POINT * points), 2), max(int(n_parameters), 2)))


def trial_seeds(seed: int, trials: int) -> list[int]:
    """Random states of a basin's trials: ``seed`` for the first, then independent streams."""
    return [int(seed)] + [int(np.random.SeedSequence([int(seed), trial]).generate_state(1)[0])
                          for trial in range(1, int(trials))]


def _sample(setup: SpotpySetup, settings: CalibrationSettings) -> None:
    """Run ``settings.trials`` trials of at most ``settings.evaluations`` model runs each (see
    :mod:`.setup`); the setup keeps the best parameter set over all of them."""
    evaluations = int(settings.evaluations)
    for random_state in trial_seeds(settings.seed, settings.trials):
        options = dict(settings.algorithm_options)
        common = {"dbname": "calibration", "dbformat": "ram", "save_sim": False, "parallel": "seq",
                  "random_state": random_state}
        with contextlib.redirect_stdout(io.StringIO()):  # SpotPy prints progress on stdout
            if settings.algorithm == "sceua":
                options["ngs"] = int(options.get("ngs", default_complexes(len(setup.params), evaluations)))
                if "kstop" in options:
                    options["kstop"] = int(options["kstop"])
                sampler = DuanSCEUA(setup, **common)
                setup.start_trial(sampler, evaluations)
                # SpotPy's SCE-UA counts re-scored complex members as repetitions: give it room,
                # the setup stops it after `evaluations` model runs
                sampler.sample(SCEUA_REPETITIONS_FACTOR * evaluations, **options)
            else:
                sampler = spotpy.algorithms.dds(setup, r=options.pop("r", 0.2), **common)
                setup.start_trial(sampler, evaluations)
                sampler.sample(evaluations, **options)


def best_so_far_trace(values: np.ndarray, maximise: bool, points: int = TRACE_POINTS) -> np.ndarray:
    """``(evaluation, best value so far)`` at about ``points`` log-spaced evaluation counts."""
    values = np.asarray(values, dtype=np.float64)
    best = np.maximum.accumulate(values) if maximise else np.minimum.accumulate(values)
    counts = np.unique(np.geomspace(1, values.size, num=min(points, values.size)).round().astype(int))
    return np.column_stack([counts, best[counts - 1]])


def simulate_period(
    model: ConceptualModel,
    params: np.ndarray,
    inputs: BasinInputs,
    period: Period,
    spinup_years: int,
    options: Mapping | None = None,
) -> dict[str, np.ndarray]:
    """Contract outputs (``qsim``, ``et``, ...) of ``params`` over ``period``, after spin-up."""
    first, start, stop = simulation_window(inputs.dates, period, spinup_years, inputs.basin,
                                           first_complete_day(inputs, model.forcings))
    if first > start:
        raise DataError(f"basin {inputs.basin}: the forcing starts on {inputs.dates[first].date()}, inside the period "
                        f"{period}, which cannot be predicted; choose a period inside the basin's record")
    if scored_from(inputs.dates, first, start, spinup_years) > start:
        log.warning("shortened spin-up: %s", _spinup_note(inputs, first, spinup_years, period))
    out = model.simulate(np.asarray(params, dtype=np.float64), _prepared(model, inputs, first, stop, options or {}))
    return {name: out[key][start - first:] for name, (key, _units) in model.outputs.items()}


def calibrate_basin(
    model: ConceptualModel,
    inputs: BasinInputs,
    qobs: np.ndarray,
    train_period: Period,
    test_period: Period,
    settings: CalibrationSettings,
) -> BasinResult:
    """Calibrate ``model`` on the train period of one basin and simulate its test period.

    Args:
        model: registered conceptual model.
        inputs: the basin's forcing (every variable in ``model.forcings``) over ``inputs.dates``.
        qobs: observed streamflow [mm/day] on ``inputs.dates``; NaN where missing.
        train_period, test_period: calibration and prediction periods (inside ``inputs.dates``).
        settings: algorithm, budget, objective, spin-up, seed, bound overrides.
    """
    started = time.perf_counter()
    bounds = model.resolve_bounds(settings.bounds)
    options = model.check_options(settings.model_options)
    first, start, stop = simulation_window(inputs.dates, train_period, settings.spinup_years, inputs.basin,
                                           first_complete_day(inputs, model.forcings))
    prepared = _prepared(model, inputs, first, stop, options)
    qobs_window = np.asarray(qobs, dtype=np.float64)[first:stop]
    scored = scored_from(inputs.dates, first, start, settings.spinup_years) - first
    observed = scored + np.flatnonzero(np.isfinite(qobs_window[scored:]))
    shortened = scored > start - first
    if shortened:
        log.warning("objective from %s, after a full spin-up: %s", inputs.dates[first + scored].date(),
                    _spinup_note(inputs, first, settings.spinup_years, train_period))
    if observed.size < MIN_OBSERVED_DAYS:
        raise DataError(
            f"basin {inputs.basin}: {observed.size} day(s) with observed streamflow in the calibration period "
            f"{train_period}" + (f" after the spin-up from {inputs.dates[first].date()}" if shortened else "")
            + f"; at least {MIN_OBSERVED_DAYS} needed"
            + (f" ({_spinup_note(inputs, first, settings.spinup_years, train_period)})" if shortened else "")
        )
    setup = SpotpySetup(model, prepared, observed, qobs_window[observed], bounds, settings.objective,
                        settings.algorithm)
    _sample(setup, settings)
    best = setup.best_params
    test_outputs = simulate_period(model, best, inputs, test_period, settings.spinup_years, options)
    return BasinResult(
        basin=inputs.basin,
        parameters=dict(zip(model.parameter_names, (float(v) for v in best))),
        objective=settings.objective,
        train_value=float(setup.best_value),
        evaluations=setup.runs,
        trace=best_so_far_trace(np.array(setup.values), setup.maximise),
        test_dates=test_period.dates,
        test_outputs=test_outputs,
        seconds=time.perf_counter() - started,
    )
