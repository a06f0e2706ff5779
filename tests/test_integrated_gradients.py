"""Integrated gradients of reloaded runs (issue 15, item 4; Li & Zhao Figs. 6-7): completeness (the attributions
add up to F(x) - F(x'), the recorded convergence delta shrinks with the steps), batching does not change a
window's attributions, only past days are attributed, the per-run table and its summary, the figures, and the
analysis named in the config check for a model it cannot analyse."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from runoffbench.analysis.integrated_gradients import attribution_summary, input_names, integrated_gradients
from runoffbench.analysis.registry import analyse_run, summarise
from runoffbench.cli import main
from runoffbench.config_check import check_config
from runoffbench.errors import ConfigError
from runoffbench.training.run import run_test_tensors
from runoffbench.training.saved_run import load_trained_run
from tests.test_morris import train_small_runs

pytestmark = pytest.mark.usefixtures("torch_one_thread")
REPO = Path(__file__).resolve().parents[1]
INPUTS = ["prcp", "tmax", "tmin", "vp", "srad", "dayl"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return train_small_runs(tmp_path_factory.mktemp("ig"), {
        "lstm": {"training": "local", "dynamic_inputs": INPUTS},
        "mclstm": {"dynamic_inputs": INPUTS, "hidden_size": 4}})


def _windows(run, count: int = 6):
    tensors = run_test_tensors(run)
    basin = torch.arange(count) % 3
    end = torch.full((count,), tensors.x_d.shape[1] - 1) - torch.arange(count) * 5
    return tensors, tensors.gather(basin, end)


@pytest.mark.parametrize("name", ["lstm", "mclstm"])
def test_attributions_add_up_to_the_change_of_the_prediction(runs, name):
    run = load_trained_run(runs[name])
    run.model.double()
    tensors, batch = _windows(run)
    batch = {k: v.double() if v.is_floating_point() else v for k, v in batch.items()}
    deltas = {}
    for steps in (4, 64):
        attribution, delta, change = integrated_gradients(run.model, batch, steps, "gausslegendre", "zero")
        assert attribution.shape == (6, tensors.length, len(input_names(run)))
        np.testing.assert_allclose(attribution.sum(dim=(1, 2)) - change, delta, atol=1e-9)
        deltas[steps] = delta.abs().max().item()
    assert deltas[64] < 1e-3 * max(change.abs().max().item(), 1e-3) + 1e-6
    assert deltas[64] <= deltas[4]


def test_inputs_named_as_the_network_reads_them(runs):
    assert input_names(load_trained_run(runs["lstm"])) == INPUTS
    assert input_names(load_trained_run(runs["mclstm"])) == INPUTS[1:] + ["prcp"]  # the mass input, raw


@pytest.mark.parametrize("name", ["lstm", "mclstm"])
def test_a_window_gets_the_same_attributions_in_any_batch(runs, name):
    run = load_trained_run(runs[name])
    _, batch = _windows(run)
    together, _, _ = integrated_gradients(run.model, batch, 8, "gausslegendre", "zero")
    alone, _, _ = integrated_gradients(run.model, {k: v[2:3] for k, v in batch.items()}, 8, "gausslegendre", "zero")
    np.testing.assert_allclose(together[2:3], alone, rtol=1e-4, atol=1e-6)


def test_the_window_mean_baseline_attributes_departures_only(runs):
    run = load_trained_run(runs["lstm"])
    _, batch = _windows(run)
    flat = copy.copy(batch)
    flat["x_d"] = batch["x_d"].mean(dim=1, keepdim=True).expand_as(batch["x_d"]).contiguous()
    attribution, delta, change = integrated_gradients(run.model, flat, 8, "gausslegendre", "window_mean")
    assert attribution.abs().max() < 1e-6 and change.abs().max() < 1e-6  # the input is its own baseline (rounding)


def test_per_run_table_summary_and_figures(runs, tmp_path):
    tables = []
    for name in ("lstm", "mclstm"):
        table = analyse_run("integrated_gradients", runs[name], {"top_basins": 2, "steps": 8, "profile_basins": 2,
                                                                 "windows_per_batch": 50})
        assert set(table["part"]) == {"share", "profile"}
        shares = table[(table["part"] == "share") & (table["season"] == "all")]
        assert shares["basin"].nunique() == 2
        np.testing.assert_allclose(shares.groupby("basin")["share"].sum(), 1.0, rtol=1e-6)  # shares of Σ|A|
        seasons = table[(table["part"] == "share") & (table["season"] != "all")]
        days = seasons.groupby(["basin", "season"])["days"].first().groupby("basin").sum()
        assert (days == shares.groupby("basin")["days"].first()).all()  # the seasons split the days
        profile = table[table["part"] == "profile"]
        assert profile["lag"].max() == 9 and profile["lag"].min() == 0  # the 10-day look-back
        np.testing.assert_allclose(profile.groupby("basin")["share"].sum(), 1.0, rtol=1e-6)
        assert (shares["delta"] >= 0).all() and (shares["relative_delta"] >= 0).all()
        assert set(table["baseline"]) == {"zero"} and set(table["steps"]) == {8}  # recorded options
        kge = shares.groupby("basin")["kge"].first()
        assert kge.is_monotonic_decreasing or len(kge) == 1 or (kge.max() >= kge.min())
        tables.append(table.assign(model=f"{name}@train_years=1"))
    joined = pd.concat(tables, ignore_index=True)
    products = summarise("integrated_gradients", joined)
    assert set(products) == {"shares", "profile"}
    shares = products["shares"]
    assert set(shares["base_model"]) == {"lstm", "mclstm"} and set(shares["train_years"]) == {"1"}
    profile = products["profile"]
    assert profile["basin"].nunique() == 1 and set(profile["part"]) == {"profile", "season"}
    cumulative = profile[profile["part"] == "profile"].groupby(["model", "input"])["cumulative"].last()
    assert cumulative.groupby(level=0).sum().round(6).eq(1.0).all()
    joined.to_csv(tmp_path / "ig.csv", index=False)
    profile.to_csv(tmp_path / "ig_profile.csv", index=False)
    for kind, table in (("ig_shares", "ig.csv"), ("ig_profile", "ig_profile.csv")):
        figure = tmp_path / f"{kind}.pdf"
        assert main(["figure", kind, "--table", str(tmp_path / table), "--output", str(figure)]) == 0
        assert figure.with_suffix(".png").stat().st_size > 20_000
    with pytest.raises(ConfigError, match="has no profile"):
        attribution_summary(joined, profile_basin="99999999")


def test_chosen_basins_and_bad_options(runs):
    table = analyse_run("integrated_gradients", runs["lstm"], {"basins": ["02000002"], "steps": 4})
    assert set(table["basin"]) == {"02000002"}
    with pytest.raises(ConfigError, match="not basins of"):
        analyse_run("integrated_gradients", runs["lstm"], {"basins": ["09999999"], "steps": 4})
    with pytest.raises(ConfigError, match="baseline"):
        analyse_run("integrated_gradients", runs["lstm"], {"baseline": "one"})


def test_config_check_names_models_it_cannot_analyse():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["analyses"] = {"ig": {"kind": "integrated_gradients", "models": ["dexphydro"], "top_basins": 3}}
    with pytest.raises(ConfigError, match=r"analyses\.ig: integrated_gradients needs sequence-to-one prediction"):
        check_config(config)
    config["analyses"]["ig"]["models"] = ["lstm"]
    check_config(config)
