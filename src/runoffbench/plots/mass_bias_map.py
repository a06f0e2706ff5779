r"""Frame et al. (2023) Fig. 2: maps of the signed mass bias per model and forcing.

The signed relative total bias :math:`B = (\sum Q_s - \sum Q_o) / \sum Q_o` of each basin equals
``Mass-Bias-Positive + Mass-Bias-Negative`` (one of the two is zero), drawn on a diverging scale:
red where the model makes too much water, blue too little. Basins without a complete record (no
mass bias) are drawn as small grey circles.
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


def signed_mass_bias(table: pd.DataFrame) -> pd.Series:
    """B per row: positive plus negative mass bias (NaN where the record has gaps)."""
    missing = [c for c in ("Mass-Bias-Positive", "Mass-Bias-Negative", "lat", "lon") if c not in table.columns]
    if missing:
        raise DataError(f"mass-bias map: the metrics table lacks {missing}")
    return table["Mass-Bias-Positive"] + table["Mass-Bias-Negative"]


def plot_mass_bias_map(table: pd.DataFrame, split: str | None = None) -> Figure:
    """A CONUS map per model (rows) and forcing (columns), one shared colour bar."""
    chosen = primary_runs(table, split)
    chosen = chosen.assign(bias=signed_mass_bias(chosen))
    models = list(dict.fromkeys(chosen["model"]))
    forcings = list(dict.fromkeys(chosen["forcing"]))
    limit = float(np.nanpercentile(np.abs(chosen["bias"]), 95)) if chosen["bias"].notna().any() else 1.0
    limit = max(min(limit, 1.0), 0.05)
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    use_style()
    width = min(DOUBLE_COLUMN, 3.6 * len(forcings))
    fig, axes = plt.subplots(len(models), len(forcings), figsize=(width, 1.75 * len(models) + 0.6),
                             squeeze=False, constrained_layout=True)
    for row, model in zip(axes, models):
        for ax, forcing in zip(row, forcings):
            rows = chosen[(chosen["model"] == model) & (chosen["forcing"] == forcing)]
            if rows.empty:  # e.g. an external model run with one forcing only
                ax.set_axis_off()
                continue
            draw_conus(ax)
            ax.tick_params(labelsize=5.5)
            gaps = rows[rows["bias"].isna()]
            ax.scatter(gaps["lon"], gaps["lat"], s=5, facecolors="none", edgecolors="0.5", linewidths=0.4, zorder=2)
            valid = rows[rows["bias"].notna()]
            points = ax.scatter(valid["lon"], valid["lat"], c=valid["bias"], cmap=_CMAP, norm=norm, s=14,
                                edgecolors="black", linewidths=0.3, zorder=3)
            ax.set_title(f"{model} ({forcing})", fontsize=7.5)
    colourbar = fig.colorbar(points, ax=axes, orientation="horizontal", shrink=0.6, aspect=35, extend="both")
    colourbar.set_label(r"Mass bias $B = (\Sigma Q_{sim} - \Sigma Q_{obs}) / \Sigma Q_{obs}$ [-]")
    axes[0, 0].legend(handles=[Line2D([], [], linestyle="", marker="o", markerfacecolor="none",
                                      markeredgecolor="0.5", markersize=3, label="no complete record")],
                      loc="lower left", fontsize=5.5, frameon=True, framealpha=0.9, edgecolor="0.8")
    return fig
