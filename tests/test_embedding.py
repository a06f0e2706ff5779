"""The EA-LSTM embedding (Kratzert et al. 2019, Figs. 8-12; issue 14): the per-run input gates of a reloaded
network, k-means reproducible for a seed, silhouettes finding planted clusters, the signatures' variance
reduction, UMAP, the figures, the registry behind the CLI, the rules and the config check, and the errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml

from runoffbench.analysis.embedding import kmeans_labels, silhouettes, variance_reduction
from runoffbench.analysis.registry import (
    ANALYSIS_KINDS,
    CAMELS_SIGNATURES,
    analyse_run,
    load,
    option_problems,
    settings_argument,
    summarise,
)
from runoffbench.cli import main
from runoffbench.config_check import check_config
from runoffbench.errors import ConfigError, DataError
from runoffbench.training.saved_run import load_trained_run
from tests.test_morris import STATICS, train_small_runs
from tests.training_data import BASINS

pytestmark = pytest.mark.usefixtures("torch_one_thread")
REPO = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return train_small_runs(tmp_path_factory.mktemp("embedding"), {"ealstm": {"static_attributes": STATICS},
                                                                   "lstm": {"static_attributes": STATICS}})


def test_the_run_table_is_the_input_gate(runs, tmp_path):
    table = analyse_run("embedding", runs["ealstm"])
    cells = [f"cell_{k:03d}" for k in range(4)]
    # the basins' coordinates the cache has (here lat only) follow, for the cluster maps
    assert list(table.columns) == ["basin", *cells, "static_p_mean", "static_aridity", "lat", "model", "forcing",
                                   "split", "member"]
    run = load_trained_run(runs["ealstm"])
    x_s = torch.tensor(table[["static_p_mean", "static_aridity"]].to_numpy(), dtype=torch.float32)
    # the standardised attributes the network saw: p_mean 2, 3, 1 and aridity 1, 0.5, 0.8 standardised
    np.testing.assert_allclose(x_s.mean(0), 0.0, atol=1e-6)
    expected = torch.sigmoid(x_s @ run.model.input_gate.weight.T + run.model.input_gate.bias).detach().numpy()
    np.testing.assert_allclose(table[cells].to_numpy(), expected, rtol=1e-6)
    assert table["basin"].tolist() == BASINS
    output = tmp_path / "e.csv"
    assert main(["analyse", "embedding", "--run", str(runs["ealstm"]), "--output", str(output)]) == 0
    assert pd.read_csv(output, dtype={"basin": str}).shape == table.shape


def test_a_model_without_an_embedding_is_named(runs):
    with pytest.raises(ConfigError, match=r"embedding needs a model with an embedding \(the EA-LSTM's input gate\); "
                                          r".*lstm is a LSTM, which has none"):
        analyse_run("embedding", runs["lstm"])
    config = copy.deepcopy(DEFAULT)
    config["analyses"] = {"fig9": {"kind": "embedding", "models": ["lstm", "ealstm"], "k_max": 1.5}}
    with pytest.raises(ConfigError) as raised:
        check_config(config)
    message = str(raised.value)
    assert "analyses.fig9.k_max: expected integer, got 1.5" in message
    assert ("analyses.fig9: embedding needs an EA-LSTM embedding (the input gate of a model with an embedding(x_s) "
            "method); ['lstm'] have no embedding") in message
    assert "choose analyses.fig9.models among the nn models that can: ealstm" in message


def planted(members=("0", "1", "2"), n=60, seed=0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A joined embedding table of ``members`` networks whose 8 cells hold 3 tight clusters of basins
    (the same basins for every network, other centres), random standardised attributes, and an
    attributes frame whose ``q_mean`` follows the clusters and ``q5`` does not."""
    rng = np.random.default_rng(seed)
    basins = [f"{k:08d}" for k in range(n)]
    groups = np.arange(n) % 3
    frames = []
    for member in members:
        centres = rng.uniform(0, 1, (3, 8))
        cells = centres[groups] + rng.normal(0, 0.02, (n, 8))
        frame = pd.DataFrame(cells, columns=[f"cell_{k:03d}" for k in range(8)])
        frame.insert(0, "basin", basins)
        for k, name in enumerate(("p_mean", "aridity", "frac_snow")):
            frame[f"static_{name}"] = np.random.default_rng(100 + k).normal(0, 1, n)
        frames.append(frame.assign(model="ealstm", forcing="daymet", split="s", member=member))
    attributes = pd.DataFrame({"q_mean": groups * 2.0 + rng.normal(0, 0.01, n), "q5": rng.normal(0, 1, n),
                               "p_mean": rng.uniform(1, 5, n), "aridity": rng.uniform(0.2, 2, n),
                               "frac_snow": rng.uniform(0, 0.5, n)}, index=pd.Index(basins, name="basin"))
    return pd.concat(frames, ignore_index=True), attributes


