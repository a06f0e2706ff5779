"""Time one Snow-17 + SAC-SMA + unit-hydrograph run over 3,653 days, with and without JIT.

Run ``python benchmarks/bench_conceptual.py``: it times the compiled model in one subprocess and
the same code with ``NUMBA_DISABLE_JIT=1`` (pure Python, fewer repetitions) in another, and prints a
markdown table of median wall-clock times per run on one core, for ``simulate`` (all checks) and for
the calibration fast path ``prepare`` + ``run(..., validate=False)``, with the 10th percentile
next to the median (less inflated when other processes share the core). ``--worker`` runs a single
timing. Pin it to one core for stable figures: ``taskset -c 1 python benchmarks/bench_conceptual.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

N_DAYS = 3653
PARAMETERS = {
    "scf": 0.795, "mfmax": 2.443, "mfmin": 0.55, "uadj": 0.012, "si": 1918.9, "pxtemp": -0.99,
    "uztwm": 19.07, "uzfwm": 396.2, "lztwm": 339.0, "lzfpm": 54.97, "lzfsm": 211.7,
    "uzk": 0.699, "lzpk": 0.009, "lzsk": 0.242, "zperc": 196.4, "rexp": 5.969, "pfree": 0.722,
    "pctim": 0.005, "adimp": 0.0, "unit_shape": 1.294, "unit_scale": 0.393,
}


def _forcing():
    rng = np.random.default_rng(42)
    doy = np.arange(N_DAYS) % 365.25
    tair = 8.0 - 12.0 * np.cos(2 * np.pi * doy / 365.25) + rng.normal(0.0, 4.0, N_DAYS)
    prcp = np.where(rng.random(N_DAYS) < 0.35, rng.gamma(0.8, 12.0, N_DAYS), 0.0)
    pet = np.clip(2.5 - 2.0 * np.cos(2 * np.pi * doy / 365.25), 0.1, None)
    dates = np.datetime64("2000-01-01") + np.arange(N_DAYS)
    return prcp, tair, pet, dates


def _seconds(call, repeats: int) -> tuple[float, float]:
    """Median and 10th percentile of ``repeats`` timed calls (the 10th percentile is less
    inflated when other processes share the core)."""
    call()  # warm-up (and JIT compile / cache load)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), float(np.percentile(times, 10))


def time_runs(repeats: int) -> dict[str, float]:
    """Median seconds of one full ``simulate()`` call and of one ``run()`` on prepared inputs.

    ``simulate`` checks parameters and forcing on every call; ``prepare`` + ``run(...,
    validate=False)`` is the calibration fast path (forcing checked and day numbers computed once).
    """
    from runoffbench.models.conceptual.sacsma_snow17 import prepare, run, simulate

    prcp, tair, pet, dates = _forcing()
    inputs = prepare(prcp, tair, pet, 40.5, 300.0, dates)
    return {
        "simulate": _seconds(lambda: simulate(PARAMETERS, prcp, tair, pet, 40.5, 300.0, dates), repeats),
        "run": _seconds(lambda: run(PARAMETERS, inputs, validate=False), repeats),
    }


def _subprocess_time(repeats: int, disable_jit: bool) -> dict[str, float]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0", OMP_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")
    command = [sys.executable, __file__, "--worker", "--repeats", str(repeats)]
    result = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", action="store_true", help="time in this process, print JSON")
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--repeats-nojit", type=int, default=15)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(time_runs(args.repeats)))
        return
    jit = _subprocess_time(args.repeats, disable_jit=False)
    python = _subprocess_time(args.repeats_nojit, disable_jit=True)
    import platform

    import numba

    print(f"Snow-17 + SAC-SMA + gamma UH, {N_DAYS} daily steps, one core (affinity "
          f"{sorted(os.sched_getaffinity(0))}); Python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {numba.__version__}; load average {os.getloadavg()[0]:.1f}\n")
    print(f"| call | numba JIT: median (p10) of {args.repeats} | NUMBA_DISABLE_JIT=1: median of {args.repeats_nojit} "
          "| speed-up (medians) |")
    print("|---|---|---|---|")
    labels = {"simulate": "`simulate` (checks every call)",
              "run": "`prepare` once + `run(..., validate=False)`"}
    for key, label in labels.items():
        (fast, fast_p10), (slow, _) = jit[key], python[key]
        print(f"| {label} | {fast * 1e3:.3f} ms ({fast_p10 * 1e3:.3f} ms) | {slow * 1e3:.1f} ms "
              f"| {slow / fast:.0f}x |")


if __name__ == "__main__":
    main()
