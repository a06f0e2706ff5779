r"""Cumulative distributions over basins of metrics, per model and forcing (Frame et al. 2023).

Every function takes the long metrics table (:func:`runoffbench.evaluation.collect.collect_metrics`)
and shows, for one split, the member of each model and forcing that
:func:`~runoffbench.evaluation.collect.primary_runs` picks (the ensemble where there is one). The
empirical CDF of n finite values :math:`x_{(1)} \le \dots \le x_{(n)}` steps to :math:`i/n` at
:math:`x_{(i)}`. Colour names the model, line style the forcing.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from runoffbench.errors import ConfigError
from runoffbench.evaluation.across_basins import kge_skill_score
from runoffbench.evaluation.collect import metric_by_basin, primary_runs, runs
from runoffbench.plots.style import (
    DOUBLE_COLUMN,
    MODEL_COLOURS,
    SINGLE_COLUMN,
    legend_below,
    note_off_axis,
    palette,
    use_style,
)

LINE_STYLES = ("-", "--", ":", "-.")
#: half-width of the KGE-difference axis
DIFFERENCE_LIMIT = 1.0
#: the mass-bias axes end at ±1 (100 % of the observed volume); an arid basin's B can reach 1000s
MASS_BIAS_LIMIT = 1.0
#: metric, panel title, x label (short: three panels share a row), x range
MASS_BIAS = (("Mass-Bias-Absolute", "total absolute", "|B| [-]", (0.0, MASS_BIAS_LIMIT)),
             ("Mass-Bias-Positive", "positive", "max(B, 0) [-]", (0.0, MASS_BIAS_LIMIT)),
             ("Mass-Bias-Negative", "negative", "min(B, 0) [-]", (-MASS_BIAS_LIMIT, 0.0)))


def ecdf(values) -> tuple[np.ndarray, np.ndarray]:
    """Sorted finite values and their cumulative fractions i/n."""
    values = np.sort(np.asarray(values, dtype=float)[np.isfinite(np.asarray(values, dtype=float))])
    return values, np.arange(1, values.size + 1) / max(values.size, 1)


#: a model name that the scope's member selection split by member ("LSTM, ensemble", "LSTM, seed 0")
_MEMBER_NAME = re.compile(r"^(?P<model>.+), (?:ensemble|seed \S+)$")


def run_styles(table: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """Line colour per model and line style per forcing, in the project palette. A model shown as its
    ensemble and single members (``members: both``, Kratzert et al. 2019 Fig. 3) keeps one colour: the
    ensemble solid, each single member dashed and thinner (with several forcings: the forcing's style,
    thinner)."""
    models = {m: (match.group("model") if (match := _MEMBER_NAME.match(m)) else m) for m in table["model"].unique()}
    colours = palette(list(dict.fromkeys(models[m] for m, _ in runs(table))), MODEL_COLOURS)
    forcings = list(dict.fromkeys(table["forcing"]))
    styles = {}
    for m, f in runs(table):
        style = {"color": colours[models[m]], "linestyle": LINE_STYLES[forcings.index(f) % len(LINE_STYLES)]}
        if models[m] != m and not m.endswith(", ensemble"):  # a single member beside its ensemble
            style.update(linewidth=0.8, **({"linestyle": "--"} if len(forcings) == 1 else {}))
        styles[(m, f)] = style
    return styles


def draw_cdfs(ax: Axes, series: dict[tuple[str, str], pd.Series], styles: dict, xlabel: str,
              xlim: tuple[float, float] | None = None) -> None:
    """One step line per run, labelled "model (forcing), n=…"; axis labels and grid. Values beyond
    ``xlim`` still count in the fractions; the panel says how many lie off the axis."""
    beyond = 0
    for (model, forcing), values in series.items():
        x, y = ecdf(values)
        ax.step(x, y, where="post", label=f"{model} ({forcing}), n={x.size}", **styles[(model, forcing)])
        if xlim is not None:
            beyond += int(np.sum((x < xlim[0]) | (x > xlim[1])))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Fraction of basins [-]")
    ax.set_ylim(0, 1)
    if xlim is not None:
        ax.set_xlim(*xlim)
    note_off_axis(ax, beyond)
    ax.grid(linewidth=0.4, color="0.88")


def plot_metric_cdf(table: pd.DataFrame, metric: str, xlabel: str, split: str | None = None,
                    xlim: tuple[float, float] | None = None) -> Figure:
    """CDF of one metric per model and forcing; values beyond ``xlim`` are counted but off the axis."""
    chosen = primary_runs(table, split)
    use_style()
    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN, 2.8))
    series = {run: metric_by_basin(chosen, *run, metric) for run in runs(chosen)}
    draw_cdfs(ax, series, run_styles(chosen), xlabel, xlim)
    legend_below(fig, ax)
    ax.set_title(f"{metric}, split {chosen['split'].iloc[0]}")
    return fig


def plot_nse_cdf(table: pd.DataFrame, split: str | None = None) -> Figure:
    """CDF of NSE over basins; the axis starts at −1 (basins below still count)."""
    return plot_metric_cdf(table, "NSE", "Nash-Sutcliffe efficiency NSE [-]", split, (-1.0, 1.0))


def plot_kge_cdf(table: pd.DataFrame, split: str | None = None) -> Figure:
    """CDF of KGE over basins; the axis starts at −1 (the mean-flow benchmark scores −0.41)."""
    fig = plot_metric_cdf(table, "KGE", "Kling-Gupta efficiency KGE [-]", split, (-1.0, 1.0))
    fig.axes[0].axvline(1 - np.sqrt(2), color="0.4", linewidth=0.6, linestyle=":")
    return fig


def plot_mass_bias_cdf(table: pd.DataFrame, split: str | None = None) -> Figure:
    """Frame et al. (2023) Fig. 1: CDFs of absolute, positive and negative mass bias, a row per forcing,
    on ±:data:`MASS_BIAS_LIMIT` (the fractions count every basin)."""
    chosen = primary_runs(table, split)
    forcings = list(dict.fromkeys(chosen["forcing"]))
    use_style()
    fig, axes = plt.subplots(len(forcings), 3, figsize=(DOUBLE_COLUMN, 2.3 * len(forcings)), squeeze=False)
    styles = run_styles(chosen)
    for row, forcing in zip(axes, forcings):
        for ax, (metric, title, xlabel, xlim) in zip(row, MASS_BIAS):
            series = {run: metric_by_basin(chosen, *run, metric) for run in runs(chosen) if run[1] == forcing}
            draw_cdfs(ax, series, styles, xlabel, xlim)
            ax.set_title(f"{title} mass bias", fontsize=7)
        row[0].set_ylabel(f"{forcing}\nFraction of basins [-]")
        row[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=6)
    fig.tight_layout()
    return fig


def plot_mutual_information_cdf(table: pd.DataFrame, split: str | None = None) -> Figure:
    """Frame et al. (2023) Fig. 5: CDF of the per-basin mutual information of observed and simulated flow.

    The metric ``MI`` is the k-nearest-neighbour estimate of Kraskov et al. (2004, k = 3,
    :mod:`runoffbench.evaluation.information`), nearly unbiased on one water year; Frame et al.'s 100-bin
    histogram estimate is biased upward by ~ occupied cells / 2 days (> 1 nat for independent series on
    365 days), so it is not what is drawn. A note in the panel names the estimator.
    """
    fig = plot_metric_cdf(table, "MI", "Mutual information I(Qobs; Qsim) [nats]", split)
    ax = fig.axes[0]  # the estimator under the title, outside the axes: no curve is hidden
    ax.set_title(ax.get_title(), pad=13)
    ax.text(0.5, 1.01, "k-NN estimator (Kraskov et al. 2004, k = 3); independent series: 0 nats",
            transform=ax.transAxes, ha="center", va="bottom", fontsize=6, color="0.3")
    return fig


def plot_kge_skill_cdf(table: pd.DataFrame, baseline: str, split: str | None = None) -> Figure:
    """Frame et al. (2023) Fig. 6: KGE CDF and CDF of the KGE skill score against ``baseline``.

    Skill score (eq. 8) of every other model against ``baseline`` with the same forcing; ConfigError
    if ``baseline`` has no runs.
    """
    chosen = primary_runs(table, split)
    _require_models(chosen, [baseline], "the KGE skill score (evaluation.baseline_model)")
    use_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 2.9))
    styles = run_styles(chosen)
    draw_cdfs(left, {run: metric_by_basin(chosen, *run, "KGE") for run in runs(chosen)}, styles,
              "Kling-Gupta efficiency KGE [-]", (-1.0, 1.0))
    scores = {(m, f): kge_skill_score(metric_by_basin(chosen, m, f, "KGE"), metric_by_basin(chosen, baseline, f, "KGE"))
              for m, f in runs(chosen) if m != baseline and (baseline, f) in runs(chosen)}
    draw_cdfs(right, scores, styles, f"KGE skill score against {baseline} [-]", (-1.0, 1.0))
    right.axvline(0, color="0.3", linewidth=0.7, linestyle="--")
    fig.tight_layout()
    legend_below(fig, left, columns=4)
    return fig


def plot_kge_difference_cdf(table: pd.DataFrame, pair: tuple[str, str], split: str | None = None) -> Figure:
    """Frame et al. (2023) Fig. 7: CDF over basins of KGE(a) − KGE(b) of ``pair`` (a, b), one line per
    forcing, on ±1; the legend counts the basins beyond."""
    if len(pair) != 2:
        raise ConfigError(f"the KGE difference compares two models (A − B), not {len(pair)}: {list(pair)}")
    first, second = pair
    chosen = primary_runs(table, split)
    _require_models(chosen, [first, second], "the KGE difference (evaluation.kge_difference)")
    use_style()
    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN, 2.8))
    forcings = [f for f in dict.fromkeys(chosen["forcing"]) if {(first, f), (second, f)} <= set(runs(chosen))]
    for index, forcing in enumerate(forcings):
        difference = (metric_by_basin(chosen, first, forcing, "KGE") - metric_by_basin(chosen, second, forcing, "KGE"))
        x, y = ecdf(difference)
        better, beyond = int(np.sum(x > 0)), int(np.sum(np.abs(x) > DIFFERENCE_LIMIT))
        off_axis = f", {beyond} beyond ±{DIFFERENCE_LIMIT:g}" if beyond else ""
        ax.step(x, y, where="post", linestyle=LINE_STYLES[index % len(LINE_STYLES)], color="0.15",
                label=f"{forcing}: {first} better in {better} of {x.size} basins{off_axis}")
    ax.axvline(0, color="0.4", linewidth=0.7, linestyle="--")
    ax.set_xlabel(f"KGE({first}) − KGE({second}) [-]")
    ax.set_ylabel("Fraction of basins [-]")
    ax.set_ylim(0, 1)
    ax.set_xlim(-DIFFERENCE_LIMIT, DIFFERENCE_LIMIT)  # one basin near KGE = −∞ would squash the rest
    ax.grid(linewidth=0.4, color="0.88")
    legend_below(fig, ax, columns=1)
    return fig


def _require_models(table: pd.DataFrame, models: list[str], purpose: str) -> None:
    available = sorted(table["model"].unique())
    missing = [model for model in models if model not in available]
    if missing:
        raise ConfigError(f"model(s) {missing} needed for {purpose} have no runs; models with runs: {available}")