def test_kmeans_is_reproducible_for_a_seed():
    values = np.random.default_rng(3).normal(0, 1, (40, 5))
    first = kmeans_labels(values, 4, restarts=10, seed=7)
    np.testing.assert_array_equal(first, kmeans_labels(values, 4, restarts=10, seed=7))
    assert len(set(first)) == 4


def test_silhouettes_and_variance_reduction_by_hand():
    values = np.array([[0.0], [0.1], [1.0], [1.2]])
    labels = np.array([0, 0, 1, 1])
    scores = silhouettes(values, labels)
    # a(i): distance to its partner, b(i): mean distance to the other cluster
    s = [1 - 0.1 / 1.1, 1 - 0.1 / 1.0, 1 - 0.2 / 0.95, 1 - 0.2 / 1.15]
    assert scores["silhouette_mean"] == pytest.approx(np.mean(s))
    assert scores["silhouette_min"] == pytest.approx(min(np.mean(s[:2]), np.mean(s[2:])))
    assert scores["silhouette_min_basin"] == pytest.approx(min(s))
    signature = np.array([1.0, 3.0, 10.0, np.nan])  # the NaN basin is left out
    within = 2.0 + 0.0
    total = ((signature[:3] - signature[:3].mean()) ** 2).sum()
    assert variance_reduction(signature, labels) == pytest.approx(1 - within / total)
    assert np.isnan(variance_reduction(np.ones(4), labels))


@pytest.fixture(scope="module")
def summary():
    table, attributes = planted()
    return table, attributes, summarise("embedding", table, attributes,
                                        {"k_max": 6, "signatures": ["q_mean", "q5"], "umap_neighbors": 10})


def test_silhouettes_find_the_planted_clusters(summary):
    table, attributes, products = summary
    silhouette = products["silhouette"]
    assert set(silhouette["space"]) == {"embedding", "attributes"}
    assert len(silhouette) == (3 + 1) * 5  # 3 networks and the attributes, k = 2..6
    embedding = silhouette[silhouette["space"] == "embedding"].groupby("k")["silhouette_mean"].mean()
    assert embedding.idxmax() == 3 and embedding[3] > 0.9
    raw = silhouette[silhouette["space"] == "attributes"].set_index("k")["silhouette_mean"]
    assert raw.max() < 0.5  # the random attributes have no such structure
    assert (silhouette["silhouette_min_basin"] <= silhouette["silhouette_min"]).all()
    assert (silhouette["silhouette_min"] <= silhouette["silhouette_mean"] + 1e-12).all()
    assert set(silhouette["seed"]) == {0}
    clusters = products["clusters"]
    at3 = clusters[(clusters["k"] == 3) & (clusters["member"] == "1")].set_index("basin")["cluster"]
    groups = pd.Series(np.arange(60) % 3, index=at3.index)
    assert pd.crosstab(at3, groups).gt(0).sum().eq(1).all()  # each planted cluster is one k-means cluster


def test_the_clusters_explain_the_signature_that_follows_them(summary):
    _, _, products = summary
    variance = products["variance"]
    assert set(variance["k"]) == {5, 6} and set(variance["signature"]) == {"q_mean", "q5"}
    embedding = variance[variance["space"] == "embedding"].groupby("signature")["variance_reduction"]
    assert embedding.min()["q_mean"] > 0.99
    assert embedding.mean()["q5"] < 0.5


def test_umap_of_one_network_with_the_attributes_in_their_units(summary):
    table, attributes, products = summary
    umap = products["umap"]
    assert list(umap.columns[:8]) == ["basin", "x", "y", "model", "forcing", "split", "member", "seed"]
    assert set(umap["member"]) == {"0"} and len(umap) == 60 and np.isfinite(umap[["x", "y"]]).all().all()
    np.testing.assert_allclose(umap["aridity"], attributes.loc[umap["basin"], "aridity"])  # raw, not standardised
    again = summarise("embedding", table, attributes, {"k_max": 6, "signatures": ["q_mean", "q5"],
                                                       "umap_neighbors": 10, "umap_member": "2"})
    assert set(again["umap"]["member"]) == {"2"}
    for name in ("silhouette", "clusters", "variance"):  # reproducible for the seed
        pd.testing.assert_frame_equal(again[name], products[name])


