"""A default run killed hard during calibration and during training, resumed with README's command
(`snakemake --unlock`, then `snakemake --cores 2`), ends with the same predictions and tables as an
uninterrupted run — bit for bit on the CPU (issue 11, "Done when")."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.test_workflow import copy_workflow, snakemake

pytestmark = pytest.mark.slow
RESULTS = Path("results") / "default"
#: a calibration has saved its first basin / a training has written its first epoch's checkpoint
KILL_POINTS = {"calibration": "calibration/**/work/*/*.npz", "training": "runs/**/checkpoint.pt"}


def _run_until(workdir: Path, pattern: str, timeout: float = 600) -> None:
    """Start the default run and kill it (SIGKILL, its whole process group) once ``pattern`` matches."""
    process = subprocess.Popen(["snakemake", "--cores", "2"], cwd=workdir, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not any((workdir / RESULTS).glob(pattern)):
            assert process.poll() is None, f"the run ended before {pattern} appeared"
            assert time.monotonic() < deadline, f"{pattern} did not appear within {timeout} s"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_killed_run_resumes_to_the_uninterrupted_results(default_run, tmp_path):
    workdir = copy_workflow(tmp_path / "killed")
    for point, pattern in KILL_POINTS.items():
        _run_until(workdir, pattern)
        assert subprocess.run(["snakemake", "--unlock"], cwd=workdir, capture_output=True).returncode == 0, point
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    assert not list((workdir / RESULTS).glob("runs/**/checkpoint.pt"))  # every training completed
    reference = sorted(p.relative_to(default_run) for p in (default_run / RESULTS).glob("runs/**/predictions.nc"))
    resumed = sorted(p.relative_to(workdir) for p in (workdir / RESULTS).glob("runs/**/predictions.nc"))
    assert resumed == reference and len(reference) > 20
    for path in reference:
        with xr.open_dataset(default_run / path) as a, xr.open_dataset(workdir / path) as b:
            for name in a.data_vars:
                np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=f"{path}: {name}")
    tables = sorted(p.relative_to(default_run) for p in (default_run / RESULTS / "tables").glob("*.csv"))
    assert tables
    for path in tables:
        pd.testing.assert_frame_equal(pd.read_csv(default_run / path), pd.read_csv(workdir / path), obj=str(path))
