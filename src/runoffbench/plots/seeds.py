"""Figures of the across-seed statistics (:mod:`runoffbench.evaluation.seeds`), Li & Zhao Figs. 2-5.

- :func:`plot_seed_mean_boxes` (Fig. 2): boxes over basins of the seed-mean KGE per data amount and model,
  and under them, per data amount, the basins of each class of the per-basin signed-rank test of the pair
  (A better, not significant, A worse, untested) as a stacked bar with the counts.
- :func:`plot_seed_std_boxes` (Fig. 4): boxes of the KGE standard deviation across seeds per data amount and
  model (robustness against the initialisation; it should fall as the data grow).
- :func:`plot_seed_std_map` (Fig. 5): a CONUS map per data amount of the per-basin difference of the seed
  standard deviations, A − B (blue: A varies less across seeds), titled with the basins where A's is lower.
- :func:`plot_seed_hydrographs` (Fig. 3): hydrographs of the chosen basins (a row each) under two data amounts
  (a column each): per model the seed mean and the range (min-max) over the seeds, the observation on top.

Models are coloured by their base name (``lstm``, ``mclstm``, ``dexphydro``, ... in
:data:`~runoffbench.plots.style.MODEL_COLOURS`, also when the scope relabels them "MC-LSTM").

A model with one member per level (a calibration, ``exphydro@train_years=3``): Fig. 2 draws its value as its
seed mean ("1 seed" in the legend), Fig. 4 leaves it out and names it under the axis (no spread), Fig. 5
and the per-basin test of a pair refuse it with an error naming it, Fig. 3 draws its run without a range.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.seeds import (
    CLASSES,
    DATA_AMOUNT,
    SIGNIFICANCE,
    class_counts,
    level_order,
    seed_significance,
    seed_statistics,
    std_difference,
)
from runoffbench.plots.conus import draw_conus
from runoffbench.plots.grouped_boxes import FACTOR_LABELS, _draw_model, _fit_to_whiskers
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, palette, use_style
from runoffbench.predictions import ENSEMBLE_MEMBER

#: colours of the test classes: A better, no difference, A worse, not tested
CLASS_COLOURS = {"positive": "#1B7837", "not significant": "#BDBDBD", "negative": "#B2182B", "untested": "#FFFFFF"}
_MAP_HEIGHT = 0.56


def model_colours(names: Sequence[str]) -> dict[str, str]:
    """Colour per model name or display label: the colour of its base name ("MC-LSTM" → mclstm's)."""
    known = {}
    for name in dict.fromkeys(names):
        key = re.sub(r"[^a-z0-9]", "", str(name).split("@")[0].lower())
        known[name] = MODEL_COLOURS.get(str(name), MODEL_COLOURS.get(key))
    chosen = {name: colour for name, colour in known.items() if colour}
    rest = palette([n for n in known if n not in chosen], {})
    return {name: chosen.get(name) or rest[name] for name in known}


def level_label(by: str, level: str) -> str:
    """"3 years" for a data amount, ``by=level`` for another factor."""
    if by == DATA_AMOUNT:
        return f"{level} year{'s' * (str(level) != '1')}"
    return f"{by.replace('_', ' ')} {level}"


def _axis_label(by: str) -> str:
    return FACTOR_LABELS.get(by, by.replace("_", " "))


def _with_levels(statistics: pd.DataFrame, by: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rows with a level of ``by``, the levels in order, and the models without any (not drawn)."""
    has_level = statistics["level"] != ""
    unswept = sorted(set(statistics.loc[~has_level, "model"]) - set(statistics.loc[has_level, "model"]))
    rows = statistics[has_level]
    if rows.empty:
        raise DataError(f"seed statistics by {by!r}: no run has a level of {by} (is it a sweep factor?)")
    return rows, level_order(rows["level"]), unswept


# ------------------------------------------------------------------------------------------------
# Fig. 2
# ------------------------------------------------------------------------------------------------
def plot_seed_mean_boxes(table: pd.DataFrame, metric: str = "KGE", by: str = DATA_AMOUNT,
                         pair: Sequence[str] | None = None, alpha: float = SIGNIFICANCE, notch: bool = True) -> Figure:
    """Li & Zhao Fig. 2: boxes of the per-basin seed mean of ``metric`` by level of ``by`` and model (a column
    per forcing) and, with ``pair`` = (A, B), the per-basin signed-rank test classes of A against B per level."""
    statistics, levels, unswept = _with_levels(seed_statistics(table, metric, by), by)
    counts = class_counts(seed_significance(table, pair, metric, by, alpha)) if pair else None
    notes = [f"not shown (no level of {by}): {', '.join(unswept)}"] if unswept else []
    return _box_figure(statistics, "mean", f"{metric}, mean over seeds [-]", levels, by, notch, notes,
                       counts=counts, pair=pair, alpha=alpha)


def plot_seed_std_boxes(table: pd.DataFrame, metric: str = "KGE", by: str = DATA_AMOUNT, notch: bool = True) -> Figure:
    """Li & Zhao Fig. 4: boxes of the per-basin standard deviation of ``metric`` across seeds by level of ``by``
    and model (a column per forcing); models with one seed (no spread) are left out and named."""
    statistics, _, unswept = _with_levels(seed_statistics(table, metric, by), by)
    single = sorted(set(statistics["model"]) - set(statistics.loc[statistics["std"].notna(), "model"]))
    statistics = statistics[~statistics["model"].isin(single) & statistics["std"].notna()]
    if statistics.empty:
        raise DataError(f"seed standard deviation of {metric}: no model has two or more seeds")
    notes = [f"{', '.join(single)} (one seed)"] if single else []
    notes += [f"{', '.join(unswept)} (no level of {by})"] if unswept else []
    notes = ["not shown: " + "; ".join(notes)] if notes else []
    medians = statistics.groupby(["model", "level"])["std"].median()
    return _box_figure(statistics, "std", f"{metric}, standard deviation across seeds [-]",
                       level_order(statistics["level"]), by, notch, notes, medians=medians)


def _box_figure(statistics: pd.DataFrame, value: str, ylabel: str, levels: list[str], by: str, notch: bool,
                notes: list[str], counts: pd.DataFrame | None = None, pair=None, alpha: float = SIGNIFICANCE,
                medians: pd.Series | None = None) -> Figure:
    """Boxes of ``value`` per level (x) and model (colour), a column per forcing; under them the test classes
    (``counts``); ``medians``: each model's medians joined by a thin line (the trend over the levels)."""
    models = list(dict.fromkeys(statistics["model"]))
    forcings = list(dict.fromkeys(statistics["forcing"]))
    colours = model_colours(models)
    use_style()
    rows = 2 if counts is not None else 1
    fig, axes = plt.subplots(rows, len(forcings), figsize=(DOUBLE_COLUMN, 2.7 + 1.35 * (rows - 1) + 0.5),
                             squeeze=False, sharex="col", gridspec_kw={"height_ratios": [2.2, 1.0][:rows]})
    width = 0.8 / len(models)
    for column, forcing in enumerate(forcings):
        ax = axes[0, column]
        panel = statistics[statistics["forcing"] == forcing]
        ends = [0.0]
        for index, model in enumerate(models):
            values = [panel.loc[(panel["model"] == model) & (panel["level"] == level), value].to_numpy(float)
                      for level in levels]
            ends += _draw_model(ax, values, index, len(models), colours[model], notch)
            if medians is not None:
                positions = np.arange(len(levels)) - 0.4 + width * (index + 0.5)
                trend = [medians.get((model, level), np.nan) for level in levels]
                ax.plot(positions, trend, color=colours[model], linewidth=0.8, marker="o", markersize=2.5,
                        markeredgecolor="black", markeredgewidth=0.4, zorder=4)
        _fit_to_whiskers(ax, ends, panel[value].to_numpy(float))
        ax.axhline(0, color="0.3", linestyle="--", linewidth=0.7, zorder=0)
        for boundary in np.arange(len(levels) - 1) + 0.5:
            ax.axvline(boundary, color="0.85", linewidth=0.5, zorder=0)
        ax.set_ylabel(ylabel)
        ax.set_title(forcing, fontsize=8, pad=10)
        ax.grid(axis="y", linewidth=0.4, color="0.88")
        basins = panel.groupby("level")["basin"].nunique()
        for position, level in enumerate(levels):
            ax.text(position, 1.0, f"n={basins.get(level, 0)}", transform=ax.get_xaxis_transform(), ha="center",
                    va="bottom", fontsize=6, color="0.3")
        if counts is not None:
            _draw_classes(axes[1, column], counts, forcing, levels, pair, alpha)
    for ax in axes[-1]:
        ax.set_xticks(range(len(levels)), levels)
        ax.set_xlabel(_axis_label(by))
    if notch:
        notes = [*notes, "notches: 95 % confidence interval of the median (boxes of 10 or more basins)"]
    if medians is not None:
        notes = [*notes, "dots and lines: the medians"]
    if notes:
        bottom = axes[-1, 0]
        bottom.set_xlabel(bottom.get_xlabel() + "\n" + "\n".join(textwrap.wrap("; ".join(notes), 110)))
    seeds = statistics.groupby("model")["seeds"].max()
    handles = [Patch(facecolor=colours[m], alpha=0.7, edgecolor="0.25",
                     label=f"{m} ({seeds[m]} seed{'s' * int(seeds[m] != 1)})") for m in models]
    axes[0, -1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="Model")
    fig.tight_layout()
    return fig


def _draw_classes(ax, counts: pd.DataFrame, forcing: str, levels: list[str], pair: Sequence[str],
                  alpha: float) -> None:
    """A stacked bar per level: the share of the basins in each test class, the count written inside."""
    a, b = pair
    labels = {"positive": f"{a} better", "not significant": "not significant", "negative": f"{a} worse",
              "untested": "untested (too few seeds)"}
    shown = [c for c in CLASSES if c != "untested" or counts["untested"].sum() > 0]
    for position, level in enumerate(levels):
        if (forcing, level) not in counts.index:
            continue
        row = counts.loc[(forcing, level)]
        total = int(row.sum())
        bottom = 0.0
        for name in shown:
            share = row[name] / total if total else 0.0
            ax.bar(position, share, bottom=bottom, width=0.62, color=CLASS_COLOURS[name], edgecolor="0.3",
                   linewidth=0.5, label=labels[name] if position == 0 else None)
            if row[name] and share >= 0.07:
                dark = name in ("positive", "negative")
                ax.text(position, bottom + share / 2, str(int(row[name])), ha="center", va="center", fontsize=6,
                        color="white" if dark else "black")
            elif row[name]:  # too thin for its number: the number beside the bar
                ax.text(position + 0.34, bottom + share / 2, str(int(row[name])), ha="left", va="center",
                        fontsize=6, color=CLASS_COLOURS[name] if name != "untested" else "0.3")
            bottom += share
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 0.5, 1], ["0", "50", "100"])
    ax.set_ylabel("Basins [%]")
    ax.set_title(f"Wilcoxon signed-rank test across seeds per basin, {a} vs {b}, α = {alpha:g}", fontsize=7, pad=3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6.5)


