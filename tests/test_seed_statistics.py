"""Across-seed statistics per basin (issue 15, item 2; Li & Zhao Figs. 2-5): seed mean and standard deviation,
the per-basin Wilcoxon signed-rank test across seeds and its classes, the seed count the test needs (a clear
error naming the config key), the tables and figures drawn from tables/metrics.csv through the CLI."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from runoffbench.cli import main
from runoffbench.config_check import check_config
from runoffbench.errors import ConfigError
from runoffbench.evaluation.seeds import (
    class_counts,
    minimum_seeds,
    robustness_summary,
    seed_significance,
    seed_statistics,
)

REPO = Path(__file__).resolve().parents[1]
LEVELS = ("1", "3", "15")


def seed_metrics(n_basins: int = 30, seeds: int = 6, levels=LEVELS) -> pd.DataFrame:
    """A long metrics table of LSTM, MC-LSTM and dEXP-HYDRO swept over train_years, ``seeds`` seeds each: the seed
    spread falls with the data amount, the MC-LSTM's is smaller and its KGE a little higher."""
    rng = np.random.default_rng(0)
    basins = [f"{i:08d}" for i in range(n_basins)]
    lat, lon = rng.uniform(30, 48, n_basins), rng.uniform(-120, -70, n_basins)
    frames = []
    for model, level_kge, factor in (("lstm", 0.55, 1.0), ("mclstm", 0.6, 0.7), ("dexphydro", 0.45, 1.0)):
        skill = rng.normal(level_kge, 0.1, n_basins)
        for level in levels:
            spread = 0.15 / np.sqrt(float(level)) * factor
            for seed in range(seeds):
                frames.append(pd.DataFrame({
                    "model": f"{model}@train_years={level}", "forcing": "daymet", "split": "s1", "member": str(seed),
                    "basin": basins, "huc_02": "01", "lat": lat, "lon": lon, "base_model": model,
                    "train_years": level, "KGE": skill + 0.05 * np.log(float(level)) + rng.normal(0, spread, n_basins),
                    "NSE": skill}))
    return pd.concat(frames, ignore_index=True)


def test_minimum_seeds_is_where_the_exact_test_can_reach_alpha():
    # with n seeds of one sign the exact two-sided p is 2/2^n: 0.0625 for 5, 0.03125 for 6
    assert [minimum_seeds(a) for a in (0.1, 0.05, 0.02, 0.01)] == [5, 6, 7, 8]
    assert all(2 / 2 ** minimum_seeds(a) < a <= 2 / 2 ** (minimum_seeds(a) - 1) for a in (0.1, 0.05, 0.01))


