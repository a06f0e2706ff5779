"""Failed basins end to end (issue 11, items 4 and 9): a gauge whose record starts after the training
period is left out by the baseline and the calibration alike and listed in the experiment's failures
table; the tables say how many basins they cover; when a run then fails, no table of the earlier run
stays behind looking current.

A small workflow (6 synthetic basins, one forcing, mean flow and a 30-run EXP-HYDRO calibration) in a
clean copy of the repository, about a minute on 2 cores.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from runoffbench.evaluation.collect import stale_outputs
from tests.test_workflow import copy_workflow, snakemake

TRAIN = {"start": "1996-10-01", "end": "2000-09-30"}
TEST = {"start": "2000-10-01", "end": "2003-09-30"}
CONFIG = {
    "experiment": "failures",
    "dataset": {"name": "synthetic", "root": "data/raw/synthetic", "forcings": ["daymet"],
                "reference_forcing": "daymet",
                "synthetic": {"n_basins": 6, "start": "1994-01-01", "end": "2003-12-31", "seed": 0}},
    "cache": {"dir": "data/cache"},
    "splits": {"custom": {"train": TRAIN, "test": TEST}},
    "models": {"mean_flow": {"kind": "baseline", "method": "mean_flow"},
               "exphydro": {"kind": "conceptual", "options": {"scheme": "euler"}}},
    "calibration": {"evaluations": 30, "spinup_years": 1, "n_chunks": 1, "sceua": {"ngs": 2}},
    "evaluation": {"metrics": ["NSE", "KGE", "Pearson-r", "Alpha-NSE", "Beta-NSE", "Peak-Timing"]},
    "tables": {"water_balance": {"caption": "Water balance.", "paper": None},
               "median_metrics": {"caption": "Medians.", "paper": None},
               "failures": {"caption": "Basins left out.", "paper": None}},
    "figures": {"basin_map": {"caption": "Basins.", "paper": None},
                "nse_cdf": {"caption": "NSE.", "paper": None}},
}


def test_stale_outputs_are_those_older_than_or_missing_an_input(tmp_path):
    old, new, table = tmp_path / "old.nc", tmp_path / "new.nc", tmp_path / "table.csv"
    for path in (old, table, new):
        path.write_text("x")
    import os

    os.utime(old, ns=(1, 1_000_000_000))
    os.utime(table, ns=(1, 2_000_000_000))
    os.utime(new, ns=(1, 3_000_000_000))
    assert stale_outputs([table], [old]) == []
    assert stale_outputs([table], [old, new]) == [table]
    assert stale_outputs([table], [old, tmp_path / "missing.nc"]) == [table]
    assert stale_outputs([tmp_path / "never_built.csv"], [tmp_path / "missing.nc"]) == []


def _late_gauge(workdir) -> str:
    """Make the first basin's record start after the training period (flag M, -999: missing)."""
    basins = (workdir / "data/raw/synthetic/basins.txt").read_text().split()
    path = next((workdir / "data/raw/synthetic").rglob(f"{basins[0]}_streamflow_qc.txt"))
    lines = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if f"{fields[1]}-{fields[2]}-{fields[3]}" < TEST["start"]:
            line = f"{fields[0]} {fields[1]} {fields[2]} {fields[3]}  -999.00 M"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return basins[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("failures_workflow"))
    (workdir / "config/failures.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    return workdir


def test_a_late_gauge_is_left_out_by_every_model_kind_and_a_failed_run_leaves_no_stale_table(workdir):
    args = ["--configfile", "config/failures.yaml"]
    result = snakemake(workdir, "data/raw/synthetic/basins.txt", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    late = _late_gauge(workdir)
    result = snakemake(workdir, *args)
    assert result.returncode == 0, result.stderr[-5000:]
    tables = workdir / "results/failures/tables"
    failures = pd.read_csv(tables / "failures.csv", dtype=str)
    assert list(failures.columns) == ["model", "forcing", "split", "member", "basin", "stage", "reason"]
    assert sorted(zip(failures["model"], failures["basin"], failures["stage"])) == [
        ("exphydro", late, "calibrate"), ("mean_flow", late, "baseline")]
    assert failures["reason"].str.startswith("0 days of observed streamflow in the training period").all()
    assert "2 basin(s) left out in 2 of 2 runs" in (tables / "failures.md").read_text()
    medians = pd.read_csv(tables / "median_metrics.csv")
    assert (medians["basins"] == 5).all()  # the table states how many basins it covers
    log = (workdir / "results/failures/logs/tables/failures.log").read_text()
    assert "WARNING" in log and "2 basin(s) left out" in log

    # the calibration now must not lose any basin: its job fails, and the tables and figures built from the
    # runs before are removed rather than left looking current
    strict = {**CONFIG, "calibration": {**CONFIG["calibration"], "max_failed_share": 0.0}}
    (workdir / "config/strict.yaml").write_text(yaml.safe_dump(strict, sort_keys=False))
    result = snakemake(workdir, "--keep-going", "--configfile", "config/strict.yaml")
    assert result.returncode != 0
    assert "calibration.max_failed_share 0 allows" in (
        workdir / "results/failures/logs/calibration/exphydro/daymet/custom/0/chunk_0.log").read_text()
    for name in ("median_metrics.csv", "median_metrics.md", "failures.csv", "metrics.csv"):
        assert not (tables / name).exists(), name
    assert not (workdir / "results/failures/figures/nse_cdf.png").exists()
    assert (tables / "water_balance.csv").exists()  # not built from the runs: still current
    assert "removed results/failures/tables/median_metrics.csv" in result.stderr
