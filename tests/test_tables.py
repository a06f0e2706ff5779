"""Evaluation tables: cell formats, which runs they show, the three files written together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runoffbench.errors import ConfigError
from runoffbench.evaluation.statistics import median_ci
from runoffbench.evaluation.tables import (
    benchmark_table,
    comparison_table,
    ensemble_table,
    format_median_ci,
    median_metric_table,
)
from runoffbench.outputs import build as build_table
from runoffbench.table_files import latex_escape, write_table

METRICS = ["NSE", "KGE", "Pearson-r", "Alpha-NSE", "Beta-NSE", "Beta-KGE", "Peak-Timing", "FHV", "FLV"]


def metrics_table(n_basins: int = 40) -> pd.DataFrame:
    """Long metrics table: a good model (2 members + ensemble) and a poor baseline, two forcings."""
    rng = np.random.default_rng(0)
    rows = []
    for model, level, members in (("lstm", 0.75, ["0", "1", "ensemble"]), ("mean_flow", -0.4, ["0"])):
        for forcing in ("daymet", "nldas"):
            for member in members:
                values = rng.normal(level, 0.1, (n_basins, len(METRICS)))
                frame = pd.DataFrame(values, columns=METRICS)
                frame.insert(0, "basin", [f"{i:08d}" for i in range(n_basins)])
                for column, value in (("member", member), ("split", "s1"), ("forcing", forcing), ("model", model)):
                    frame.insert(0, column, value)
                rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_median_ci_cell_format():
    values = pd.Series(np.random.default_rng(1).normal(0.71, 0.05, 200))
    estimate = median_ci(values)
    cell = format_median_ci(values)
    assert cell == f"{estimate.value:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"  # median [2.5 %, 97.5 %]
    assert "±" not in cell  # an interval is not a symmetric ± spread
    assert pytest.approx(0.71, abs=0.02) == float(cell.split(" ")[0])
    assert format_median_ci(pd.Series([np.nan])) == "–"
    assert format_median_ci(pd.Series([-0.001, -0.002, 0.001])).startswith("0.00 [")  # no "-0.00"


def test_median_table_has_models_as_rows_and_metrics_as_columns():
    """Frame et al. (2023) Table 2 with four forcings would have 28 run columns: instead one row per
    forcing and model, one column per metric, so the table stays as narrow as the metric list."""
    built = median_metric_table(metrics_table())
    assert list(built.table.columns) == ["forcing", "model", "basins", "NSE", "KGE", "Pearson-r", "Alpha-NSE",
                                         "Beta-NSE", "Peak-Timing"]
    assert (built.table["basins"] == 40).all()
    assert built.table[["forcing", "model"]].values.tolist() == [
        ["daymet", "lstm"], ["daymet", "mean_flow"], ["nldas", "lstm"], ["nldas", "mean_flow"]]
    assert built.group == "forcing"
    lstm = built.table.iloc[0]
    assert lstm["NSE"].startswith("0.7") and " [" in lstm["NSE"] and "±" not in lstm["NSE"]


def test_median_table_width_does_not_grow_with_forcings():
    four = pd.concat([metrics_table().assign(forcing=lambda t, f=f: t["forcing"] + f) for f in ("", "_x")])
    built = median_metric_table(four)
    assert built.table.shape == (8, 9)


def test_ensemble_table_compares_members_and_ensemble():
    table = ensemble_table(metrics_table()).table
    lstm = table[(table["model"] == "lstm") & (table["forcing"] == "daymet")].iloc[0]
    assert lstm["members"] == 2 and " ± " in lstm["single: mean"] and lstm["ensemble: NSE ≤ 0"] == "0"
    baseline = table[table["model"] == "mean_flow"].iloc[0]
    assert baseline["ensemble: mean"] == "–" and baseline["single: NSE ≤ 0"] == "40"


def test_benchmark_table_marks_significant_differences():
    table = benchmark_table(metrics_table(), reference="mean_flow").table
    lstm = table[(table["model"] == "lstm") & (table["forcing"] == "daymet")].iloc[0]
    assert lstm["KGE"].endswith("*") and not table[table["model"] == "mean_flow"].iloc[0]["KGE"].endswith("*")
    assert list(table.columns) == ["model", "forcing", "basins", "KGE", "bias β-NSE", "σ ratio α", "r²", "FHV [%]",
                                   "FLV [%]"]
    with pytest.raises(ConfigError, match="evaluation.baseline_model 'lstm_v2' has no runs"):
        benchmark_table(metrics_table(), reference="lstm_v2")
    with pytest.raises(ValueError, match="unknown output kind 'frame'"):
        build_table("frame", metrics_table())


def test_benchmark_bias_is_beta_nse_not_the_ratio_of_means():
    """Nearing et al. (2020) Table 1 and Kratzert et al. (2019) Table 3 report the bias as β-NSE =
    (μs − μo)/σo (0 is unbiased), not KGE's ratio μs/μo (1 is unbiased)."""
    metrics = metrics_table()
    metrics["Beta-NSE"], metrics["Beta-KGE"] = -0.25, 0.8  # 20 % too little water, σo = 0.8 μo
    built = benchmark_table(metrics, reference="mean_flow")
    assert set(built.table["bias β-NSE"]) == {"-0.25"}
    assert any("(μs − μo)/σo" in note for note in built.notes)


