"""Smoke twins (issue 13, item 7): every experiment config has a tiny twin, config/smoke/<name>.yaml,
merged after it, that runs on the embedded synthetic dataset; the suite runs each to completion and
checks that every table and figure of the merged config was built. The full-scale configs' dry-run
job counts are checked in tests/test_dry_run.py."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from runoffbench.outputs import builds_by_own_command
from tests.smoke_inputs import CHECKS, PREPARE
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]
#: experiment configs; camels_us.yaml is the real-data variant of the default, not a paper's experiment
EXPERIMENTS = sorted(p.stem for p in (REPO / "config" / "experiments").glob("*.yaml") if p.stem != "camels_us")


def merged_config(name: str) -> dict:
    """The experiment config updated by its smoke twin, as Snakemake merges --configfile files."""
    config = yaml.safe_load((REPO / "config" / "experiments" / f"{name}.yaml").read_text())
    _update(config, yaml.safe_load((REPO / "config" / "smoke" / f"{name}.yaml").read_text()))
    return config


def expected_outputs(config: dict) -> list[str]:
    """Every table and figure file the merged config lists (and the analyses' tables and figures)."""
    results = f"results/{config['experiment']}"
    files = []
    for table, entry in (config.get("tables") or {}).items():
        files += [f"{results}/tables/{table}.{ext}" for ext in ("csv", "md", "tex")
                  if ext == "csv" or not builds_by_own_command("tables", table, entry) or table == "run_summary"]
    files += [f"{results}/figures/{figure}.{ext}" for figure in config.get("figures") or {} for ext in ("pdf", "png")]
    files += [f"{results}/tables/{name}.csv" for name in config.get("analyses") or {}]
    return files


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_config_has_a_smoke_twin(name):
    twin = REPO / "config" / "smoke" / f"{name}.yaml"
    assert twin.is_file(), f"config/experiments/{name}.yaml has no smoke twin {twin.relative_to(REPO)}"
    config = merged_config(name)
    assert config["dataset"]["name"] == "synthetic" and config["experiment"] == f"{name}_smoke"


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_smoke_twin_builds_every_table_and_figure(name, default_run, tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    shutil.copytree(default_run / "data", workdir / "data")  # the embedded dataset and its caches
    for prepare in PREPARE.get(name, []):
        prepare(workdir)
    started = time.monotonic()
    result = subprocess.run(
        ["snakemake", "--cores", "2", "--configfile", f"config/experiments/{name}.yaml", f"config/smoke/{name}.yaml"],
        cwd=workdir, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-5000:]
    missing = [f for f in expected_outputs(merged_config(name)) if not (workdir / f).is_file()]
    assert not missing, missing
    for check in CHECKS.get(name, []):  # what a twin's results must show (e.g. lizhao: the seed spread)
        check(workdir)
    print(f"{name} smoke twin: {time.monotonic() - started:.0f} s")


def _update(config: dict, overlay: dict) -> None:
    """Snakemake's merge of a later --configfile: mappings recursively, every other value replaced."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            _update(config[key], value)
        else:
            config[key] = value
