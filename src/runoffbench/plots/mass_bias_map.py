r"""Frame et al. (2023) Fig. 2: maps of the signed mass bias per model and forcing.

The signed relative total bias :math:`B = (\sum Q_s - \sum Q_o) / \sum Q_o` of each basin equals
``Mass-Bias-Positive + Mass-Bias-Negative`` (one of the two is zero), drawn on a diverging scale:
red where the model makes too much water, blue too little. Basins without a complete record (no
mass bias) are drawn as small grey circles. The maps form a page-wide grid (:func:`map_grid`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from runoffbench.errors import DataError
from runoffbench.evaluation.collect import primary_runs
from runoffbench.plots.conus import draw_conus
from runoffbench.plots.style import DOUBLE_COLUMN, use_style

_CMAP = "RdBu_r"
#: height of a CONUS map over its width (the extent at an aspect of 1/cos(mid latitude))
_MAP_HEIGHT = 0.56


def signed_mass_bias(table: pd.DataFrame) -> pd.Series:
    """B per row: positive plus negative mass bias (NaN where the record has gaps)."""
    missing = [c for c in ("Mass-Bias-Positive", "Mass-Bias-Negative", "lat", "lon") if c not in table.columns]
    if missing:
        raise DataError(f"mass-bias map: the metrics table lacks {missing}")
    return table["Mass-Bias-Positive"] + table["Mass-Bias-Negative"]


def map_grid(models: int, forcings: int) -> tuple[int, int]:
    """(models per row, columns) of the map grid: a row per model and a column per forcing with three or
    more forcings; otherwise several models side by side (3 columns with one forcing, 4 with two, each
    model's forcings next to each other), so that a page-wide grid replaces a column of maps."""
    per_row = 1 if forcings >= 3 else (3 if forcings == 1 else 2)
    per_row = max(1, min(per_row, models))
    return per_row, per_row * forcings


def plot_mass_bias_map(table: pd.DataFrame, split: str | None = None) -> Figure:
    """A CONUS map per model and forcing in a page-wide grid (:func:`map_grid`), one shared colour bar.

    Panels run model by model, the forcings of a model side by side; each is titled "model (forcing)".
    The colour scale is symmetric about 0 and ends at the 95th percentile of |B| (at most 1, at least
    0.05), with arrows for values beyond. Basins without a mass bias (gaps in the record) are grey
    circles, and the legend names them only when there are some.
    """
    chosen = primary_runs(table, split)
    chosen = chosen.assign(bias=signed_mass_bias(chosen))
    models = list(dict.fromkeys(chosen["model"]))
    forcings = list(dict.fromkeys(chosen["forcing"]))
    limit = float(np.nanpercentile(np.abs(chosen["bias"]), 95)) if chosen["bias"].notna().any() else 1.0
    limit = max(min(limit, 1.0), 0.05)
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    per_row, columns = map_grid(len(models), len(forcings))
    rows = -(-len(models) // per_row)
    panel = DOUBLE_COLUMN / columns
    use_style()
    fig, axes = plt.subplots(rows, columns, figsize=(DOUBLE_COLUMN, rows * (_MAP_HEIGHT * panel + 0.16) + 0.7),
                             squeeze=False, layout="constrained")
    marker = float(np.clip(14.0 * (panel / 2.4) ** 2, 5.0, 16.0)) * (0.6 if chosen["basin"].nunique() > 200 else 1.0)
    points, gap_basins = None, set()
    for ax in axes.flat:
        ax.set_axis_off()
    for index, model in enumerate(models):
        for offset, forcing in enumerate(forcings):
            ax = axes[index // per_row, (index % per_row) * len(forcings) + offset]
            runs = chosen[(chosen["model"] == model) & (chosen["forcing"] == forcing)]
            if runs.empty:  # e.g. an external model run with one forcing only
                continue
            ax.set_axis_on()
            draw_conus(ax)
            ax.set_xticks([])
            ax.set_yticks([])
            gaps = runs[runs["bias"].isna()]
            gap_basins |= set(gaps["basin"])
            ax.scatter(gaps["lon"], gaps["lat"], s=marker * 0.45, facecolors="none", edgecolors="0.45",
                       linewidths=0.5, zorder=2)
            valid = runs[runs["bias"].notna()]
            points = ax.scatter(valid["lon"], valid["lat"], c=valid["bias"], cmap=_CMAP, norm=norm, s=marker,
                                edgecolors="black", linewidths=0.25, zorder=3)
            ax.set_title(f"{model} ({forcing}), n={runs['basin'].nunique()}", fontsize=7.5, pad=2)
    if points is None:
        raise DataError("mass-bias map: no run has basins to draw")
    colourbar = fig.colorbar(points, ax=axes, orientation="horizontal", shrink=0.55, aspect=40, extend="both",
                             pad=0.02)
    colourbar.set_label(r"Mass bias $B = (\Sigma Q_{sim} - \Sigma Q_{obs}) / \Sigma Q_{obs}$ [-]"
                        "   (red: too much water, blue: too little)")
    if gap_basins:
        count = len(gap_basins)
        fig.legend(handles=[Line2D([], [], linestyle="", marker="o", markerfacecolor="none", markeredgecolor="0.45",
                                   markersize=4, label=f"no complete record ({count} basin{'s' * (count != 1)})")],
                   loc="outside lower right", fontsize=6.5, frameon=False)
    return fig
