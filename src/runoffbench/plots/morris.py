"""Kratzert et al. (2019) Fig. 7: the static attribute each basin's network is most sensitive to.

Reads the joined table of a ``morris`` analysis (:mod:`runoffbench.analysis.morris`: a row per basin,
attribute and run, with ``sensitivity`` normalised per basin and the basin's ``lat``/``lon``). The
members (seeds) of a model are averaged per basin and attribute, and the basin is drawn in the colour
of the attribute with the largest mean sensitivity, one CONUS map per model (and forcing, where there
are several), titled by the model's display label (``models``, :mod:`runoffbench.plots.labels`). The
legend counts the basins of each attribute.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from runoffbench.errors import DataError
from runoffbench.plots.conus import draw_conus
from runoffbench.plots.labels import Models, run_labels
from runoffbench.plots.style import DOUBLE_COLUMN, FALLBACK_COLOURS, use_style

REQUIRED = ("basin", "attribute", "sensitivity", "lat", "lon")
#: colours of the attributes, in order of how many basins they lead (Okabe-Ito, then Paul Tol's muted)
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
            *FALLBACK_COLOURS)
_MAP_HEIGHT = 0.56  # of a CONUS map over its width


def most_sensitive(table: pd.DataFrame) -> pd.DataFrame:
    """Per model, forcing and basin: the attribute of the largest mean sensitivity over the members, with
    the basin's coordinates and the members averaged (``attribute``, ``sensitivity``, ``lat``, ``lon``,
    ``members``)."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise DataError(f"morris map: the table lacks {missing} (runoffbench analyse morris, with the basins' "
                        "lat and lon in the forcing cache)")
    keys = [c for c in ("model", "forcing") if c in table.columns]
    means = (table.dropna(subset=["sensitivity"])
             .groupby([*keys, "basin", "attribute"], sort=False)
             .agg(sensitivity=("sensitivity", "mean"), lat=("lat", "first"), lon=("lon", "first"),
                  members=("member", "nunique") if "member" in table.columns else ("sensitivity", "size"))
             .reset_index())
    if means.empty:
        raise DataError("morris map: no finite sensitivity in the table")
    best = means.loc[means.groupby([*keys, "basin"], sort=False)["sensitivity"].idxmax()]
    return best.reset_index(drop=True)


def plot_morris_map(table: pd.DataFrame, model: str | None = None, models: Models = None) -> Figure:
    """A CONUS map per model (and forcing) of each basin's most sensitive attribute (module docstring);
    ``model`` draws that model only, ``models`` labels and orders them."""
    best = most_sensitive(table)
    if model is not None:
        if "model" not in best.columns or model not in set(best["model"]):
            raise DataError(f"morris map: no model {model!r} in the table")
        best = best[best["model"] == model]
    if "model" in best.columns:
        labels = run_labels(best["model"], models)
        position = {run: index for index, run in enumerate(labels)}
        best = (best.assign(position=best["model"].map(position)).sort_values("position", kind="stable")
                .assign(model=lambda rows: rows["model"].map(labels)))
    keys = [c for c in ("model", "forcing") if c in best.columns and (c == "model" or best[c].nunique() > 1)]
    groups = list(best.groupby(keys, sort=False)) if keys else [((), best)]
    order = best["attribute"].value_counts().index.tolist()
    colours = {name: _COLOURS[i % len(_COLOURS)] for i, name in enumerate(order)}
    columns = 1 if len(groups) == 1 else 2
    rows = -(-len(groups) // columns)
    width = DOUBLE_COLUMN if columns > 1 else DOUBLE_COLUMN * 0.75
    use_style()
    fig, axes = plt.subplots(rows, columns, figsize=(width, rows * (_MAP_HEIGHT * width / columns + 0.2)),
                             squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    marker = 14.0 if best["basin"].nunique() <= 200 else 7.0
    for ax, (key, rows_of) in zip(axes.flat, groups, strict=False):
        ax.set_axis_on()
        draw_conus(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.scatter(rows_of["lon"], rows_of["lat"], c=[colours[a] for a in rows_of["attribute"]], s=marker,
                   edgecolors="black", linewidths=0.25, zorder=3)
        label = ", ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        seeds = f", mean of {rows_of['members'].max()} seeds" if rows_of["members"].max() > 1 else ""
        ax.set_title(f"{label + ', ' if label else ''}n={rows_of['basin'].nunique()}{seeds}", fontsize=7.5, pad=2)
    counts = best["attribute"].value_counts()
    handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor=colours[a], markeredgecolor="black",
                      markeredgewidth=0.3, label=f"{a} ({counts[a]})") for a in order]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(handles)),
               fontsize=6, frameon=False, title="Most sensitive static attribute (basins)", title_fontsize=6.5)
    return fig