def test_the_figures_draw_each_product(summary):
    import matplotlib.pyplot as plt

    from runoffbench.plots.embedding import (
        plot_embedding_heatmap,
        plot_embedding_silhouette,
        plot_embedding_umap,
        plot_embedding_variance,
    )

    table, _, products = summary
    fig = plot_embedding_heatmap(table, member="1")
    assert fig.axes[0].images[0].get_array().shape == (8, 60)
    assert fig.axes[0].get_title(loc="left") == "EA-LSTM, seed 1"  # the paper's name of the model (no labels)
    plt.close(fig)
    fig = plot_embedding_silhouette(products["silhouette"])
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2  # embedding (mean of 3) and attributes
    plt.close(fig)
    fig = plot_embedding_variance(products["variance"])
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 2 * 2  # k = 5, 6; 2 signatures x 2 spaces
    plt.close(fig)
    fig = plot_embedding_umap(products["umap"])
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["aridity", "p_mean", "frac_snow"]
    plt.close(fig)
    with pytest.raises(DataError, match=r"no attribute\(s\) \['slope_mean'\]"):
        plot_embedding_umap(products["umap"], attributes=["slope_mean"])
    with pytest.raises(DataError, match="no member '9'"):
        plot_embedding_heatmap(table, member="9")


def test_the_cli_summarises_with_the_attributes_file(tmp_path):
    table, attributes = planted(members=("0",), n=30)
    table.to_csv(tmp_path / "emb.csv", index=False)
    xr.Dataset.from_dataframe(attributes).to_netcdf(tmp_path / "attributes.nc")
    assert main(["analyse", "embedding", "--summarise", str(tmp_path / "emb.csv"), "--attributes",
                 str(tmp_path / "attributes.nc"), "--settings", json.dumps({"k_max": 4}), "--signatures", "q_mean",
                 "--variance-k", "3", "--umap-neighbors", "5", "--output-prefix",
                 str(tmp_path / "tables" / "emb")]) == 0
    for product in ("silhouette", "clusters", "variance", "umap"):
        assert (tmp_path / "tables" / f"emb_{product}.csv").is_file()
    variance = pd.read_csv(tmp_path / "tables" / "emb_variance.csv")
    assert set(variance["signature"]) == {"q_mean"} and set(variance["k"]) == {3}


def test_summary_errors_are_named():
    table, attributes = planted(members=("0",), n=12)
    with pytest.raises(ConfigError, match=r"--summarise needs --attributes"):
        summarise("embedding", table, None)
    with pytest.raises(DataError, match=r"attributes.nc has no signature\(s\) \['hfd_mean'\]"):
        summarise("embedding", table, attributes, {"signatures": ["q_mean", "hfd_mean"]})
    with pytest.raises(ConfigError, match=r"k_min \(5\) exceeds k_max \(3\)"):
        summarise("embedding", table, attributes, {"k_min": 5, "k_max": 3, "signatures": ["q_mean"]})
    with pytest.raises(ConfigError, match=r"variance_k \[5, 6\] lie outside k_min..k_max \(2..3\)"):
        summarise("embedding", table, attributes, {"k_max": 3, "signatures": ["q_mean"]})
    with pytest.raises(ConfigError, match=r"umap_member '7' is not a member of ealstm \(0\)"):
        summarise("embedding", table, attributes, {"k_max": 3, "variance_k": [3], "signatures": ["q_mean"],
                                                   "umap_member": "7"})
    with pytest.raises(ConfigError, match="restarts: expected values >= 1"):
        summarise("embedding", table, attributes, {"restarts": 0})
    with pytest.raises(ConfigError, match="no experiment-level step"):
        summarise("static_noise", table)
    with pytest.raises(DataError, match="lacks"):
        summarise("embedding", table.drop(columns="member"), attributes, {"signatures": ["q_mean"]})


def test_the_registry_is_consistent_with_the_schema_the_cli_and_the_rules():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    entry = schema["properties"]["analyses"]["additionalProperties"]
    assert entry["properties"]["kind"]["enum"] == list(ANALYSIS_KINDS)
    assert set(CAMELS_SIGNATURES) == {"q_mean", "runoff_ratio", "slope_fdc", "baseflow_index", "stream_elas", "q5",
                                      "q95", "high_q_freq", "high_q_dur", "low_q_freq", "low_q_dur", "zero_q_freq",
                                      "hfd_mean"}
    for kind in ANALYSIS_KINDS.values():
        assert callable(load(kind.analyse)) and (kind.summarise is None or callable(load(kind.summarise)))
        assert all(callable(load(use.function)) for use in kind.figures)
        unset = ("", [])  # an option without a default value (a string or list the user may give)
        assert not option_problems(kind, {o.name: o.default for o in kind.options if o.default not in unset}, "x")
        assert [use.suffix for use in kind.figures][0] == ""  # the first figure is figures/<id>.pdf
    # the rules hand each stage its own options, the registry keeps the defaults
    spec = {"kind": "embedding", "models": ["ealstm"], "k_max": 8, "seed": 2}
    assert settings_argument(spec, "run") == ""
    assert json.loads(settings_argument(spec, "summary").split(" ", 1)[1].strip("'")) == {"k_max": 8, "seed": 2}
    noise = {"kind": "static_noise", "sigmas": [0.1], "draws": 5}
    assert settings_argument(noise) == """--settings '{"sigmas": [0.1], "draws": 5}'"""
