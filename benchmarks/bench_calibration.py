"""Time the conceptual models and one basin's SCE-UA calibration, with and without numba's JIT.

Run ``taskset -c 1 python benchmarks/bench_calibration.py`` (pinned to one core). Each measurement
runs in a subprocess (single-threaded numba/BLAS), once compiled and once with
``NUMBA_DISABLE_JIT=1`` (pure Python, at reduced repetitions), and markdown tables are printed:

- one model run over 3,653 days (10 years), median of repeated calls: EXP-HYDRO's public
  ``exphydro.simulate`` (forcing checks on every call) per integration scheme, and the registry
  adapters (``CONCEPTUAL_MODELS[name].simulate`` on prepared inputs: what the calibration calls),
  EXP-HYDRO with ``rk4`` (the default configuration) and ``euler``;
- one basin's SCE-UA calibration (:func:`runoffbench.calibration.calibrate.calibrate_basin`, RMSE,
  ``ngs=10``, SpotPy in-memory database, ``save_sim=False``) on a 10-year window (2 spin-up years +
  8 train years) including the test-period run: 10,000 evaluations compiled (convergence criteria
  switched off, so that all 10,000 run; median of ``--calibration-repeats`` runs); without JIT a
  shorter budget whose time per evaluation is scaled to 10,000.

``--worker`` runs a single measurement and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

N_DAYS = 3653
EVALUATIONS = 10000
PARAMETERS = {
    "exphydro": {"f": 0.03, "smax": 600.0, "qmax": 25.0, "df": 2.0, "tmax": 1.0, "tmin": -1.0},
    "sacsma": {
        "scf": 0.95, "mfmax": 2.443, "mfmin": 0.55, "uadj": 0.05, "si": 1918.9, "pxtemp": -0.99,
        "uztwm": 40.0, "uzfwm": 396.2, "lztwm": 339.0, "lzfpm": 54.97, "lzfsm": 211.7, "uzk": 0.5,
        "lzpk": 0.009, "lzsk": 0.142, "zperc": 196.4, "rexp": 3.0, "pfree": 0.4, "pctim": 0.005,
        "adimp": 0.05, "unit_shape": 1.294, "unit_scale": 0.893, "pet_coef": 1.4,
    },
}


def _basin(n_days: int):
    """Synthetic weather of a snowy basin (42 N, 800 m) from 1990-10-01, as BasinInputs."""
    from runoffbench.calibration.calibrate import BasinInputs
    from runoffbench.models.conceptual.pet import day_length

    dates = pd.date_range("1990-10-01", periods=n_days, freq="D")
    rng = np.random.default_rng(42)
    doy = dates.day_of_year.to_numpy()
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)
    tmean = 7.0 + 12.0 * season + rng.normal(0.0, 3.0, n_days)
    wet = rng.random(n_days) < 0.35
    dayl = day_length(42.0, doy)
    forcings = {"prcp": np.where(wet, rng.gamma(0.8, 9.0, n_days), 0.0), "tmax": tmean + 5.0,
                "tmin": tmean - 5.0, "srad": np.where(wet, 120.0, 260.0) * (1 + 0.6 * season) * 43200 / dayl,
                "dayl": dayl}
    return BasinInputs("01000001", dates, forcings, 42.0, 800.0)


def _median_seconds(function, repeats: int) -> tuple[float, float]:
    """Median and 10th percentile of ``repeats`` timed calls (the 10th percentile is less
    inflated when other processes share the core)."""
    function()  # compile / warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), float(np.percentile(times, 10))


def measure_run(model_name: str, repeats: int, scheme: str | None = None) -> tuple[float, float]:
    """Median seconds of one registry-adapter run over N_DAYS (``scheme``: EXP-HYDRO option)."""
    from runoffbench.models.conceptual import get_model

    model = get_model(model_name)
    basin = _basin(N_DAYS)
    options = {} if scheme is None else {"scheme": scheme}
    inputs = model.prepare(basin.forcings, basin.lat, basin.elev, basin.dates, options)
    params = np.array([PARAMETERS[model_name][p] for p in model.parameter_names])
    return _median_seconds(lambda: model.simulate(params, inputs), repeats)


def measure_exphydro(scheme: str, repeats: int) -> tuple[float, float]:
    """Median seconds of ``exphydro.simulate`` with a given PET series."""
    from runoffbench.models.conceptual import exphydro
    from runoffbench.models.conceptual.pet import hamon

    basin = _basin(N_DAYS)
    tmean = 0.5 * (basin.forcings["tmax"] + basin.forcings["tmin"])
    pet = hamon(tmean, basin.forcings["dayl"])
    params = np.array(list(PARAMETERS["exphydro"].values()))
    return _median_seconds(lambda: exphydro.simulate(params, basin.forcings["prcp"], tmean, pet=pet, scheme=scheme),
                           repeats)


def measure_calibration(model_name: str, evaluations: int, scheme: str | None = None) -> dict:
    """Seconds and evaluations of one SCE-UA calibration (10-year window, plus the test run)."""
    from runoffbench.calibration.calibrate import calibrate_basin, simulate_period
    from runoffbench.calibration.settings import CalibrationSettings
    from runoffbench.models.conceptual import get_model
    from runoffbench.periods import Period

    model = get_model(model_name)
    basin = _basin(N_DAYS + 3 * 365)
    train = Period(pd.Timestamp("1992-10-01"), pd.Timestamp("2000-09-30"))
    test = Period(pd.Timestamp("2000-10-01"), basin.dates[-1])
    params = np.array([PARAMETERS[model_name][p] for p in model.parameter_names])
    qobs = simulate_period(model, params, basin, Period(basin.dates[0], basin.dates[-1]), 0)["qsim"]
    options = {} if scheme is None else {"scheme": scheme}
    # pcento/peps: SCE-UA's convergence tests off, so that the whole budget is spent
    settings = CalibrationSettings(evaluations=evaluations, spinup_years=2, model_options=options,
                                   algorithm_options={"ngs": 10, "pcento": 1e-12, "peps": 1e-12})
    calibrate_basin(model, basin, qobs, train, test, CalibrationSettings(evaluations=5))  # compile
    start = time.perf_counter()
    result = calibrate_basin(model, basin, qobs, train, test, settings)
    return {"seconds": time.perf_counter() - start, "evaluations": result.evaluations}


def _worker(args: argparse.Namespace) -> None:
    if args.what == "calibration":
        print(json.dumps(measure_calibration(args.model, args.evaluations, args.scheme)))
    elif args.what == "run":
        print(json.dumps(dict(zip(("seconds", "p10"), measure_run(args.model, args.repeats, args.scheme)))))
    else:
        print(json.dumps(dict(zip(("seconds", "p10"), measure_exphydro(args.what, args.repeats)))))


def _subprocess(disable_jit: bool, *arguments: str) -> dict:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0", OMP_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [sys.executable, __file__, "--worker", *arguments]
    result = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _machine() -> str:
    import platform

    import numba

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    return (f"{cpu}, {os.cpu_count()} logical CPUs, affinity {sorted(os.sched_getaffinity(0))}; Python "
            f"{platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}; "
            f"load average {os.getloadavg()[0]:.1f} at start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--what", default="run", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="exphydro", help=argparse.SUPPRESS)
    parser.add_argument("--scheme", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=2000, help="repetitions of a compiled model run")
    parser.add_argument("--evaluations", type=int, default=EVALUATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--calibration-repeats", type=int, default=3,
                        help="compiled 10,000-evaluation calibrations per model; the median is shown")
    parser.add_argument("--nojit-evaluations", type=int, default=50,
                        help="SCE-UA budget without JIT, scaled to 10,000 (default: 50)")
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    print(_machine() + "\n")
    slow = max(5, args.repeats // 100)
    print(f"| measurement ({N_DAYS} days) | numba: median (p10) of {args.repeats} | NUMBA_DISABLE_JIT=1: "
          f"median of {slow} | speed-up (medians) |")
    print("|---|---|---|---|")
    rows = [(f"EXP-HYDRO `exphydro.simulate` (checks every call), scheme {scheme}", ["--what", scheme])
            for scheme in ("rk4", "euler")]
    rows += [(f"EXP-HYDRO registry adapter (calibration path), scheme {scheme}",
              ["--what", "run", "--model", "exphydro", "--scheme", scheme]) for scheme in ("rk4", "euler")]
    rows += [("SAC-SMA + Snow-17 + UH registry adapter (calibration path)", ["--what", "run", "--model", "sacsma"])]
    for label, arguments in rows:
        timed = _subprocess(False, *arguments, "--repeats", str(args.repeats))
        fast = timed["seconds"]
        pure = _subprocess(True, *arguments, "--repeats", str(slow))["seconds"]
        print(f"| {label} | {_ms(fast)} ({_ms(timed['p10'])}) | {_ms(pure)} | {pure / fast:.0f}x |", flush=True)
    print(f"\n| SCE-UA calibration, one basin | numba: evaluations, ms/evaluation, seconds (median of "
          f"{args.calibration_repeats}) | NUMBA_DISABLE_JIT=1: seconds scaled to {EVALUATIONS:,} | speed-up |")
    print("|---|---|---|---|")
    for label, model, scheme in (("EXP-HYDRO, rk4", "exphydro", "rk4"), ("EXP-HYDRO, euler", "exphydro", "euler"),
                                 ("SAC-SMA + Snow-17 + UH", "sacsma", None)):
        extra = [] if scheme is None else ["--scheme", scheme]
        runs = [_subprocess(False, "--what", "calibration", "--model", model, "--evaluations", str(EVALUATIONS),
                            *extra) for _ in range(args.calibration_repeats)]
        seconds = float(np.median([run["seconds"] for run in runs]))
        evaluations = int(np.median([run["evaluations"] for run in runs]))
        pure = _subprocess(True, "--what", "calibration", "--model", model,
                           "--evaluations", str(args.nojit_evaluations), *extra)
        scaled = pure["seconds"] / pure["evaluations"] * EVALUATIONS
        print(f"| {label} | {evaluations:,} evaluations, {seconds / evaluations * 1e3:.2f} ms/evaluation, "
              f"{_ms(seconds)} (runs: {', '.join(_ms(run['seconds']) for run in runs)}) | "
              f"{_ms(scaled)} (scaled from {pure['evaluations']}) | {scaled / seconds:.0f}x |", flush=True)


if __name__ == "__main__":
    main()