def _two_models(differences: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for basin, diffs in differences.items():
        for seed, d in enumerate(diffs):
            for model, value in (("a", 0.5 + d), ("b", 0.5)):
                rows.append({"model": f"{model}@train_years=3", "forcing": "daymet", "split": "s1", "member": str(seed),
                             "basin": basin, "base_model": model, "train_years": "3", "KGE": value})
    return pd.DataFrame(rows)


def test_wilcoxon_classes_per_basin():
    table = _two_models({
        "00000001": [0.1, 0.2, 0.05, 0.3, 0.15, 0.12],        # A better in every seed: p = 2/64
        "00000002": [-0.1, -0.2, -0.05, -0.3, -0.15, -0.12],  # A worse in every seed
        "00000003": [0.1, -0.2, 0.05, -0.3, 0.15, -0.12],     # mixed
        "00000004": [0.0] * 6,                                # identical
        "00000005": [0.1, 0.2, 0.05, 0.3, 0.15, np.nan],      # a seed without a value: 5 < 6 seeds
    })
    result = seed_significance(table, ("a", "b")).set_index("basin")
    assert result["class"].to_dict() == {"00000001": "positive", "00000002": "negative", "00000003": "not significant",
                                         "00000004": "not significant", "00000005": "untested"}
    assert result.loc["00000001", "p"] == pytest.approx(2 / 2**6)
    assert result.loc["00000005", "seeds"] == 5 and np.isnan(result.loc["00000005", "p"])
    counts = class_counts(result.reset_index())
    assert counts.loc[("daymet", "3")].to_dict() == {"positive": 1, "not significant": 2, "negative": 1, "untested": 1}


def test_too_few_seeds_is_an_error_naming_the_config_key():
    table = seed_metrics(seeds=3)
    with pytest.raises(ConfigError, match=r"models\.<name>\.seeds: .* at least 6 seeds per basin \(mclstm has 3\)"):
        seed_significance(table, ("mclstm", "lstm"))
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    broken = copy.deepcopy(config)
    broken["figures"]["fig2"] = {"plot": "seed_mean_boxes", "pair": ["dexphydro", "lstm"]}
    with pytest.raises(ConfigError, match=r"figures\.fig2: models\.dexphydro\.seeds: .*needs at least 6 seeds"):
        check_config(broken)
    broken["figures"]["fig2"]["alpha"] = 0.3  # 2 seeds: the smallest p is 0.5, still too few at 0.3
    with pytest.raises(ConfigError, match=r"at least 3 seeds"):
        check_config(broken)
    for name in ("lstm", "dexphydro"):
        broken["models"][name]["seeds"] = list(range(6))
    broken["figures"]["fig2"]["alpha"] = 0.05
    check_config(broken)


def test_seed_statistics_and_the_robustness_summary():
    table = seed_metrics()
    statistics = seed_statistics(table)
    one = statistics[(statistics["model"] == "lstm") & (statistics["level"] == "3")
                     & (statistics["basin"] == "00000004")]
    values = table[(table["model"] == "lstm@train_years=3") & (table["basin"] == "00000004")]["KGE"]
    assert one["seeds"].item() == 6
    assert one["mean"].item() == pytest.approx(values.mean()) and one["std"].item() == pytest.approx(values.std(ddof=1))
    assert {"lat", "lon", "huc_02"} <= set(statistics.columns)
    summary = robustness_summary(table, ("mclstm", "lstm")).set_index("train_years")
    assert list(summary.index) == list(LEVELS)  # numeric order, not 1, 15, 3
    for model in ("lstm", "mclstm", "dexphydro"):  # the seed spread falls with the data amount
        assert summary[f"{model}: median KGE std"].is_monotonic_decreasing
    assert (summary["std mclstm < std lstm"] > summary["std compared"] / 2).all()
    classes = ["mclstm vs lstm: " + c for c in ("positive", "not significant", "negative", "untested")]
    assert (summary[classes].sum(axis=1) == 30).all()


@pytest.mark.parametrize("kind, options", [
    ("seed_mean_boxes", ["--pair", "mclstm", "lstm"]),
    ("seed_std_boxes", []),
    ("seed_std_map", ["--pair", "mclstm", "lstm", "--levels", "1", "15"]),
])
def test_seed_figures_through_the_cli(tmp_path, kind, options):
    path = tmp_path / "metrics.csv"
    seed_metrics().to_csv(path, index=False)
    figure = tmp_path / f"{kind}.pdf"
    labels = '{"lstm": "LSTM", "mclstm": "MC-LSTM", "dexphydro": "dEXP-HYDRO"}'  # the pair is relabelled too
    assert main(["figure", kind, "--table", str(path), "--models", labels, *options, "--output", str(figure)]) == 0
    assert figure.with_suffix(".png").stat().st_size > 20_000


def test_seed_figures_show_the_classes_and_counts():
    table = seed_metrics().replace({"base_model": {"mclstm": "MC-LSTM", "lstm": "LSTM"}})
    from runoffbench.plots.seeds import plot_seed_mean_boxes, plot_seed_std_boxes, plot_seed_std_map

    fig = plot_seed_mean_boxes(table, pair=("MC-LSTM", "LSTM"))
    boxes, classes = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in boxes.get_legend().get_texts()] == ["LSTM (6 seeds)", "MC-LSTM (6 seeds)",
                                                                      "dexphydro (6 seeds)"]
    assert [t.get_text() for t in classes.get_legend().get_texts()] == ["MC-LSTM better", "not significant",
                                                                         "MC-LSTM worse"]
    assert "Wilcoxon signed-rank test across seeds" in classes.get_title()
    fig = plot_seed_std_boxes(table)
    assert fig.axes[0].get_ylabel() == "KGE, standard deviation across seeds [-]"
    fig = plot_seed_std_map(table, pair=("MC-LSTM", "LSTM"))
    statistics = seed_statistics(table)
    wide = statistics[statistics["level"] == "1"].pivot(index="basin", columns="model", values="std")
    lower = int((wide["MC-LSTM"] < wide["LSTM"]).sum())
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == f"1 year: MC-LSTM lower in {lower} of 30 ({100 * lower / 30:.0f} %)"
    with pytest.raises(ConfigError, match="levels"):
        plot_seed_std_map(table, pair=("MC-LSTM", "LSTM"), levels=["9"])


