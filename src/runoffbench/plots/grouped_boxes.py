r"""Boxes of a per-basin value grouped along x (water-resources region or a sweep factor) and by model
(colour), a panel per forcing: Frame et al. (2023) Figs. 3-4, Li & Zhao Figs. 2 and 4.

Whiskers at 1.5 IQR, outliers as points; notched boxes (``notch``) show the 95 % confidence interval of
the median, :math:`m \pm 1.57\,\mathrm{IQR}/\sqrt{n}` (McGill et al. 1978, matplotlib's default), so two
boxes whose notches do not overlap have different medians; boxes of fewer than :data:`NOTCH_MIN_BASINS`
values are not notched (their interval would reach far beyond the quartiles). Grouped by region, regions with fewer than
``min_basins`` basins are left out and named under the axis. The value axis spans the whiskers (and
0), at most 3 IQR beyond the quartiles of the panel: one arid basin's mass bias in the thousands would
flatten every box; each panel says how many values lie off the axis. A model with fewer than
:data:`BOX_MIN_BASINS` values in a group (a box without height, its colour lost) shows each as a diamond
in the model's colour instead.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from runoffbench.errors import DataError
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, note_off_axis, palette, use_style
from runoffbench.regions import drop_small_regions, normalise_code, region_label

#: a model's values in a group form a box from this many basins on; fewer are drawn one marker each
BOX_MIN_BASINS = 3
#: a box is notched from this many values on: the interval of fewer reaches far beyond the quartiles
NOTCH_MIN_BASINS = 10
REGION = "huc_02"
#: axis labels of the sweep factors the papers vary
FACTOR_LABELS = {"train_years": "Training data [years]", "hidden_size": "Hidden cells [-]", "loss": "Loss",
                 "static_attributes": "Static attributes"}


def plot_grouped_boxes(rows: pd.DataFrame, *, value: str, ylabel: str, by: str = REGION, hue: str = "model",
                       notch: bool = False, min_basins: int = 1, exclude_regions: Sequence[str] = ()) -> Figure:
    """Boxes of ``rows[value]`` per ``by`` group (x) and ``hue`` (colour), a panel per forcing."""
    if by not in rows.columns:
        raise DataError(f"boxes by {by!r}: no such column in the metrics table (a sweep factor or huc_02)")
    valid, notes = _groups(rows.dropna(subset=[value, by]), by, min_basins, exclude_regions)
    if valid.empty:
        raise DataError(f"boxes of {value} by {by}: no group has {min_basins} or more basins with a value")
    models = list(dict.fromkeys(rows[hue]))
    forcings = list(dict.fromkeys(rows["forcing"]))
    groups = _group_order(valid[by].unique())
    colours = palette(models, MODEL_COLOURS)
    use_style()
    fig, axes = plt.subplots(len(forcings), 1, figsize=(DOUBLE_COLUMN, 2.5 * len(forcings) + 0.8),
                             squeeze=False, sharex=True)
    for ax, forcing in zip(axes[:, 0], forcings):
        panel = valid[valid["forcing"] == forcing]
        whisker_ends = [0.0]
        for index, model in enumerate(models):
            values = [panel.loc[(panel[hue] == model) & (panel[by] == g), value].to_numpy(float) for g in groups]
            whisker_ends += _draw_model(ax, values, index, len(models), colours[model], notch)
        ax.axhline(0, color="0.3", linestyle="--", linewidth=0.7, zorder=0)
        for boundary in np.arange(len(groups) - 1) + 0.5:  # which boxes belong to which group
            ax.axvline(boundary, color="0.85", linewidth=0.5, zorder=0)
        _fit_to_whiskers(ax, whisker_ends, panel[value].to_numpy(float))
        ax.set_ylabel(ylabel)
        ax.set_title(forcing, fontsize=8, pad=10)
        ax.grid(axis="y", linewidth=0.4, color="0.88")
        counts = panel.groupby(by)["basin"].nunique()
        for position, group in enumerate(groups):
            ax.text(position, 1.0, f"n={counts.get(group, 0)}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=6, color="0.3")
    if notch:
        notes.append(f"notches: 95 % confidence interval of the median (boxes of {NOTCH_MIN_BASINS} or more basins)")
    _label_groups(axes[-1, 0], groups, by, notes)
    _legend(axes[0, 0], valid, models, colours, hue, by)
    fig.tight_layout()
    return fig


def _groups(rows: pd.DataFrame, by: str, min_basins: int, exclude_regions: Sequence[str]):
    """Rows of the groups shown and the notes naming those left out (regions only)."""
    if by != REGION:
        return rows.assign(**{by: rows[by].astype(str)}), []
    rows = rows.assign(huc_02=rows[REGION].map(normalise_code))
    excluded = {normalise_code(code) for code in exclude_regions}
    kept, dropped = drop_small_regions(rows[~rows[REGION].isin(excluded)], min_basins)
    notes = []
    if excluded:
        notes.append("left out: " + ", ".join(region_label(c) for c in sorted(excluded)))
    if dropped:
        notes.append(f"not shown (fewer than {min_basins} basins): " + ", ".join(region_label(c) for c in dropped))
    return kept, notes


def _group_order(groups) -> list[str]:
    """Numeric levels (training years) in numeric order, others sorted as text."""
    groups = [str(g) for g in groups]
    try:
        return sorted(groups, key=float)
    except ValueError:
        return sorted(groups)


def _draw_model(ax, values: list[np.ndarray], index: int, n_models: int, colour: str, notch: bool) -> list[float]:
    """One model's boxes (or diamonds where a group has too few values); the whisker ends drawn."""
    width = 0.8 / n_models
    positions = np.arange(len(values)) - 0.4 + width * (index + 0.5)
    ends: list[float] = []
    for notched in (False, True):
        boxed = [i for i, group in enumerate(values) if group.size >= BOX_MIN_BASINS
                 and (notch and group.size >= NOTCH_MIN_BASINS) == notched]
        if not boxed:
            continue
        boxes = ax.boxplot([values[i] for i in boxed], positions=positions[boxed], widths=width * 0.85,
                           notch=notched, patch_artist=True, medianprops={"color": "black", "linewidth": 0.9},
                           whiskerprops={"linewidth": 0.7}, capprops={"linewidth": 0.7},
                           flierprops={"markersize": 2.5, "markeredgewidth": 0.4})
        for box in boxes["boxes"]:
            box.set(facecolor=colour, alpha=0.7, edgecolor="0.25", linewidth=0.7)
        ends += [y for whisker in boxes["whiskers"] for y in whisker.get_ydata()]
    for i, group in enumerate(values):
        if 0 < group.size < BOX_MIN_BASINS:  # a box of one or two values has no height: the values
            ax.scatter(np.full(group.size, positions[i]), group, s=16, marker="D", color=colour,
                       edgecolors="black", linewidths=0.5, zorder=4)
            ends += list(group)
    return ends


