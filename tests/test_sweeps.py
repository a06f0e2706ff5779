"""Factor sweeps (issue 13, item 2): one run per combination, readable run names, factor values in the
runs' settings and predictions, errors naming the key."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from runoffbench.config_check import check_config
from runoffbench.errors import ConfigError
from runoffbench.experiment import SweepError, expand_models
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]


def test_a_sweep_expands_to_one_entry_per_combination():
    models = {"lstm": {"kind": "nn", "hidden_size": 8, "sweep": {"train_years": [1, 3], "static_attributes": {
        "none": [], "a1": ["p_mean"]}}}, "sacsma": {"kind": "conceptual"}}
    expanded = expand_models(models)
    assert list(expanded) == ["lstm@train_years=1,static_attributes=none", "lstm@train_years=1,static_attributes=a1",
                              "lstm@train_years=3,static_attributes=none", "lstm@train_years=3,static_attributes=a1",
                              "sacsma"]
    run = expanded["lstm@train_years=3,static_attributes=a1"]
    assert run["train_years"] == 3 and run["static_attributes"] == ["p_mean"] and run["hidden_size"] == 8
    assert run["factors"] == {"train_years": "3", "static_attributes": "a1"} and run["base_model"] == "lstm"
    assert run["model"] == "lstm"
    assert "sweep" not in run


@pytest.mark.parametrize(("sweep", "message"), [
    ({"static_attributes": [[], ["p_mean"]]}, r"models.lstm.sweep.static_attributes: .*needs a label"),
    ({"loss": []}, r"models.lstm.sweep.loss: no level"),
    ({"loss": {"a b": "mse"}}, r"labels \['a b'\] may use"),
])
def test_sweep_errors_name_the_key(sweep, message):
    with pytest.raises(SweepError, match=message):
        expand_models({"lstm": {"kind": "nn", "sweep": sweep}})


def test_swept_runs_are_checked_like_any_other():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["models"]["lstm"]["sweep"] = {"hidden_sise": [8, 16]}
    with pytest.raises(ConfigError, match=r"models.lstm@hidden_sise=8: unknown key\(s\) hidden_sise"):
        check_config(config)


@pytest.mark.slow
def test_a_swept_config_plans_a_train_job_per_combination(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    lstm = copy.deepcopy(config["models"]["lstm"])
    config["models"] = {"lstm": {**lstm, "sweep": {"loss": ["mse", "nse"], "train_years": [3, 6]}}}
    config["evaluation"]["baseline_model"] = "lstm@loss=nse,train_years=6"
    config["evaluation"]["kge_difference"] = ["lstm@loss=mse,train_years=6", "lstm@loss=nse,train_years=6"]
    config.pop("analyses", None)
    config["figures"] = {k: v for k, v in config["figures"].items() if "models" not in (v or {})}  # other models
    (workdir / "swept.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(["snakemake", "-n", "-p", "--configfile", "swept.yaml", "--cores", "1"], cwd=workdir,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    planned = result.stdout + result.stderr
    for loss in ("mse", "nse"):
        for years in (3, 6):
            assert f"results/default/runs/lstm@loss={loss},train_years={years}/daymet/kratzert2019/0/predictions.nc" \
                in planned
            assert f"--factors '{{\"loss\": \"{loss}\", \"train_years\": \"{years}\"}}'" in planned
