"""Morris-style sensitivity to the static inputs (Kratzert et al. 2019, Fig. 7, Table 4; issue 14): batched
autograd gradients equal finite differences of the reloaded network's predictions, the per-basin
normalisation, the ranking over basins, the map, and every model it cannot analyse named before a job."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from runoffbench.analysis.morris import mean_absolute_gradients, normalise, rank_attributes
from runoffbench.analysis.registry import ANALYSIS_KINDS, analyse_run, check_run
from runoffbench.cli import main
from runoffbench.config_check import check_config
from runoffbench.errors import ConfigError, DataError
from runoffbench.periods import Period
from runoffbench.training.predict import predict
from runoffbench.training.run import run_test_tensors, train_run
from runoffbench.training.saved_run import load_trained_run
from runoffbench.training.settings import parse_settings
from tests.training_data import BASINS, training_forcings, write_training_attributes, write_training_cache

pytestmark = pytest.mark.usefixtures("torch_one_thread")
REPO = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
PERIODS = {"train": Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-06-30")),
           "test": Period(pd.Timestamp("2001-07-01"), pd.Timestamp("2001-09-30"))}
STATICS = ["p_mean", "aridity"]


def train_small_runs(root: Path, specs: dict[str, dict]) -> dict[str, Path]:
    """Runs of tiny networks (one epoch) on the trainer tests' three basins: name -> run folder."""
    dates = pd.date_range("2000-10-01", "2001-09-30", name="date")
    write_training_cache(root / "daymet.nc", dates, training_forcings(dates, seed=5, qobs_scale=(0.5, 1.0, 3.0)))
    write_training_attributes(root / "attributes.nc")
    made = {}
    for name, extra in specs.items():
        settings = parse_settings(name.split("_")[0], {"hidden_size": 4, "sequence_length": 10, "epochs": 1,
                                                       "batch_size": 64, "learning_rate": 0.01, **extra})
        made[name] = train_run(settings, root / "daymet.nc", root / "attributes.nc", BASINS, PERIODS, 0, root / name,
                               "daymet", "s").parent
    return made


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return train_small_runs(tmp_path_factory.mktemp("morris"), {"ealstm": {"static_attributes": STATICS},
                                                                "lstm": {"static_attributes": STATICS}})


def _double(tensors):
    for name in ("x_d", "x_s", "x_mass", "y", "basin_std"):
        setattr(tensors, name, getattr(tensors, name).double())
    return tensors


@pytest.mark.parametrize("name", ["ealstm", "lstm"])
def test_batched_gradients_equal_finite_differences(runs, name):
    run = load_trained_run(runs[name])
    model = run.model.double()
    tensors = _double(run_test_tensors(run))
    std = float(run.normalisation.target_std)
    gradients = mean_absolute_gradients(model, tensors, windows_per_batch=17, target_std=std)  # batches cut basins
    assert gradients.shape == (3, 2) and np.isfinite(gradients).all() and (gradients > 0).all()
    h = 1e-2  # predict() returns float32 flows: a step this large keeps their rounding below 1e-4 relative
    expected = np.empty_like(gradients)
    for j in range(2):
        flows = []
        for sign in (1, -1):
            shifted = copy.copy(tensors)
            shifted.x_s = tensors.x_s.clone()
            shifted.x_s[:, j] += sign * h
            flows.append(predict(model, shifted, run.normalisation, 64, clip_negative=False)["qsim"])
        expected[:, j] = np.nanmean(np.abs((flows[0] - flows[1]) / (2 * h)), axis=1)
    np.testing.assert_allclose(gradients, expected, rtol=2e-3)
    # the parameters are trainable again afterwards
    assert all(p.requires_grad for p in model.parameters())


def test_normalised_per_basin_by_its_largest():
    gradients = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 0.0], [np.nan, 1.0, 2.0]])
    np.testing.assert_allclose(normalise(gradients), [[0.25, 0.5, 1.0], [np.nan] * 3, [np.nan, 0.5, 1.0]])


def test_the_run_table_and_the_cli(runs, tmp_path):
    table = analyse_run("morris", runs["ealstm"], {"windows_per_batch": 50})
    assert list(table.columns) == ["basin", "attribute", "sensitivity", "rank", "gradient", "lat", "model", "forcing",
                                   "split", "member"]
    assert len(table) == 3 * 2 and set(table["attribute"]) == set(STATICS)
    per_basin = table.groupby("basin")
    np.testing.assert_allclose(per_basin["sensitivity"].max(), 1.0)  # (0, 1], the largest is 1
    assert (table["sensitivity"] > 0).all()
    assert (table.loc[table["sensitivity"] == 1.0, "rank"] == 1).all() and set(table["rank"]) <= {1, 2}
    assert table.set_index("basin")["lat"].groupby(level=0).first().loc[BASINS].tolist() == [40.0, 35.0, 45.0]
    again = analyse_run("morris", runs["ealstm"], {"windows_per_batch": 7})  # the batch size changes nothing
    np.testing.assert_allclose(again["gradient"], table["gradient"], rtol=1e-5)
    output = tmp_path / "a.csv"
    assert main(["analyse", "morris", "--run", str(runs["ealstm"]), "--settings", '{"windows_per_batch": 9}',
                 "--output", str(output)]) == 0
    written = pd.read_csv(output, dtype={"basin": str, "member": str})
    np.testing.assert_allclose(written["sensitivity"], table["sensitivity"], rtol=1e-5)
    assert main(["analyse", "morris", "--summarise", str(output), "--output-prefix", str(tmp_path / "m")]) == 0
    ranking = pd.read_csv(tmp_path / "m_ranking.csv")
    assert list(ranking.columns) == ["model", "forcing", "split", "attribute", "sensitivity", "basins", "rank"]
    assert ranking["rank"].tolist() == [1, 2]


