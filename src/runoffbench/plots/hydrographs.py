"""Hydrographs of selected basins: observed flow, a few models' central simulation and their member range.

In the style of Li and Zhao's Fig. 3: one panel per basin over one water year (1 October - 30
September, named by the year it ends in), per model the ensemble mean (or the mean of its members, or
its only member) as a line and the range over its members (seeds) as a shaded band (min-max), and the
observation drawn last, in black, on top of everything. So that the observation stays visible, a panel
shows at most ``max_models`` models (default 3): those named by ``models``, else the ones with the highest
median NSE over the shown basins and days. The water year shown is ``water_year`` (and the ``years - 1``
after it), else the representative one: of the complete water years of the table, the one whose mean
observed flow over the basins is the median. ``log`` draws the flow on a logarithmic axis (recessions
and low flows).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from runoffbench.errors import ConfigError, DataError
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, palette, use_style
from runoffbench.predictions import ENSEMBLE_MEMBER

_REQUIRED = ("model", "forcing", "member", "basin", "date", "qobs", "qsim")
#: models drawn per panel unless ``models`` names them
MAX_MODELS = 3


def plot_hydrographs(table: pd.DataFrame, forcing: str | None = None, models: Sequence[str] | None = None,
                     max_models: int = MAX_MODELS, water_year: int | None = None, years: int = 1,
                     log: bool = False) -> Figure:
    """One panel per basin of the hydrograph table, for one forcing (default: the first).

    ``models``: the models drawn (ConfigError for one without runs), default the ``max_models`` with
    the highest median NSE; ``water_year``/``years``: the water years shown (ConfigError for one not in
    the table), default the representative one; ``log``: a logarithmic flow axis.
    """
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise DataError(f"hydrographs: the table lacks column(s) {missing}")
    table = table.assign(date=pd.to_datetime(table["date"]), member=table["member"].astype(str),
                         basin=table["basin"].astype(str))
    forcing = forcing or list(dict.fromkeys(table["forcing"]))[0]
    rows = table[table["forcing"] == forcing]
    if rows.empty:
        raise DataError(f"hydrographs: no runs with forcing {forcing!r}; forcings: {sorted(table['forcing'].unique())}")
    if years < 1:
        raise ConfigError(f"hydrographs: years must be at least 1, not {years}")
    first, last = _shown_water_years(rows, water_year, years)
    rows = rows[(rows["date"] >= f"{first - 1}-10-01") & (rows["date"] <= f"{last}-09-30")]
    basins = sorted(rows["basin"].unique())
    central = {(model, basin): _central_and_range(group)
               for (model, basin), group in rows.groupby(["model", "basin"], sort=False)}
    available = list(dict.fromkeys(rows["model"]))
    scores = _median_nse(rows, central, available)
    shown, automatic = _shown_models(models, available, scores, max_models)
    colours = palette(sorted(available), MODEL_COLOURS)
    period = f"water year {first}" if first == last else f"water years {first}-{last}"
    use_style()
    fig, axes = plt.subplots(len(basins), 1, figsize=(DOUBLE_COLUMN, 1.75 * len(basins) + 0.4), squeeze=False,
                             sharex=True)
    handles = {}
    for ax, basin in zip(axes[:, 0], basins):
        at_basin = rows[rows["basin"] == basin]
        observed = at_basin.drop_duplicates("date").set_index("date")["qobs"].sort_index()
        nse = []
        for order, model in enumerate(shown):
            if (model, basin) not in central:
                continue
            line, band, label, band_label = central[(model, basin)]
            if band is not None:
                handles.setdefault(band_label, ax.fill_between(
                    band.index, band["low"], band["high"], color=colours[model], alpha=0.22, linewidth=0,
                    label=band_label, zorder=2 + order * 0.01))
            (drawn,) = ax.plot(line.index, line.values, color=colours[model], linewidth=0.9, label=label,
                               gid=model, zorder=3 + order * 0.01)
            handles.setdefault(label, drawn)
            nse.append(f"{model} {_nse(observed, line):.2f}")
        (obs_line,) = ax.plot(observed.index, observed.values, color="black", linewidth=1.0, label="observed",
                              gid="observed", zorder=5)  # drawn last and on top: the truth stays visible
        handles.setdefault("observed", obs_line)
        _flow_axis(ax, observed, [central[(m, basin)] for m in shown if (m, basin) in central], log)
        ax.set_title(f"Basin {basin} ({forcing}), {period}", fontsize=8, loc="left")
        ax.set_title(f"NSE: {', '.join(nse)}", fontsize=6.5, loc="right", color="0.25")
        ax.grid(linewidth=0.4, color="0.9")
    bottom = axes[-1, 0]
    locator = mdates.AutoDateLocator(minticks=6, maxticks=13)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    bottom.set_xlim(pd.Timestamp(f"{first - 1}-10-01"), pd.Timestamp(f"{last}-09-30"))
    bottom.set_xlabel("Date")
    fig.tight_layout()
    # a legend column per model, its line above its band; the observation first
    columns = [("observed", None)] + [(line, band) for line, band in _legend_pairs(handles, shown, central)]
    entries = [entry for pair in columns for entry in pair]
    blank = Line2D([], [], alpha=0.0)
    title = None
    if automatic and len(shown) < len(available):
        title = (f"{len(shown)} of {len(available)} models: the highest median NSE over these basins and days; "
                 "shading: min-max over members")
    elif any(label.endswith("members") and ": range" in label for label in handles):
        title = "shading: min-max over members"
    fig.legend([handles[e] if e else blank for e in entries], [e or " " for e in entries], loc="upper center",
               bbox_to_anchor=(0.5, 0.0), ncol=len(columns), fontsize=6.5, title=title, title_fontsize=6.5,
               frameon=False)
    return fig


def _legend_pairs(handles: dict, shown: list[str], central: dict) -> list[tuple[str, str | None]]:
    """(line label, band label or None) of each drawn model, in the order drawn."""
    pairs = []
    for model in shown:
        labels = next((c for (m, _), c in central.items() if m == model), None)
        if labels is None or labels[2] not in handles:
            continue
        pairs.append((labels[2], labels[3] if labels[3] in handles else None))
    return pairs


def _shown_water_years(rows: pd.DataFrame, water_year: int | None, years: int) -> tuple[int, int]:
    """First and last water year shown (see the module docstring)."""
    dates = pd.DatetimeIndex(rows["date"].unique())
    water_years = pd.Series(dates.year + (dates.month >= 10), index=dates)
    present = sorted(water_years.unique())
    if water_year is not None:
        if water_year not in present:
            raise ConfigError(f"hydrographs: water year {water_year} is not in the hydrograph table "
                              f"(water years {present[0]}-{present[-1]})")
        return water_year, min(water_year + years - 1, present[-1])
    days = water_years.value_counts()
    complete = [year for year in present if days[year] >= 365] or present
    observed = rows.drop_duplicates(["basin", "date"])
    mean_flow = observed.groupby(observed["date"].dt.year + (observed["date"].dt.month >= 10))["qobs"].mean()
    ranked = sorted(complete, key=lambda year: mean_flow.get(year, np.nan))
    first = ranked[(len(ranked) - 1) // 2]
    last = min(first + years - 1, complete[-1])
    return max(complete[0], last - years + 1), last


def _central_and_range(rows: pd.DataFrame):
    """(central series, member band or None, line label, band label) of one model at one basin."""
    wide = rows.pivot_table(index="date", columns="member", values="qsim")
    members = [m for m in wide.columns if m != ENSEMBLE_MEMBER]
    model = rows["model"].iloc[0]
    if ENSEMBLE_MEMBER in wide.columns:
        line, label = wide[ENSEMBLE_MEMBER], f"{model} (ensemble mean)"
    elif len(members) > 1:
        line, label = wide[members].mean(axis=1), f"{model} (mean of {len(members)} members)"
    else:
        line, label = wide[members[0]], model
    band = None
    if len(members) > 1:
        band = pd.DataFrame({"low": wide[members].min(axis=1), "high": wide[members].max(axis=1)})
    return line, band, label, f"{model}: range of {len(members)} members"


def _nse(observed: pd.Series, simulated: pd.Series) -> float:
    both = pd.concat([observed.rename("o"), simulated.rename("s")], axis=1).dropna()
    spread = float(((both["o"] - both["o"].mean()) ** 2).sum())
    return float(1 - ((both["s"] - both["o"]) ** 2).sum() / spread) if spread > 0 else np.nan


def _median_nse(rows: pd.DataFrame, central: dict, models: list[str]) -> dict[str, float]:
    """Median over basins of each model's NSE (central series) over the shown days."""
    observed = {basin: group.drop_duplicates("date").set_index("date")["qobs"]
                for basin, group in rows.groupby("basin")}
    return {model: float(np.nanmedian([_nse(observed[b], central[(m, b)][0]) for (m, b) in central if m == model]
                                      or [np.nan]))
            for model in models}


