"""Figures of the integrated-gradients analysis (:mod:`runoffbench.analysis.integrated_gradients`), Li & Zhao
Figs. 6 and 7.

- :func:`plot_ig_shares` (Fig. 6), from the joined per-run table ``tables/<id>.csv``: a panel per input, boxes
  over basins of its share of the absolute contributions (mean over the seeds per basin), by data amount
  (or any sweep factor; by model without one) and model.
- :func:`plot_ig_profile` (Fig. 7), from the product ``tables/<id>_profile.csv``: for one basin, a row per
  model — the cumulative contribution of each input over the look-back (days before the predicted day) and
  the inputs' shares in each season of the predicted day.

Both take ``models``, the display labels and order of the models (:mod:`runoffbench.plots.labels`): the
figures group a sweep's runs by their model entry's name (``lstm`` of ``lstm@train_years=3``), and show
its levels along the x axis (Fig. 6) or in the title ("LSTM, 12 years", Fig. 7).
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from runoffbench.errors import DataError
from runoffbench.plots.grouped_boxes import FACTOR_LABELS, _draw_model
from runoffbench.plots.labels import Models, level_words, ordered_runs, run_label
from runoffbench.plots.seeds import model_colours
from runoffbench.plots.style import DOUBLE_COLUMN, FALLBACK_COLOURS, use_style

#: display names of the CAMELS forcings
INPUT_LABELS = {"prcp": "Precipitation", "prcp_mass": "Precipitation (mass input)", "tmax": "Max. temperature",
                "tmin": "Min. temperature", "vp": "Vapour pressure", "srad": "Shortwave radiation",
                "dayl": "Day length", "tmean": "Mean temperature", "pet": "PET", "swe": "Snow water equivalent"}
_INPUT_COLOURS = {"prcp": "#0072B2", "prcp_mass": "#56B4E9", "tmax": "#D55E00", "tmin": "#E69F00", "vp": "#009E73",
                  "srad": "#CC79A7", "dayl": "#999999"}


def input_colours(names) -> dict[str, str]:
    spare = iter(FALLBACK_COLOURS)
    return {n: _INPUT_COLOURS.get(n) or next(spare, "#333333") for n in dict.fromkeys(names)}


def _factor(table: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The table with ``base_model`` and the level of its first sweep factor (``level``), and the factor."""
    from runoffbench.experiment import parse_run_name

    parsed = table["model"].map(parse_run_name)
    factors = list(dict.fromkeys(f for _, labels in parsed for f in labels))
    factor = "train_years" if "train_years" in factors else (factors[0] if factors else None)
    levels = parsed.map(lambda p: p[1].get(factor, "")) if factor else ""
    return table.assign(base_model=parsed.map(lambda p: p[0]), level=levels), factor


def _order(levels) -> list[str]:
    from runoffbench.evaluation.seeds import level_order

    return level_order(levels)


def plot_ig_shares(table: pd.DataFrame, models: Models = None) -> Figure:
    """Li & Zhao Fig. 6: each input's mean absolute contribution share per basin (module docstring)."""
    missing = [c for c in ("part", "basin", "input", "season", "share", "model", "member") if c not in table.columns]
    if missing:
        raise DataError(f"integrated-gradients shares: the table lacks {missing} (an integrated_gradients analysis)")
    rows = table[(table["part"] == "share") & (table["season"] == "all")]
    if rows.empty:
        raise DataError("integrated-gradients shares: the table has no share rows")
    rows, factor = _factor(rows)
    per_basin = rows.groupby(["base_model", "level", "input", "basin"], sort=False).agg(
        share=("share", "mean"), seeds=("member", "nunique")).reset_index()
    inputs = list(dict.fromkeys(rows["input"]))
    shown = ordered_runs(rows["base_model"], models)
    levels = _order(per_basin["level"]) if factor else [""]
    colours = model_colours(shown)
    columns = min(3, len(inputs))
    n_rows = -(-len(inputs) // columns)
    use_style()
    fig, axes = plt.subplots(n_rows, columns, figsize=(DOUBLE_COLUMN, 2.0 * n_rows + 0.7), squeeze=False,
                             sharey=True)
    for ax in axes.flat[len(inputs):]:
        ax.set_axis_off()
    for ax, name in zip(axes.flat, inputs):
        panel = per_basin[per_basin["input"] == name]
        for index, model in enumerate(shown):
            values = [100 * panel.loc[(panel["base_model"] == model) & (panel["level"] == level), "share"]
                      .to_numpy(float) for level in levels]
            _draw_model(ax, values, index, len(shown), colours[model], notch=False)
        for boundary in np.arange(len(levels) - 1) + 0.5:
            ax.axvline(boundary, color="0.88", linewidth=0.5, zorder=0)
        ax.set_xticks(range(len(levels)), levels if factor else [""] * len(levels))
        ax.set_title(INPUT_LABELS.get(name, name), fontsize=8)
        ax.grid(axis="y", linewidth=0.4, color="0.9")
        ax.set_ylim(bottom=0)
    for ax in axes[:, 0]:
        ax.set_ylabel("Share of |IG| [%]")
    for ax in axes[-1]:
        if ax.axison:
            ax.set_xlabel(FACTOR_LABELS.get(factor, factor or "").replace("_", " ") if factor else "")
    basins = per_basin.groupby("base_model")["basin"].nunique()
    seeds = per_basin.groupby("base_model")["seeds"].max()
    handles = [Patch(facecolor=colours[m], alpha=0.7, edgecolor="0.25", label=f"{run_label(m, models)} ({basins[m]} "
                     f"basins, mean of {seeds[m]} seed{'s' * int(seeds[m] != 1)})") for m in shown]
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(3, len(handles)),
               fontsize=6.5, frameon=False,
               title="per basin: the mean over test days of the input's share of Σ|attributions| over the look-back",
               title_fontsize=6.5)
    return fig


