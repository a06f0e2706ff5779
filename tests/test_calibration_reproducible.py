"""A calibration with a fixed seed gives the same result bit for bit in every fresh process.

Each process starts with numpy's global generator seeded from OS entropy, and runs every
calibration twice: the first calibration of a process is the one that used to differ (SpotPy's
parameter objects took their bounds from random draws made before SpotPy seeds numpy). One of the
processes compiles the numba kernels afresh (an empty cache folder), the others load the cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import hashlib, json
from tests.test_calibration import TEST, TRAIN, settings, synthetic_basin, true_flow
from runoffbench.calibration.calibrate import calibrate_basin
from runoffbench.models.conceptual import get_model

basin = synthetic_basin()
flow = true_flow("exphydro", basin)
runs = []
for repeat in range(2):
    for algorithm, options, trials in (("dds", {}, 1), ("sceua", {"ngs": 2}, 1), ("sceua", {"ngs": 2}, 2)):
        chosen = settings(algorithm=algorithm, algorithm_options=options, evaluations=300, seed=7)
        if trials > 1:
            chosen = settings(algorithm=algorithm, algorithm_options=options, evaluations=150, seed=7, trials=trials)
        result = calibrate_basin(get_model("exphydro"), basin, flow, TRAIN, TEST, chosen)
        runs.append({
            "run": f"{algorithm} x{trials}",
            "parameters": {name: value.hex() for name, value in result.parameters.items()},
            "train_value": result.train_value.hex(),
            "evaluations": result.evaluations,
            "outputs": {name: hashlib.sha256(values.tobytes()).hexdigest()
                        for name, values in sorted(result.test_outputs.items())},
            "trace": hashlib.sha256(result.trace.tobytes()).hexdigest(),
        })
print(json.dumps(runs))
"""


def _calibrate_in_fresh_process(numba_cache: Path | None) -> list[dict]:
    env = dict(os.environ, PYTHONHASHSEED="random", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    if numba_cache is not None:  # compile the kernels afresh instead of loading numba's cache
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_same_seed_same_optimum_in_fresh_processes(tmp_path):
    with ThreadPoolExecutor(max_workers=3) as pool:
        processes = list(pool.map(_calibrate_in_fresh_process, [tmp_path / "numba_cache", None, None]))
    reference = processes[0][:3]
    for runs in processes:
        first, second = runs[:3], runs[3:]
        assert first == second  # the first calibration in a process equals the later ones
        assert first == reference  # and every process finds the same
