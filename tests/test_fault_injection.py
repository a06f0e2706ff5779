"""A run killed hard during calibration and during training, resumed with README's command
(`snakemake --unlock`, then `snakemake --cores 2`), ends with the same predictions and tables as an
uninterrupted run — bit for bit on the CPU (issue 11, "Done when"). The configuration is the default
one cut to one model of each kind that resumes (a calibration, a training, a baseline) on 6 basins and
one forcing, so that the two runs take about two minutes."""

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
import yaml

from tests.test_workflow import copy_workflow, run_to_completion, snakemake

pytestmark = pytest.mark.slow
RESULTS = Path("results") / "default"
#: a calibration has saved its first basin / a training has written its first epoch's checkpoint
KILL_POINTS = {"calibration": "calibration/**/work/*/*.npz", "training": "runs/**/checkpoint.pt"}


def _small_workflow(destination: Path) -> Path:
    """The workflow with the default configuration cut down (module docstring), as config/config.yaml."""
    workdir = copy_workflow(destination)
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["dataset"]["synthetic"]["n_basins"] = 6
    config["dataset"]["forcings"] = [config["dataset"]["reference_forcing"]]  # one forcing: half the jobs
    config["models"] = {name: config["models"][name] for name in ("exphydro", "lstm", "mean_flow")}
    # slow enough that a kill lands between two epochs (a checkpoint exists only while a training runs)
    config["models"]["lstm"].update(hidden_size=32, epochs=6, batches_per_epoch=120, learning_rate=5.0e-3)
    config["tables"] = {name: config["tables"][name] for name in ("median_metrics", "failures")}
    config["figures"] = {name: config["figures"][name] for name in ("basin_map", "nse_cdf")}
    config.pop("analyses", None)
    for key in ("baseline_model", "kge_difference"):
        config["evaluation"].pop(key, None)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def _run_until(workdir: Path, pattern: str, timeout: float = 600) -> None:
    """Start the run and kill it (SIGKILL, its whole process group) once ``pattern`` matches."""
    process = subprocess.Popen(["snakemake", "--cores", "2"], cwd=workdir, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not any((workdir / RESULTS).glob(pattern)):
            assert process.poll() is None, f"the run ended before {pattern} appeared"
            assert time.monotonic() < deadline, f"{pattern} did not appear within {timeout} s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    return run_to_completion(_small_workflow(tmp_path_factory.mktemp("uninterrupted")))


def test_a_killed_run_resumes_to_the_uninterrupted_results(uninterrupted, tmp_path):
    workdir = _small_workflow(tmp_path / "killed")
    for point, pattern in KILL_POINTS.items():
        _run_until(workdir, pattern)
        assert subprocess.run(["snakemake", "--unlock"], cwd=workdir, capture_output=True).returncode == 0, point
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    assert not list((workdir / RESULTS).glob("runs/**/checkpoint.pt"))  # every training completed
    reference = sorted(p.relative_to(uninterrupted) for p in (uninterrupted / RESULTS).glob("runs/**/predictions.nc"))
    resumed = sorted(p.relative_to(workdir) for p in (workdir / RESULTS).glob("runs/**/predictions.nc"))
    assert resumed == reference and len(reference) >= 4  # exphydro, 2 LSTM seeds, mean_flow
    for path in reference:
        with xr.open_dataset(uninterrupted / path) as a, xr.open_dataset(workdir / path) as b:
            for name in a.data_vars:
                np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=f"{path}: {name}")
    tables = sorted(p.relative_to(uninterrupted) for p in (uninterrupted / RESULTS / "tables").glob("*.csv"))
    assert tables
    for path in tables:
        pd.testing.assert_frame_equal(pd.read_csv(uninterrupted / path), pd.read_csv(workdir / path), obj=str(path))