def _label_groups(ax, groups: list[str], by: str, notes: list[str]) -> None:
    if by == REGION:
        ax.set_xticks(range(len(groups)), [region_label(code) for code in groups], rotation=35, ha="right",
                      rotation_mode="anchor")
        xlabel = "Water-resources region (HUC-02)"
    else:
        ax.set_xticks(range(len(groups)), groups)
        xlabel = FACTOR_LABELS.get(by, by.replace("_", " "))
    for note in notes:
        xlabel += "\n" + "\n".join(textwrap.wrap(note, 110))
    ax.set_xlabel(xlabel)


def _legend(ax, valid: pd.DataFrame, models: list[str], colours: dict, hue: str, by: str) -> None:
    handles = [Patch(facecolor=colours[m], alpha=0.7, edgecolor="0.25", label=m) for m in models]
    few = valid.groupby([hue, "forcing", by])["basin"].nunique()
    if (few < BOX_MIN_BASINS).any():
        handles.append(Line2D([], [], linestyle="", marker="D", markersize=4, markerfacecolor="0.6",
                              markeredgecolor="black", markeredgewidth=0.5,
                              label="group of one or two basins:\neach basin, model colour"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="Model")


def _fit_to_whiskers(ax, whisker_ends: list[float], values: np.ndarray) -> None:
    """The y range of the whiskers and 0, at most 3 IQR of all ``values`` of the panel beyond their
    quartiles (a group of one or two basins has its values as whisker ends), padded by 8 %; a note
    counts the values outside it."""
    ends = np.asarray(whisker_ends, dtype=float)
    ends = ends[np.isfinite(ends)]
    q1, q3 = np.nanpercentile(values, [25, 75]) if np.isfinite(values).any() else (0.0, 0.0)
    low = min(max(ends.min(), q1 - 3 * (q3 - q1)), 0.0)
    high = max(min(ends.max(), q3 + 3 * (q3 - q1)), 0.0)
    pad = 0.08 * (high - low) or 0.05
    low, high = low - pad, high + pad
    ax.set_ylim(low, high)
    note_off_axis(ax, int(np.sum((values < low) | (values > high))), "outlying value", upper_left=True)
