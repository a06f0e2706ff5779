"""Hydrographs of selected basins: observed flow, each model's ensemble mean and the member range.

In the style of Li and Zhao's Fig. 3: one panel per basin over one water year, the observation in
black, per model the ensemble mean (or its only member) as a line and the range over its members
(seeds) as a shaded band.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from runoffbench.errors import DataError
from runoffbench.predictions import ENSEMBLE_MEMBER
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, legend_below, palette, use_style

_REQUIRED = ("model", "forcing", "member", "basin", "date", "qobs", "qsim")


def plot_hydrographs(table: pd.DataFrame, forcing: str | None = None) -> Figure:
    """One panel per basin of the hydrograph table, for one forcing (default: the first)."""
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise DataError(f"hydrographs: the table lacks column(s) {missing}")
    table = table.assign(date=pd.to_datetime(table["date"]), member=table["member"].astype(str))
    forcing = forcing or list(dict.fromkeys(table["forcing"]))[0]
    rows = table[table["forcing"] == forcing]
    if rows.empty:
        raise DataError(f"hydrographs: no runs with forcing {forcing!r}; forcings: {sorted(table['forcing'].unique())}")
    basins = sorted(rows["basin"].unique())
    models = list(dict.fromkeys(rows["model"]))
    colours = palette(sorted(models), MODEL_COLOURS)
    use_style()
    fig, axes = plt.subplots(len(basins), 1, figsize=(DOUBLE_COLUMN, 1.6 * len(basins) + 0.3), squeeze=False)
    for ax, basin in zip(axes[:, 0], basins):
        at_basin = rows[rows["basin"] == basin]
        observed = at_basin.drop_duplicates("date").set_index("date")["qobs"]
        ax.plot(observed.index, observed.values, color="black", linewidth=0.9, label="observed", zorder=4)
        for model in models:
            _draw_model(ax, at_basin[at_basin["model"] == model], model, colours[model])
        ax.set_ylabel("Streamflow [mm/day]")
        ax.set_title(f"Basin {basin} ({forcing})", fontsize=8, loc="left")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.grid(linewidth=0.4, color="0.9")
        ax.set_ylim(bottom=0)
    axes[-1, 0].set_xlabel("Date")
    fig.tight_layout()
    # under the panels: beside them, a legend of many models would set the height of the first one
    legend_below(fig, axes[0, 0], columns=4)
    return fig


def _draw_model(ax, rows: pd.DataFrame, model: str, colour: str) -> None:
    wide = rows.pivot_table(index="date", columns="member", values="qsim")
    members = [m for m in wide.columns if m != ENSEMBLE_MEMBER]
    central = wide[ENSEMBLE_MEMBER] if ENSEMBLE_MEMBER in wide.columns else wide[members[0]]
    label = f"{model} (mean of {len(members)})" if len(members) > 1 else model
    if len(members) > 1:
        ax.fill_between(wide.index, wide[members].min(axis=1), wide[members].max(axis=1), color=colour,
                        alpha=0.25, linewidth=0, label=f"{model} member range")
    ax.plot(central.index, central.values, color=colour, linewidth=0.9, label=label, zorder=3)