def test_ranking_is_the_mean_over_basins_and_members():
    table = pd.DataFrame({"model": "m", "basin": ["a", "a", "b", "b", "a", "a", "b", "b"],
                          "member": ["0"] * 4 + ["1"] * 4, "attribute": ["x", "y"] * 4,
                          "sensitivity": [1.0, 0.5, 0.25, 1.0, 1.0, 0.25, 0.5, 0.5]})
    # x: basin a 1.0, basin b 0.375 -> 0.6875; y: a 0.375, b 0.75 -> 0.5625
    ranking = rank_attributes(table)
    assert ranking["attribute"].tolist() == ["x", "y"] and ranking["rank"].tolist() == [1, 2]
    np.testing.assert_allclose(ranking["sensitivity"], [0.6875, 0.5625])
    assert ranking["basins"].tolist() == [2, 2]
    with pytest.raises(DataError, match=r"lacks \['sensitivity'\]"):
        rank_attributes(table.drop(columns="sensitivity"))


def test_runs_it_cannot_analyse_are_named(runs, tmp_path):
    lstm = train_small_runs(tmp_path, {"lstm": {"static_attributes": []}})["lstm"]
    with pytest.raises(ConfigError, match="morris needs a model with static inputs; .* has none "
                                          r"\(models.lstm.static_attributes is empty\)"):
        analyse_run("morris", lstm)
    fake = SimpleNamespace(settings=SimpleNamespace(static_attributes=("p_mean",), mode="seq2seq", training="regional",
                                                    name="dhbv"), model=torch.nn.Linear(1, 1), run_dir="runs/dhbv")
    with pytest.raises(ConfigError, match=r"morris needs a sequence-to-one run \(mode: seq2one\); runs/dhbv is "
                                          r"sequence-to-sequence \(models.dhbv.mode: seq2seq\)"):
        check_run(ANALYSIS_KINDS["morris"], fake)
    with pytest.raises(ConfigError, match=r"windows_per_batch: expected integer"):
        analyse_run("morris", runs["ealstm"], {"windows_per_batch": "many"})
    with pytest.raises(ConfigError, match="runs: not an option of morris; its options: windows_per_batch"):
        analyse_run("morris", runs["ealstm"], {"runs": 3})


CONFIG_ERRORS = {
    "sequence-to-sequence": ({"kind": "morris", "models": ["ealstm", "dhbv"]},
                             r"analyses.x: morris needs sequence-to-one prediction .*\['dhbv'\] are "
                             r"sequence-to-sequence .* choose analyses.x.models among the nn models that can: "
                             r"ealstm, lstm, mclstm"),
    "no statics (every nn model by default)": ({"kind": "morris"},
                                               r"analyses.x: morris needs static attributes; \[.*'lstm_no_static'\] "
                                               r"have none"),
    "option of another kind": ({"kind": "morris", "models": ["ealstm"], "draws": 3},
                               r"analyses.x.draws: not an option of morris; its options: windows_per_batch"),
    "negative batch": ({"kind": "morris", "models": ["ealstm"], "windows_per_batch": -1},
                       r"analyses.x.windows_per_batch: expected values >= 0"),
    "unknown kind": ({"kind": "sobol"}, r"analyses.x.kind: unknown 'sobol'; known: static_noise, morris, embedding"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_the_config_check_names_key_and_choices(case):
    entry, message = CONFIG_ERRORS[case]
    config = copy.deepcopy(DEFAULT)
    config["analyses"] = {"x": entry}
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_the_map_colours_each_basin_by_its_most_sensitive_attribute():
    import matplotlib.pyplot as plt

    from runoffbench.plots.morris import most_sensitive, plot_morris_map

    rows = []
    for member, boost in (("0", 0.0), ("1", 0.3)):
        for basin, lat, lon, (x, y) in (("01", 40, -100, (1.0, 0.5)), ("02", 35, -90, (0.4, 1.0)),
                                         ("03", 45, -110, (1.0, 0.9 + boost))):
            rows += [{"model": "ealstm", "forcing": "daymet", "member": member, "basin": basin, "lat": lat, "lon": lon,
                      "attribute": a, "sensitivity": s} for a, s in (("aridity", x), ("p_mean", y))]
    table = pd.DataFrame(rows)
    best = most_sensitive(table).set_index("basin")["attribute"]
    assert best.to_dict() == {"01": "aridity", "02": "p_mean", "03": "p_mean"}  # 03: p_mean 1.05 on average
    fig = plot_morris_map(table)
    assert len(fig.axes) == 1 and len(fig.axes[0].collections[-1].get_offsets()) == 3
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["p_mean (2)", "aridity (1)"]
    plt.close(fig)
    with pytest.raises(DataError, match=r"lacks \['lat', 'lon'\]"):
        plot_morris_map(table.drop(columns=["lat", "lon"]))
