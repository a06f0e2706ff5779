"""Kratzert et al. (2019) Fig. 6: the NSE of a network when its catchment attributes are noisy.

One box per noise level σ (and model — and forcing, with more than one — side by side; the seeds of
a model pooled): median line, mean as a diamond, quartiles as
the box and the 5 and 95 % percentiles as whiskers, over every basin and draw of that σ (the table of
:mod:`runoffbench.analysis.static_noise`, one row per basin, σ and draw). σ = 0 is the network with
its true attributes. The NSE axis is cut at the lowest 5 % whisker (values below are counted), as a
single collapsed draw would otherwise squeeze every box. Each model's median over the basins'
σ = 0 NSE is drawn as a dotted reference line. ``models`` labels and orders the runs
(:mod:`runoffbench.plots.labels`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from runoffbench.errors import DataError
from runoffbench.plots.labels import Models, run_labels
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, note_off_axis, palette, use_style

REQUIRED = ("model", "basin", "sigma", "draw", "NSE")


def plot_static_noise(table: pd.DataFrame, models: Models = None) -> Figure:
    """Boxes of NSE per σ and model (module docstring); ``models``: the runs' display labels and order."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise DataError(f"static-attribute noise figure: the table lacks {missing} (runoffbench analyse static_noise)")
    data = table.dropna(subset=["NSE"])
    if data.empty:
        raise DataError("static-attribute noise figure: no finite NSE in the table")
    labels = run_labels(data["model"], models)
    by_run = palette(sorted(labels), MODEL_COLOURS)  # a run of a known model in that model's colour
    position = {run: index for index, run in enumerate(labels)}
    data = data.assign(position=data["model"].map(position), model=data["model"].map(labels))
    data = data.sort_values("position", kind="stable")
    if "forcing" in data.columns and data["forcing"].nunique() > 1:  # a box per model and forcing
        data = data.assign(model=data["model"] + " (" + data["forcing"] + ")")
    members = data.groupby("model")["member"].nunique().max() if "member" in data.columns else 1
    shown = list(dict.fromkeys(data["model"]))
    sigmas = sorted(data["sigma"].unique())
    colours = palette(shown, {labels[run]: colour for run, colour in by_run.items()})
    use_style()
    fig, ax = plt.subplots(figsize=(DOUBLE_COLUMN, 3.2))
    width = 0.8 / len(shown)
    lows = []
    for index, model in enumerate(shown):
        rows = data[data["model"] == model]
        groups = [rows.loc[rows["sigma"] == sigma, "NSE"].to_numpy() for sigma in sigmas]
        positions = np.arange(len(sigmas)) - 0.4 + width * (index + 0.5)
        boxes = ax.boxplot(groups, positions=positions, widths=width * 0.8, whis=(5, 95), showfliers=False,
                           showmeans=True, patch_artist=True,
                           meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black",
                                      "markersize": 3.5},
                           medianprops={"color": "black", "linewidth": 0.9})
        for box in boxes["boxes"]:
            box.set_facecolor(colours[model])
            box.set_alpha(0.85)
        lows += [np.percentile(g, 5) for g in groups if g.size]
        clean = rows.loc[rows["sigma"] == 0, "NSE"]
        if len(clean):
            ax.axhline(float(clean.median()), color=colours[model], linestyle=":", linewidth=0.9)
    bottom = min(lows) - 0.05
    ax.set_ylim(bottom, 1.0)
    note_off_axis(ax, int((data["NSE"] < bottom).sum()), "draw", upper_left=True)
    ax.set_xticks(np.arange(len(sigmas)), [f"{s:g}" for s in sigmas])
    ax.set_xlabel("Standard deviation σ of the noise on the standardised attributes [-]")
    ax.set_ylabel("NSE [-]")
    draws = int(data.loc[data["sigma"] != 0, "draw"].nunique()) if (data["sigma"] != 0).any() else 0
    n_basins = data["basin"].nunique()
    pooled = f", {members} seeds pooled" if members > 1 else ""
    ax.set_title(f"{n_basins} basins, {draws} draws per basin and σ{pooled}", loc="left", fontsize="small")
    handles = [Patch(facecolor=colours[m], label=m) for m in shown]
    handles += [Line2D([], [], marker="D", linestyle="", markerfacecolor="white", markeredgecolor="black",
                       label="mean"),
                Line2D([], [], color="grey", linestyle=":", label="median NSE without noise")]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 4),
               fontsize=6, frameon=False, title="box: quartiles and median; whiskers: 5 and 95 %", title_fontsize=6)
    return fig
