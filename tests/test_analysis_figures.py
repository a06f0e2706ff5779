"""The figures and tables of the analyses show display labels (issue 14; issue 15): an ``analyses:`` entry's
``models`` (a list, or a mapping run or model -> label) reach every analysis figure and table kind as the
output registry's ``models`` option, the figures name the runs by their labels and factor levels in words,
and the entry's ``caption`` and ``paper`` (one for all, or per figure or table kind) are checked and reach
the report."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.text import Text

from runoffbench.analysis.embedding import ATTRIBUTES_MEMBER
from runoffbench.analysis.registry import ANALYSIS_KINDS, entry_key_problems, output_kind_entry, report_text
from runoffbench.config_check import check_config, schema_problems
from runoffbench.errors import ConfigError
from runoffbench.outputs import KINDS, command_line, parsed_options
from runoffbench.plots.labels import level_words, ordered_runs, run_label, run_labels
from tests.test_output_registry import cli_parser

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())

RUN = "ealstm@loss=nse"
LABELS = {RUN: "EA-LSTM (NSE*)"}
BASINS = [f"{region}00000{i}" for region in ("01", "03", "17") for i in range(3)]


def texts(fig) -> list[str]:
    """Every text a figure shows: titles, axis labels, tick labels, legends, colour bars."""
    shown = [t.get_text() for t in fig.findobj(Text)]
    plt.close(fig)
    return [t for t in shown if t]


def assert_labelled(fig, label: str, raw: str = RUN) -> None:
    shown = texts(fig)
    assert any(label in t for t in shown), shown
    assert not any(raw in t or "@" in t or "train_years" in t for t in shown), shown


# ------------------------------------------------------------------------------------------------
# the labels
# ------------------------------------------------------------------------------------------------
def test_a_run_is_named_by_its_label_else_its_models_and_its_levels_in_words():
    assert run_label(RUN, LABELS) == "EA-LSTM (NSE*)"
    assert run_label("lstm@train_years=3", {"lstm": "LSTM (local)"}) == "LSTM (local), 3 years"
    assert run_label("mclstm@train_years=1") == "MC-LSTM, 1 year"  # the paper's name without a label
    assert run_label("ealstm@loss=mse,train_years=9", ["ealstm"]) == "EA-LSTM, MSE loss, 9 years"
    assert run_label("gru@hidden_size=64") == "gru, hidden size 64"
    assert level_words("train_years", "15") == "15 years"
    assert ordered_runs(["lstm@train_years=1", "mclstm@train_years=1", "lstm@train_years=3"], {"mclstm": "MC-LSTM",
                        "lstm": "LSTM"}) == ["mclstm@train_years=1", "lstm@train_years=1", "lstm@train_years=3"]
    assert list(run_labels(["b", "a"], ["a"])) == ["a", "b"]


def test_the_labels_reach_every_analysis_figure_and_table_command():
    analysed = {kind for analysis in ANALYSIS_KINDS.values() for kind in analysis.output_kinds}
    assert analysed == {name for name, kind in KINDS.items() if kind.reads == "analysis"}
    for name in analysed:
        kind = KINDS[name]
        entry = {"kind": "x", "models": LABELS, "draws": 3, "caption": "c"}
        assert output_kind_entry(entry, kind) == {"plot" if kind.section == "figures" else "table": name,
                                                  "models": LABELS}
        line = command_line(kind.section, "my_id", output_kind_entry(entry, kind))
        args = cli_parser().parse_args([kind.section[:-1], name, "--table", "t.csv", "--output", "x.pdf",
                                        *shlex.split(line)])
        assert parsed_options(args, kind) == {"models": LABELS}, name
    listed = command_line("figures", "x", output_kind_entry({"models": ["ealstm", "lstm"]}, KINDS["static_noise"]))
    assert listed == "--models ealstm lstm"  # the list form only orders


# ------------------------------------------------------------------------------------------------
# the figures show them
# ------------------------------------------------------------------------------------------------
def test_static_noise_boxes_are_labelled_and_ordered():
    from runoffbench.plots.static_noise import plot_static_noise

    rng = np.random.default_rng(0)
    rows = [{"model": model, "member": member, "basin": basin, "sigma": sigma, "draw": draw,
             "NSE": 0.7 - sigma * 0.2 + 0.05 * rng.standard_normal()}
            for model in (RUN, "lstm@loss=nse") for member in ("0", "1") for basin in BASINS
            for sigma in (0.0, 0.5) for draw in ((0,) if sigma == 0 else (0, 1))]
    fig = plot_static_noise(pd.DataFrame(rows), models={"lstm@loss=nse": "LSTM (NSE*)", **LABELS})
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["LSTM (NSE*)", "EA-LSTM (NSE*)"]  # in the order of the mapping
    assert "2 seeds pooled" in fig.axes[0].get_title(loc="left")
    assert_labelled(fig, "EA-LSTM (NSE*)")


def _morris_table() -> pd.DataFrame:
    return pd.DataFrame([{"model": RUN, "member": member, "basin": basin, "lat": 30 + i, "lon": -110 + 2 * i,
                          "attribute": attribute, "sensitivity": value}
                         for member in ("0", "1") for i, basin in enumerate(BASINS)
                         for attribute, value in (("aridity", 1.0 if i % 2 else 0.5), ("p_mean", 0.8))])


def test_the_morris_map_and_ranking_name_the_model_by_its_label():
    from runoffbench.analysis.morris import ranking_table
    from runoffbench.plots.morris import plot_morris_map

    fig = plot_morris_map(_morris_table(), models=LABELS)
    assert fig.axes[0].get_title() == "EA-LSTM (NSE*), n=9, mean of 2 seeds"  # as the metric maps: n basins
    assert_labelled(fig, "EA-LSTM (NSE*)")
    built = ranking_table(_morris_table(), models=LABELS)
    assert set(built.table["model"]) == {"EA-LSTM (NSE*)"}


def _embedding_tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    gates = pd.DataFrame({"basin": BASINS, "model": RUN, "member": "0",
                          **{f"cell_{c}": rng.uniform(size=len(BASINS)) for c in range(4)}})
    silhouette = pd.DataFrame([{"model": RUN, "space": space, "member": member, "k": k, "silhouette_mean": 0.3,
                                "silhouette_min": 0.1 + 0.01 * k}
                               for space, members in (("embedding", ("0", "1")), ("attributes", (ATTRIBUTES_MEMBER,)))
                               for member in members for k in (2, 3, 4)])
    variance = pd.DataFrame([{"model": RUN, "space": space, "member": member, "k": k, "signature": signature,
                              "variance_reduction": rng.uniform()}
                             for space, members in (("embedding", ("0", "1")), ("attributes", (ATTRIBUTES_MEMBER,)))
                             for member in members for k in (5, 6) for signature in ("q_mean", "baseflow_index")])
    clusters = pd.DataFrame([{"model": RUN, "space": space, "member": member, "k": k, "basin": basin,
                              "cluster": i % k, "lat": 30 + i, "lon": -110 + 2 * i}
                             for space, member in (("embedding", "0"), ("attributes", ATTRIBUTES_MEMBER))
                             for k in (2, 3) for i, basin in enumerate(BASINS)])
    umap = pd.DataFrame({"basin": BASINS, "x": rng.normal(size=len(BASINS)), "y": rng.normal(size=len(BASINS)),
                         "model": RUN, "member": "0", "aridity": rng.uniform(size=len(BASINS))})
    return {"heatmap": gates, "silhouette": silhouette, "variance": variance, "clusters": clusters, "umap": umap}


@pytest.mark.parametrize("figure", ["heatmap", "silhouette", "variance", "clusters", "umap"])
def test_the_embedding_figures_name_the_network_by_its_label(figure):
    from runoffbench.plots import embedding

    table = _embedding_tables()[figure]
    options = {"clusters": {"ks": (2, 3)}}.get(figure, {})
    fig = getattr(embedding, f"plot_embedding_{figure}")(table, models=LABELS, **options)
    assert_labelled(fig, "EA-LSTM (NSE*)")


def _attribution_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(2)
    shares = pd.DataFrame([{"part": "share", "season": "all", "model": f"{model}@train_years={years}", "member": "0",
                            "basin": basin, "input": name, "share": rng.uniform()}
                           for model in ("lstm", "mclstm") for years in (1, 3) for basin in BASINS[:3]
                           for name in ("prcp", "tmax")])
    profile = pd.DataFrame(
        [{"part": "profile", "season": "all", "model": f"{model}@train_years=3", "basin": BASINS[0], "input": name,
          "lag": lag, "share": 0.1, "cumulative": 0.1 * (lag + 1), "seeds": 2}
         for model in ("lstm", "mclstm") for name in ("prcp", "tmax") for lag in range(5)]
        + [{"part": "season", "season": season, "model": f"{model}@train_years=3", "basin": BASINS[0], "input": name,
            "lag": np.nan, "share": 0.5, "cumulative": np.nan, "seeds": 2}
           for model in ("lstm", "mclstm") for name in ("prcp", "tmax") for season in ("DJF", "MAM", "JJA", "SON")])
    return shares, profile


def test_the_attribution_figures_name_models_by_label_and_data_amounts_in_years():
    from runoffbench.plots.attributions import plot_ig_profile, plot_ig_shares

    shares, profile = _attribution_tables()
    labels = {"mclstm": "MC-LSTM (local)", "lstm": "LSTM (local)"}
    fig = plot_ig_shares(shares, models=labels)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0].startswith("MC-LSTM (local) (3 basins") and legend[1].startswith("LSTM (local) (3 basins")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "3"]
    assert fig.axes[0].get_xlabel() == "Training data [years]"
    assert_labelled(fig, "MC-LSTM (local)", raw="mclstm")
    fig = plot_ig_profile(profile, models=labels)
    assert fig.axes[0].get_title(loc="left").startswith("MC-LSTM (local), 3 years (2 seeds)")
    assert_labelled(fig, "LSTM (local), 3 years", raw="mclstm")


# ------------------------------------------------------------------------------------------------
# the config check and the report
# ------------------------------------------------------------------------------------------------
def _with_analysis(**keys) -> dict:
    config = copy.deepcopy(DEFAULT)
    config["analyses"] = {"noise": {"kind": "static_noise", "draws": 2, **keys}}
    return config


def test_labels_captions_and_papers_pass_the_schema_and_the_check():
    config = _with_analysis(models={"ealstm": "EA-LSTM"}, caption="NSE under noise.", paper="Kratzert et al. 2019, "
                            "Fig. 6")
    assert not schema_problems(config, SCHEMA)
    check_config(config)
    config = _with_analysis(models=["ealstm"], caption={"static_noise": "NSE under noise."},
                            paper={"static_noise": None})
    assert not schema_problems(config, SCHEMA)
    check_config(config)


@pytest.mark.parametrize("keys, message", [
    ({"models": {"ealstm": 3}}, r"config key analyses.noise.models: "),
    ({"caption": ["a", "b"]}, r"config key analyses.noise.caption: "),
    ({"paper": 6}, r"config key analyses.noise.paper: "),
])
def test_the_schema_names_a_bad_label_or_caption(keys, message):
    problems = schema_problems(_with_analysis(**keys), SCHEMA)
    assert any(re.match(message, p) for p in problems), problems


@pytest.mark.parametrize("keys, message", [
    ({"models": {"ea_lstm": "EA-LSTM"}}, r"analyses.noise.models: \['ea_lstm'\] are not nn models"),
    ({"caption": {"morris_map": "A map."}}, r"analyses.noise.caption: \['morris_map'\] are not figures or tables of "
                                            r"static_noise; its figures and tables: static_noise"),
    ({"labels": {"ealstm": "EA-LSTM"}}, r"analyses.noise.labels: not an option of static_noise"),
])
def test_the_config_check_names_a_bad_analyses_key(keys, message):
    with pytest.raises(ConfigError, match=message):
        check_config(_with_analysis(**keys))


def test_a_label_that_is_not_text_is_named():
    problems = entry_key_problems(ANALYSIS_KINDS["embedding"], {"models": {"ealstm": ""}}, "analyses.gates")
    assert problems == ["analyses.gates.models: the display labels of ['ealstm'] are not text ({'ealstm': ''}); a "
                        "mapping model -> label, or a list of models"]


def test_each_figure_and_table_takes_its_caption_and_paper():
    entry = {"caption": {"morris_map": "The map.", "morris_ranking": "The ranking."}, "paper": "Kratzert et al. 2019"}
    assert report_text(entry, "caption", "morris_ranking") == "The ranking."
    assert report_text(entry, "paper", "morris_map") == "Kratzert et al. 2019"
    assert report_text({"caption": {"morris_map": "The map."}}, "caption", "morris_ranking") is None


def test_the_experiment_configs_caption_and_label_every_analysis_figure():
    for name in ("kratzert2019", "lizhao"):
        config = yaml.safe_load((REPO / "config" / "experiments" / f"{name}.yaml").read_text())
        for analysis, entry in config["analyses"].items():
            assert isinstance(entry["models"], dict), (name, analysis)
            for kind in ANALYSIS_KINDS[entry["kind"]].output_kinds:
                assert report_text(entry, "caption", kind), (name, analysis, kind)
                assert (report_text(entry, "paper", kind) or "").startswith(("Kratzert et al. 2019", "Li and Zhao"))