def test_comparison_table_counts_wins_and_tests_each_metric():
    metrics = metrics_table()
    table = comparison_table(metrics, reference="mean_flow").table
    assert table[["model", "forcing", "metric"]].values.tolist() == [
        ["lstm", "daymet", "NSE"], ["lstm", "daymet", "KGE"], ["lstm", "nldas", "NSE"], ["lstm", "nldas", "KGE"]]
    # the lstm (ensemble member, ~0.75) beats the mean-flow baseline (~-0.4) in every one of the 40 basins
    assert (table["wins"] == 40).all() and (table["losses"] == 0).all() and (table["basins"] == 40).all()
    assert (table["Wilcoxon p"] == "< 0.001").all()
    lstm = metrics[(metrics.model == "lstm") & (metrics.member == "ensemble") & (metrics.forcing == "daymet")]
    base = metrics[(metrics.model == "mean_flow") & (metrics.forcing == "daymet")]
    difference = lstm["NSE"].to_numpy() - base["NSE"].to_numpy()
    assert float(table.loc[0, "mean difference"]) == pytest.approx(difference.mean(), abs=5e-4)
    assert float(table.loc[0, "median difference"]) == pytest.approx(np.median(difference), abs=5e-4)
    with pytest.raises(ConfigError, match="evaluation.baseline_model 'sacsma' has no runs"):
        comparison_table(metrics, reference="sacsma")


def test_write_table_writes_csv_markdown_and_latex(tmp_path):
    built = median_metric_table(metrics_table())
    csv, markdown, latex = write_table(built.table, tmp_path / "median_metrics.csv", built.caption, built.notes,
                                       group=built.group)
    written = pd.read_csv(csv)
    assert list(written.columns[:4]) == ["forcing", "model", "basins", "NSE"] and len(written) == 4  # CSV stays long
    text = markdown.read_text()
    assert built.caption in text and "**Forcing: daymet**" in text and "**Forcing: nldas**" in text
    headers = [line for line in text.splitlines() if line.startswith("| model |")]
    assert len(headers) == 2 and "forcing" not in headers[0]  # one block per forcing, forcing not repeated
    assert "| lstm | 40 | 0.7" in text
    text = latex.read_text()
    assert r"\begin{tabular}{lrrrrrrr}" in text and r"\label{tab:median_metrics}" in text
    assert r"\multicolumn{8}{l}{\textit{Forcing: nldas}}" in text and r"$\pm$" not in text
    assert latex_escape("mean_flow 5% & σ") == r"mean\_flow 5\% \& $\sigma$"


@pytest.mark.parametrize("table_id", ["median_metrics", "single_vs_ensemble", "benchmark", "comparison"])
def test_every_table_states_how_many_basins_it_covers(table_id):
    metrics = metrics_table()
    metrics = metrics[~((metrics["model"] == "mean_flow") & metrics["basin"].isin(["00000000", "00000001"]))]
    built = build_table(table_id, metrics)
    assert "basins" in built.table.columns
    by_model = dict(zip(built.table["model"], built.table["basins"]))
    assert by_model["mean_flow"] == 38 and (by_model.get("lstm", 40) == 40)
    assert any("40 basins" in note for note in built.notes), built.notes


def test_a_table_built_from_fewer_runs_than_configured_says_so():
    expected = ["lstm/daymet", "lstm/nldas", "mean_flow/daymet", "mean_flow/nldas", "sacsma/daymet"]
    built = build_table("median_metrics", metrics_table(), expected_runs=expected)
    assert any("4 of the 5 configured runs" in note and "sacsma (daymet)" in note for note in built.notes)
    complete = build_table("median_metrics", metrics_table(), expected_runs=["lstm/daymet", "lstm/nldas",
                                                                             "mean_flow/daymet", "mean_flow/nldas"])
    assert not any("configured runs" in note for note in complete.notes)


def _failures_file(root, run, rows):
    path = root / "runs" / run / "failures.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame(rows, columns=["basin", "stage", "reason"]).to_csv(path, index=False)
    return path


def test_failures_table_of_the_experiment(tmp_path):
    """Item 4: the basins every run left out, from the runs' failures.csv, one table (model, forcing,
    split, member, basin, stage, reason); it counts them, and says so when none was."""
    from runoffbench.cli import main

    paths = [
        _failures_file(tmp_path, "lstm/daymet/s1/0", [["02000002", "train", "0 days of observed streamflow"]]),
        _failures_file(tmp_path, "sacsma/daymet/s1/0", [["02000002", "calibrate", "0 days of observed streamflow"],
                                                        ["03000003", "calibrate", "DataError: boom"]]),
        _failures_file(tmp_path, "mean_flow/daymet/s1/0", []),
    ]
    output = tmp_path / "tables" / "failures.csv"
    assert main(["table", "failures", "--failures", *map(str, paths), "--output", str(output)]) == 0
    table = pd.read_csv(output, dtype=str)
    assert list(table.columns) == ["model", "forcing", "split", "member", "basin", "stage", "reason"]
    assert table[["model", "basin", "stage"]].values.tolist() == [
        ["lstm", "02000002", "train"], ["sacsma", "02000002", "calibrate"], ["sacsma", "03000003", "calibrate"]]
    markdown = (tmp_path / "tables" / "failures.md").read_text()
    assert "3 basin(s) left out in 2 of 3 runs (2 distinct basins)" in markdown
    empty = tmp_path / "empty" / "failures.csv"
    assert main(["table", "failures", "--failures", str(paths[-1]), "--output", str(empty)]) == 0
    assert pd.read_csv(empty).empty and "No basin was left out of the 1 run(s)" in empty.with_suffix(".md").read_text()