# ------------------------------------------------------------------------------------------------
# Fig. 5
# ------------------------------------------------------------------------------------------------
def plot_seed_std_map(table: pd.DataFrame, pair: Sequence[str] | None = None, metric: str = "KGE",
                      by: str = DATA_AMOUNT, levels: Sequence[str] | None = None) -> Figure:
    """Li & Zhao Fig. 5: a map per level of ``by`` (all, or ``levels``) of std A − std B across seeds per
    basin, ``pair`` = (A, B); each panel counts the basins where A's standard deviation is the lower."""
    if not pair:
        raise ConfigError("seed_std_map needs pair: [A, B] (the map shows std A − std B)")
    a, b = pair
    statistics = seed_statistics(table, metric, by)
    if not {"lat", "lon"} <= set(statistics.columns):
        raise DataError("seed_std_map: the metrics table has no lat/lon of the basins")
    difference = std_difference(statistics, pair)
    difference = difference[difference["level"] != ""]
    available = level_order(difference["level"])
    if difference.empty:
        raise DataError(f"seed_std_map: {a} and {b} have no basins with two or more seeds at a level of {by}")
    shown = [str(level) for level in levels] if levels else available
    missing = [level for level in shown if level not in available]
    if missing:
        raise ConfigError(f"seed_std_map: levels {missing} of {by} have no runs of both {a} and {b}; levels: "
                          f"{', '.join(available)}")
    forcings = list(dict.fromkeys(difference["forcing"]))
    panels = [(forcing, level) for forcing in forcings for level in shown]
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    width = DOUBLE_COLUMN / columns
    limit = float(np.nanpercentile(np.abs(difference["difference"]), 95)) or 0.01
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    use_style()
    fig, axes = plt.subplots(rows, columns, figsize=(DOUBLE_COLUMN, rows * (_MAP_HEIGHT * width + 0.3) + 0.7),
                             squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    marker = float(np.clip(14.0 * (width / 2.4) ** 2, 5.0, 16.0)) * (0.6 if difference["basin"].nunique() > 200 else 1)
    points = None
    for ax, (forcing, level) in zip(axes.flat, panels):
        rows_here = difference[(difference["forcing"] == forcing) & (difference["level"] == level)]
        ax.set_axis_on()
        draw_conus(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        points = ax.scatter(rows_here["lon"], rows_here["lat"], c=rows_here["difference"], cmap="RdBu_r", norm=norm,
                            s=marker, edgecolors="black", linewidths=0.25, zorder=3)
        lower, total = int((rows_here["difference"] < 0).sum()), len(rows_here)
        share = f" ({100 * lower / total:.0f} %)" if total else ""
        where = f" ({forcing})" if len(forcings) > 1 else ""
        ax.set_title(f"{level_label(by, level)}{where}: {a} lower in {lower} of {total}{share}", fontsize=7, pad=2)
    colourbar = fig.colorbar(points, ax=axes, orientation="horizontal", shrink=0.6, aspect=40, extend="both", pad=0.02)
    colourbar.set_label(f"std of {metric} across seeds, {a} − {b} [-]   (blue: {a} varies less across seeds)")
    return fig


# ------------------------------------------------------------------------------------------------
# Fig. 3
# ------------------------------------------------------------------------------------------------
def plot_seed_hydrographs(table: pd.DataFrame, by: str = DATA_AMOUNT, levels: Sequence[str] | None = None,
                          models: Sequence[str] | Mapping[str, str] | None = None, forcing: str | None = None,
                          water_year: int | None = None, log: bool = False) -> Figure:
    """Li & Zhao Fig. 3: a row per basin of the hydrograph table and a column per level of ``by`` (default the
    fewest and the most, e.g. 3 and 15 years with ``levels``); per model (``models``: base names, or a mapping
    base name → label) the mean over its seeds and their min-max range; observed flow in black on top."""
    from runoffbench.experiment import parse_run_name
    from runoffbench.plots.hydrographs import _flow_axis, _nse, _shown_water_years

    needed = ("model", "forcing", "member", "basin", "date", "qobs", "qsim")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(f"seed_hydrographs: the hydrograph table lacks column(s) {missing}")
    parsed = table["model"].map(parse_run_name)
    rows = table.assign(date=pd.to_datetime(table["date"]), basin=table["basin"].astype(str),
                        member=table["member"].astype(str), base=parsed.map(lambda p: p[0]),
                        level=parsed.map(lambda p: p[1].get(by, "")))
    forcing = forcing or list(dict.fromkeys(rows["forcing"]))[0]
    rows = rows[(rows["forcing"] == forcing) & (rows["member"] != ENSEMBLE_MEMBER) & (rows["level"] != "")]
    if rows.empty:
        raise DataError(f"seed_hydrographs: no swept run (factor {by}) with forcing {forcing!r} in the hydrograph "
                        "table")
    available = level_order(rows["level"])
    shown_levels = [str(level) for level in levels] if levels else [available[0], available[-1]]
    unknown = [level for level in shown_levels if level not in available]
    if unknown:
        raise ConfigError(f"seed_hydrographs: levels {unknown} of {by} are not in the hydrograph table; levels: "
                          f"{', '.join(available)}")
    labels = dict(models) if isinstance(models, Mapping) else {m: m for m in (models or dict.fromkeys(rows["base"]))}
    absent = [m for m in labels if m not in set(rows["base"])]
    if absent:
        raise ConfigError(f"seed_hydrographs: models {absent} have no swept runs in the hydrograph table; models: "
                          f"{', '.join(dict.fromkeys(rows['base']))}")
    first, last = _shown_water_years(rows, water_year, 1)
    rows = rows[(rows["date"] >= f"{first - 1}-10-01") & (rows["date"] <= f"{last}-09-30")]
    basins = sorted(rows["basin"].unique())
    colours = model_colours(list(labels))
    use_style()
    fig, axes = plt.subplots(len(basins), len(shown_levels), figsize=(DOUBLE_COLUMN, 1.7 * len(basins) + 0.6),
                             squeeze=False, sharex=True, sharey="row")
    seeds_seen: dict[str, set[int]] = {}
    for r, basin in enumerate(basins):
        at_basin = rows[rows["basin"] == basin]
        observed = at_basin.drop_duplicates("date").set_index("date")["qobs"].sort_index()
        for c, level in enumerate(shown_levels):
            ax, scores, drawn = axes[r, c], [], []
            for order, (model, label) in enumerate(labels.items()):
                runs = at_basin[(at_basin["base"] == model) & (at_basin["level"] == level)]
                if runs.empty:
                    continue
                wide = runs.pivot_table(index="date", columns="member", values="qsim")
                seeds_seen.setdefault(model, set()).add(wide.shape[1])
                mean = wide.mean(axis=1)
                band = pd.DataFrame({"low": wide.min(axis=1), "high": wide.max(axis=1)})
                ax.fill_between(band.index, band["low"], band["high"], color=colours[model], alpha=0.25, linewidth=0,
                                zorder=2 + order * 0.01)
                ax.plot(mean.index, mean.values, color=colours[model], linewidth=0.9, zorder=3 + order * 0.01)
                drawn.append((mean, band, label, model))
                scores.append(f"{label} {_nse(observed, mean):.2f}")
            ax.plot(observed.index, observed.values, color="black", linewidth=0.9, zorder=5)
            _flow_axis(ax, observed, [(line, band) for line, band, *_ in drawn], log)
            if c:
                ax.set_ylabel("")
            ax.set_title(f"{basin}, {level_label(by, level)}", fontsize=7.5, loc="left")
            ax.text(0.99, 0.96, "NSE " + ", ".join(scores), transform=ax.transAxes, ha="right", va="top",
                    fontsize=6, color="0.25", zorder=6,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0})
            ax.grid(linewidth=0.4, color="0.9")
    import matplotlib.dates as mdates

    for ax in axes[-1]:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlim(pd.Timestamp(f"{first - 1}-10-01"), pd.Timestamp(f"{last}-09-30"))
    fig.tight_layout()
    # a legend column per model, its line above its band; the observation first
    handles = [Line2D([], [], color="black", linewidth=0.9, label="observed"), Line2D([], [], alpha=0.0, label=" ")]
    for model, label in labels.items():
        counts = sorted(seeds_seen.get(model, {0}))
        if counts == [1]:  # a single member (a calibration): its run, no range
            handles.append(Line2D([], [], color=colours[model], linewidth=0.9, label=f"{label}: its one run"))
            handles.append(Line2D([], [], alpha=0.0, label=" "))
            continue
        seeds = "/".join(str(n) for n in counts)
        handles.append(Line2D([], [], color=colours[model], linewidth=0.9, label=f"{label}: mean of {seeds} seeds"))
        handles.append(Patch(facecolor=colours[model], alpha=0.25, label=f"{label}: min-max over the seeds"))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles) // 2,
               fontsize=6.5, frameon=False, title=f"{forcing}, water year {last}", title_fontsize=6.5)
    return fig