def hydrograph_rows(seeds: int = 3) -> pd.DataFrame:
    dates = pd.date_range("2008-10-01", "2010-09-30")
    rng = np.random.default_rng(1)
    frames = []
    for basin in ("01013500", "02000002"):
        observed = 1 + np.sin(np.arange(len(dates)) / 58.0) ** 2 + rng.gamma(0.5, 0.5, len(dates))
        for model in ("lstm", "mclstm"):
            for level, noise in (("1", 0.6), ("15", 0.1)):
                for seed in range(seeds):
                    frames.append(pd.DataFrame({
                        "model": f"{model}@train_years={level}", "forcing": "daymet", "split": "s1",
                        "member": str(seed), "basin": basin, "date": dates, "qobs": observed,
                        "qsim": observed * rng.lognormal(0, noise) + rng.normal(0, noise / 4, len(dates))}))
    return pd.concat(frames, ignore_index=True)


def test_seed_hydrographs_a_row_per_basin_and_a_column_per_data_amount(tmp_path):
    from runoffbench.plots.seeds import plot_seed_hydrographs

    table = hydrograph_rows()
    fig = plot_seed_hydrographs(table, models={"lstm": "LSTM", "mclstm": "MC-LSTM"})
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["01013500, 1 year", "01013500, 15 years", "02000002, 1 year", "02000002, 15 years"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["observed", " ", "LSTM: mean of 3 seeds", "LSTM: min-max over the seeds",
                      "MC-LSTM: mean of 3 seeds", "MC-LSTM: min-max over the seeds"]  # a column per model
    with pytest.raises(ConfigError, match=r"levels \['6'\]"):
        plot_seed_hydrographs(table, levels=["6"])
    path = tmp_path / "hydrographs.csv"
    table.to_csv(path, index=False)
    figure = tmp_path / "fig3.pdf"
    assert main(["figure", "seed_hydrographs", "--table", str(path), "--levels", "1", "15", "--models",
                 '{"mclstm": "MC-LSTM"}', "--output", str(figure)]) == 0
    assert figure.with_suffix(".png").stat().st_size > 20_000


def test_seed_tables_through_the_cli(tmp_path):
    path = tmp_path / "metrics.csv"
    seed_metrics().to_csv(path, index=False)
    assert main(["table", "seed_robustness", "--table", str(path), "--pair", "mclstm", "lstm",
                 "--output", str(tmp_path / "robustness.csv")]) == 0
    robustness = pd.read_csv(tmp_path / "robustness.csv")
    assert list(robustness["train_years"]) == [1, 3, 15]
    assert "mclstm vs lstm: positive" in robustness.columns and "std mclstm < std lstm" in robustness.columns
    assert main(["table", "seed_statistics", "--table", str(path), "--pair", "mclstm", "lstm",
                 "--output", str(tmp_path / "statistics.csv")]) == 0
    statistics = pd.read_csv(tmp_path / "statistics.csv", dtype={"basin": str})
    assert len(statistics) == 30 * 3 and statistics["basin"].str.len().eq(8).all()
    assert set(statistics["mclstm vs lstm: class"]) <= {"positive", "negative", "not significant", "untested"}
    assert (statistics["lstm: seeds"] == 6).all()