def _shown_models(models, available: list[str], scores: dict[str, float], max_models: int) -> tuple[list[str], bool]:
    """The models drawn and whether they were chosen by score (not named)."""
    if models:
        unknown = [m for m in models if m not in available]
        if unknown:
            raise ConfigError(f"hydrographs: model(s) {unknown} have no runs in the hydrograph table; "
                              f"models: {available}")
        return list(dict.fromkeys(models)), False
    ranked = sorted(available, key=lambda m: -scores[m] if np.isfinite(scores[m]) else np.inf)
    return ranked[:max(1, max_models)], True


def _flow_axis(ax, observed: pd.Series, drawn: list, log: bool) -> None:
    """Label the flow axis; from 0 on a linear axis, from just under the lowest positive flow on a log one."""
    ax.set_ylabel("Streamflow [mm/day]")
    if not log:
        ax.set_ylim(bottom=0)
        return
    ax.set_yscale("log", nonpositive="mask")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 0.1, 1, 10 rather than 10^-1
    series = [observed] + [line for line, *_ in drawn] + [band["low"] for _, band, *_ in drawn if band is not None]
    values = pd.concat(series).to_numpy(dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        top = float(positive.max())
        ax.set_ylim(max(float(positive.min()) * 0.7, top * 1e-4), top * 1.6)
