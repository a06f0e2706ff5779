"""The output registry (issue 13, item 1): one entry per table/figure kind that the schema check, the
CLI, the rules and the report read; the scope (models with labels, members, basin filters, factors)
applied to the metrics table; factor columns of tables/metrics.csv."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from runoffbench.analysis.registry import ANALYSIS_KINDS
from runoffbench.cli import figure as figure_cli
from runoffbench.cli import main
from runoffbench.cli import table as table_cli
from runoffbench.config_check import schema_problems
from runoffbench.evaluation.collect import collect_metrics
from runoffbench.evaluation.scope import apply_scope, read_metrics_table
from runoffbench.experiment import expand_models
from runoffbench.outputs import KINDS, command_line, entry_problems, output_kind, parsed_options
from tests.test_tables import metrics_table

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def cli_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runoffbench")
    subparsers = parser.add_subparsers(dest="command")
    figure_cli.add_parser(subparsers)
    table_cli.add_parser(subparsers)
    return parser


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_has_a_schema_entry_a_cli_and_a_function_taking_its_options(name):
    kind = KINDS[name]
    schema = yaml.safe_load(SCHEMA.read_text())
    assert "plot" in schema["definitions"]["output_spec"]["properties"]  # its enum comes from the registry
    assert not schema_problems({**_minimal(), kind.section: {f"my_{name}": _entry(kind)}}, SCHEMA)
    flags = kind.section[:-1], name, "--output", "x.pdf"
    source = ("--failures",) if kind.reads == "failures" else ("--table", "t.csv")
    args = cli_parser().parse_args([*flags, *source])
    assert args.output_kind is kind
    parameters = inspect.signature(kind.load()).parameters
    for option in kind.options:
        argument = option.argument or option.name
        assert argument in parameters, (name, argument)
        default = parameters[argument].default
        if option.default is not None and default is not inspect.Parameter.empty:
            assert default == option.default, (name, option.name)  # the CLI leaves the default to the function


def built_configs() -> list[dict]:
    """The configs whose every output the test suite builds: the default run and the smoke twins."""
    from tests.test_smoke_configs import EXPERIMENTS, merged_config

    twins = [merged_config(name) for name in EXPERIMENTS if (REPO / "config" / "smoke" / f"{name}.yaml").is_file()]
    return [yaml.safe_load((REPO / "config" / "config.yaml").read_text()), *twins]


def test_every_kind_is_built_in_a_config_the_suite_runs():
    used = set()
    for config in built_configs():
        for section in ("tables", "figures"):
            for output_id, entry in (config.get(section) or {}).items():
                used.add((entry or {}).get("plot" if section == "figures" else "table", output_id))
        used |= {entry["kind"] for entry in (config.get("analyses") or {}).values()}
        used |= {use.kind for entry in (config.get("analyses") or {}).values()  # the figures and tables it feeds
                 for use in (*ANALYSIS_KINDS[entry["kind"]].figures, *ANALYSIS_KINDS[entry["kind"]].tables)}
    assert set(KINDS) <= used, sorted(set(KINDS) - used)


def test_command_line_round_trips_through_the_cli():
    entry = {"plot": "metric_boxplot", "metric": "NSE", "by": "train_years", "members": "seed_mean",
             "models": {"lstm": "LSTM", "mclstm": "MC-LSTM"}, "basins": ["complete_record", "nse_above:0"],
             "notch": False, "exclude_regions": ["09"]}
    line = command_line("figures", "kge_years", entry, {"split": "s1", "min_basins_per_region": 2})
    argv = ["figure", "metric_boxplot", "--table", "m.csv", "--output", "x.pdf", *_split(line)]
    args = cli_parser().parse_args(argv)
    assert parsed_options(args, output_kind("metric_boxplot")) == {
        "split": "s1", "models": {"lstm": "LSTM", "mclstm": "MC-LSTM"}, "members": "seed_mean",
        "basins": ["complete_record", "nse_above:0"], "metric": "NSE", "by": "train_years", "notch": False,
        "min_basins": 2, "exclude_regions": ["09"]}


def test_entry_problems_name_the_key_and_the_choices():
    assert entry_problems("figures", "f", {"plot": "nse_cdf", "pair": ["a", "b"]}) == [
        "figures.f.pair: not an option of nse_cdf; its options: split, forcings, models, members, basins, factors"]
    assert "figures.f.members: 'some' is not one of primary, ensemble" in entry_problems(
        "figures", "f", {"plot": "nse_cdf", "members": "some"})[0]
    assert "unknown basin filter 'best'" in entry_problems("figures", "f", {"plot": "nse_cdf", "basins": ["best"]})[0]
    assert "expected 2 values" in entry_problems("figures", "f", {"plot": "kge_difference_cdf", "pair": ["a"]})[0]
    assert entry_problems("figures", "nse_pdf", None) == [
        "figures.nse_pdf: unknown figure kind 'nse_pdf'; known: " + ", ".join(
            sorted(k for k, v in KINDS.items() if v.section == "figures"))]


def test_scope_orders_and_labels_models_and_relabels_model_options():
    table = metrics_table()
    shown, labels = apply_scope(table, {"models": {"mean_flow": "Mean flow", "lstm": "LSTM"}})
    assert list(dict.fromkeys(shown["model"])) == ["Mean flow", "LSTM"]
    assert set(shown["member"]) == {"ensemble", "0"}  # primary: the LSTM's ensemble, the baseline's member
    assert labels == {"mean_flow": "Mean flow", "lstm": "LSTM"}


@pytest.mark.parametrize(("mode", "runs"), [
    ("ensemble", {("lstm", "ensemble")}),
    ("first", {("lstm", "0"), ("mean_flow", "0")}),
    ("single", {("lstm, seed 0", "0"), ("lstm, seed 1", "1"), ("mean_flow", "0")}),
    ("both", {("lstm, ensemble", "ensemble"), ("lstm, seed 0", "0"), ("mean_flow", "0")}),
])
def test_member_modes(mode, runs):
    shown, _ = apply_scope(metrics_table(), {"members": mode, "forcings": ["daymet"]})
    assert set(zip(shown["model"], shown["member"])) == runs


def test_seed_mean_is_the_per_basin_mean_over_single_members():
    table = metrics_table()
    shown, _ = apply_scope(table, {"members": "seed_mean", "models": ["lstm"], "forcings": ["nldas"]})
    singles = table[(table["model"] == "lstm") & (table["forcing"] == "nldas") & (table["member"] != "ensemble")]
    expected = singles.groupby("basin")["NSE"].mean()
    np.testing.assert_allclose(shown.set_index("basin")["NSE"].reindex(expected.index), expected)
    assert set(shown["member"]) == {"seed_mean"} and set(shown["members"]) == {2}


def test_basin_filters_intersect(tmp_path):
    table = metrics_table()
    table.loc[(table["model"] == "mean_flow") & table["basin"].isin(["00000000", "00000001"]), "NSE"] = np.nan
    common, _ = apply_scope(table, {"basins": ["common"]})
    assert common["basin"].nunique() == 38
    table.loc[table["basin"] == "00000005", "NSE"] = 0.9
    best, _ = apply_scope(table, {"basins": ["nse_above:0.5@lstm"], "members": "ensemble"})
    ensemble = table[(table["model"] == "lstm") & (table["member"] == "ensemble")]
    passing = (ensemble["NSE"] > 0.5).groupby(ensemble["basin"]).all()  # in every shown run (both forcings)
    assert set(best["basin"]) == set(passing.index[passing]) and "00000005" in passing.index[passing]
    listed = tmp_path / "two.txt"
    listed.write_text("5\n00000007\n")
    both, _ = apply_scope(table, {"basins": [f"file:{listed}", "common"]})
    assert set(both["basin"]) == {"00000005", "00000007"}
    with pytest.raises(Exception, match=r"basins: nse_above:5: no basin of the shown runs passes this filter"):
        apply_scope(table, {"basins": ["nse_above:5"]})


def test_metrics_table_has_base_model_and_factor_columns(tmp_path):
    runs = expand_models({"lstm": {"kind": "nn", "sweep": {"train_years": [1, 3], "loss": ["nse", "mse"]}},
                          "sacsma": {"kind": "conceptual"}})
    paths = []
    for model in runs:
        path = tmp_path / "metrics" / model / "daymet" / "s1" / "0.csv"
        path.parent.mkdir(parents=True)
        pd.DataFrame({"basin": ["01013500"], "KGE": [0.5]}).to_csv(path, index=False)
        paths.append(path)
    table = collect_metrics(paths)
    table.to_csv(tmp_path / "metrics.csv", index=False)
    read = read_metrics_table(tmp_path / "metrics.csv")
    assert list(read.columns[:7]) == ["model", "forcing", "split", "member", "basin", "base_model", "train_years"]
    row = read[read["model"] == "lstm@train_years=3,loss=mse"].iloc[0]
    assert (row["base_model"], row["train_years"], row["loss"]) == ("lstm", "3", "mse")
    assert read.loc[read["model"] == "sacsma", "base_model"].item() == "sacsma"
    shown, _ = apply_scope(read, {"factors": {"train_years": [3]}, "models": {"lstm": "LSTM"}})
    assert set(shown["model"]) == {"LSTM@train_years=3,loss=nse", "LSTM@train_years=3,loss=mse"}
    assert set(shown["base_model"]) == {"LSTM"}


def test_cli_draws_a_scoped_boxplot_by_factor_and_a_labelled_comparison(tmp_path):
    table = metrics_table()
    swept = table[table["model"] == "lstm"].copy()
    frames = [table.assign(base_model=table["model"], train_years="")]
    for years, shift in (("1", -0.3), ("3", 0.0)):
        frames.append(swept.assign(model=f"lstm@train_years={years}", base_model="lstm", train_years=years,
                                   KGE=swept["KGE"] + shift))
    path = tmp_path / "metrics.csv"
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    figure = tmp_path / "kge_years.pdf"
    assert main(["figure", "metric_boxplot", "--table", str(path), "--by", "train_years", "--members", "seed_mean",
                 "--models", '{"lstm": "LSTM"}', "--factors", '{"train_years": ["1", "3"]}',
                 "--output", str(figure)]) == 0
    assert figure.with_suffix(".png").stat().st_size > 10_000
    output = tmp_path / "comparison.csv"
    assert main(["table", "comparison", "--table", str(path), "--models", '{"lstm": "LSTM", "mean_flow": "Mean"}',
                 "--baseline", "mean_flow", "--metrics", "KGE", "--output", str(output)]) == 0
    built = pd.read_csv(output)
    assert set(built["model"]) == {"LSTM", "LSTM@train_years=1", "LSTM@train_years=3"}  # the entry and its sweep
    assert list(built["metric"].unique()) == ["KGE"]
    assert {"mean difference in wins", "mean difference in losses"} <= set(built.columns)


def _minimal() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _entry(kind) -> dict:
    entry = {"plot" if kind.section == "figures" else "table": kind.name}
    if kind.name == "kge_difference_cdf":
        entry["pair"] = ["mclstm", "lstm"]
    return entry


def _split(line: str) -> list[str]:
    import shlex

    return shlex.split(line)


def test_config_check_names_scopes_the_config_lacks(tmp_path):
    from runoffbench.config_check import check_config
    from runoffbench.errors import ConfigError

    config = _minimal()
    empty = tmp_path / "none.txt"
    empty.write_text("\n")
    config["figures"]["scoped"] = {"plot": "nse_cdf", "forcings": ["maurer"], "models": {"lstn": "LSTM"},
                                   "factors": {"train_years": [4]}, "basins": [f"file:{empty}"]}
    config["figures"]["factorless"] = {"plot": "nse_cdf", "factors": {"loss": ["mse"]},
                                       "basins": [f"file:{tmp_path / 'absent.txt'}"]}
    with pytest.raises(ConfigError) as raised:
        check_config(config)
    message = str(raised.value)
    assert "figures.scoped.forcings: ['maurer'] not among dataset.forcings (daymet, nldas_extended)" in message
    assert "figures.scoped.models: ['lstn'] not among the configured models" in message
    assert "figures.scoped.factors.train_years: none of [4] is a level (2, 6)" in message
    assert f"figures.scoped.basins: basin list {empty} lists no basin" in message
    assert "figures.factorless.factors: 'loss' is no sweep factor of the config (train_years)" in message
    assert f"figures.factorless.basins: basin list {tmp_path / 'absent.txt'} does not exist" in message