def plot_ig_profile(table: pd.DataFrame, models: Models = None) -> Figure:
    """Li & Zhao Fig. 7: for the profiled basin, per model the cumulative contribution over the look-back and the
    seasonal shares; a swept model at its largest level (the most training data)."""
    missing = [c for c in ("part", "basin", "model", "input", "lag", "season", "share", "cumulative")
               if c not in table.columns]
    if missing:
        raise DataError(f"integrated-gradients profile: the table lacks {missing} (tables/<id>_profile.csv)")
    table, factor = _factor(table)
    level, notes = "", []
    if factor:  # one data amount for every model: the largest they all have, else each its largest
        per_model = [set(rows.loc[rows["level"] != "", "level"]) for _, rows in table.groupby("base_model")]
        common = set.intersection(*per_model) if per_model else set()
        if common:
            level = _order(common)[-1]
            table = table[(table["level"] == level) | (table["level"] == "")]
        else:
            chosen = []
            for _, rows in table.groupby("base_model", sort=False):
                largest = _order(rows.loc[rows["level"] != "", "level"])[-1] if (rows["level"] != "").any() else ""
                chosen.append(rows[rows["level"] == largest])
            table = pd.concat(chosen)
            notes.append("no data amount profiled for every model: each at its largest")
    basin = str(table["basin"].iloc[0])
    shown = ordered_runs(table["base_model"], models)
    inputs = list(dict.fromkeys(table["input"]))
    colours = input_colours(inputs)
    use_style()
    fig, axes = plt.subplots(len(shown), 2, figsize=(DOUBLE_COLUMN, 2.0 * len(shown) + 0.8), squeeze=False,
                             gridspec_kw={"width_ratios": [1.6, 1.0]})
    top = 100 * float(table.loc[table["part"] == "profile", "cumulative"].max() or 1.0)
    for row, model in enumerate(shown):
        rows = table[table["base_model"] == model]
        profile = rows[rows["part"] == "profile"]
        level_shown = rows["level"].iloc[0] if factor else ""
        seeds = int(profile["seeds"].max()) if "seeds" in profile.columns and len(profile) else 1
        title = (run_label(model, models) + (f", {level_words(factor, level_shown)}" if level_shown else "")
                 + f" ({seeds} seed{'s' * int(seeds != 1)})")
        ax = axes[row, 0]
        for name in inputs:
            line = profile[profile["input"] == name].sort_values("lag")
            ax.plot(line["lag"] + 1, 100 * line["cumulative"], color=colours[name], linewidth=1.0)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.set_xlim(1, max(2, float(profile["lag"].max() + 1)) if not profile.empty else 365)
        ax.set_ylim(0, top * 1.05)  # one scale for every model: their profiles compare
        ax.set_ylabel("Cumulative share [%]")
        ax.set_title(f"{title}: contribution over the look-back", fontsize=7.5, loc="left")
        ax.grid(linewidth=0.4, color="0.9", which="both")
        seasons = rows[rows["part"] == "season"]
        ax = axes[row, 1]
        order = ["DJF", "MAM", "JJA", "SON"]
        bottom = np.zeros(len(order))
        for name in inputs:
            values = seasons[seasons["input"] == name].set_index("season")["share"].reindex(order).to_numpy(float)
            values = np.nan_to_num(values) * 100
            ax.bar(range(len(order)), values, bottom=bottom, color=colours[name], width=0.7, edgecolor="white",
                   linewidth=0.4)
            bottom += values
        ax.set_xticks(range(len(order)), order)
        ax.set_ylim(0, 100)
        ax.set_ylabel("Share [%]")
        ax.set_title("by season of the predicted day", fontsize=7.5, loc="left")
    axes[-1, 0].set_xlabel("Days before the predicted day (1: the day itself)")
    axes[-1, 1].set_xlabel("Season")
    fig.suptitle(f"Basin {basin}: integrated gradients, the mean over the seeds"
                 + (f"; {notes[0]}" if notes else ""), fontsize=8)
    fig.tight_layout()
    handles = [Patch(facecolor=colours[n], label=INPUT_LABELS.get(n, n)) for n in inputs]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(handles)),
               fontsize=6.5, frameon=False, title="\n".join(textwrap.wrap(
                   "cumulative: the inputs' shares of Σ|attributions| summed from the predicted day back; each line "
                   "ends at the input's share", 110)), title_fontsize=6.5)
    return fig
