r"""The figures of Feng et al. (2022, WRR, "Differentiable, learnable, regionalized process-based models with
multiphysical outputs …"), each a kind of the output registry.

* :func:`plot_metric_cdfs` (``metric_cdfs``, Figs. 2 and A1): CDFs over basins of NSE and KGE, a panel per
  metric (rows) and split × forcing (columns) in one figure, each curve labelled with its basins and
  median; listed models (``dashed``, e.g. the mHM benchmark) drawn dashed.
* :func:`plot_median_hydrographs` (``median_hydrographs``, Fig. 3): observed and simulated daily flow of
  the basins nearest a model's median NSE (``tables/series.csv``), each run's test-period NSE in the
  legend, the basin's location in an inset map.
* :func:`plot_parameter_series` (``parameter_series``, Fig. 4): the dynamic parameters β^t and γ^t of every
  component (grey) and their median over the components (coloured) in the same basins.
* :func:`plot_bfi_maps` (``bfi_maps``, Fig. 5): CAMELS baseflow index, the simulated BFI = ΣQ2/ΣQ, and
  their scatter with the spatial correlation; scoped like any metrics figure (``basins: nse_above:0.5``).
* :func:`plot_et_scores` (``et_scores``, Fig. 6): boxes of the per-basin temporal correlation and RMSE of
  the simulated ET against MOD16A2 8-day composites, and the basins' mean ET against MODIS (spatial r).

The process figures read ``tables/process.csv`` (:mod:`runoffbench.evaluation.process`), scoped as the
metrics table is; the series figures ``tables/series.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from runoffbench.errors import DataError
from runoffbench.evaluation.collect import runs
from runoffbench.plots.cdfs import ecdf
from runoffbench.plots.conus import draw_conus
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, note_off_axis, palette, use_style

#: the models of Feng et al. 2022 by entry name and display label, so that every figure gives a model the
#: same colour (the δ variants from dark to light as they add dynamic parameters; LSTM as everywhere)
FENG_COLOURS: dict[str, str] = {
    "dPL+HBV": "#882255", "δn": "#CC6677", "δn(βᵗ)": "#DDCC77", "δn(γᵗ)": "#999933",
    "δn(γᵗ,βᵗ)": "#117733", "δn(NN_r)": "#44AA99", "LSTM": MODEL_COLOURS["lstm"], "mHM": "#555555",
}
FENG_COLOURS.update({"dpl_hbv": FENG_COLOURS["dPL+HBV"], "delta_n": FENG_COLOURS["δn"],
                     "delta_n_beta_t": FENG_COLOURS["δn(βᵗ)"], "delta_n_gamma_t": FENG_COLOURS["δn(γᵗ)"],
                     "delta_n_gamma_t_beta_t": FENG_COLOURS["δn(γᵗ,βᵗ)"], "delta_n_nn_r": FENG_COLOURS["δn(NN_r)"],
                     "mhm": FENG_COLOURS["mHM"]})
COLOURS = {**MODEL_COLOURS, **FENG_COLOURS}

#: metric -> axis label
METRIC_LABELS = {"NSE": "NSE [-]", "KGE": "KGE [-]"}
#: parameter column prefix of tables/series.csv -> axis label
PARAMETERS = {"beta_t": r"$\beta^t$ (recharge shape) [-]", "gamma_t": r"$\gamma^t$ (ET shape) [-]"}
_BFI_NORM = Normalize(0.0, 1.0)
_BFI_CMAP = "viridis"


def _run_label(model: str, forcing: str, forcings: int) -> str:
    return model if forcings == 1 else f"{model} ({forcing})"


# -- Fig. 2 / A1 -------------------------------------------------------------------------------------------

def plot_metric_cdfs(table: pd.DataFrame, metrics: Sequence[str] = ("NSE", "KGE"), dashed: Sequence[str] = (),
                     xmin: float = -1.0) -> Figure:
    """CDFs of ``metrics`` (rows) per split × forcing (columns), a curve per model labelled "model: n=…,
    median …"; models in ``dashed`` dashed. Values below ``xmin`` count in the fractions and are noted."""
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise DataError(f"metric_cdfs: the metrics table has no column {missing}")
    panels = list(dict.fromkeys(zip(table["split"], table["forcing"])))
    models = list(dict.fromkeys(table["model"]))
    colours = palette(models, COLOURS)
    use_style()
    width = min(DOUBLE_COLUMN, max(3.4, 2.6 * len(panels) + 0.4))
    height = (2.0 + 0.1 * len(models)) * len(metrics)
    fig, axes = plt.subplots(len(metrics), len(panels), figsize=(width, height), squeeze=False, layout="constrained")
    for row, metric in zip(axes, metrics):
        for ax, (split, forcing) in zip(row, panels):
            rows = table[(table["split"] == split) & (table["forcing"] == forcing)]
            below = 0
            for model in models:
                values = rows.loc[rows["model"] == model, metric]
                x, y = ecdf(values)
                if not x.size:
                    continue
                ax.step(x, y, where="post", color=colours[model], linestyle="--" if model in dashed else "-",
                        linewidth=1.1 if model in dashed else 1.0,
                        label=f"{model}: n={x.size}, median {np.median(x):.2f}")
                below += int((x < xmin).sum())
            ax.set_xlim(xmin, 1.0)
            ax.set_ylim(0, 1)
            ax.grid(linewidth=0.4, color="0.88")
            ax.set_xlabel(METRIC_LABELS.get(metric, metric))
            ax.set_ylabel("Fraction of basins [-]")
            ax.set_title(f"{metric}: {split}, {forcing}", fontsize=7.5)
            note_off_axis(ax, below, "basin", upper_left=True)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=5.5, handlelength=1.8, ncol=1,
                      borderaxespad=0.0)
    return fig


# -- Figs. 3 and 4: tables/series.csv ----------------------------------------------------------------------

def _series_models(table: pd.DataFrame, models) -> tuple[pd.DataFrame, list[str]]:
    """The series table restricted to ``models`` (a list, or a mapping model -> label), renamed, in order."""
    if table.empty:
        raise DataError("series table is empty")
    if not models:
        return table, list(dict.fromkeys(table["model"]))
    labels = dict(models) if isinstance(models, Mapping) else {m: m for m in models}
    missing = [m for m in labels if m not in set(table["model"])]
    if missing:
        raise DataError(f"series table has no model {missing}; it has {sorted(set(table['model']))}")
    rows = table[table["model"].isin(labels)].assign(model=lambda t: t["model"].map(labels))
    return rows, list(labels.values())


def _shown_days(dates: pd.Series, water_year: int | None, years: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``years`` water years from ``water_year`` (default: the last full ones)."""
    dates = pd.DatetimeIndex(pd.to_datetime(dates.unique())).sort_values()
    last = dates[-1].year if (dates[-1].month, dates[-1].day) >= (9, 30) else dates[-1].year - 1
    first = water_year if water_year is not None else max(last - years + 1, dates[0].year + (dates[0].month > 10))
    start, end = pd.Timestamp(f"{first - 1}-10-01"), pd.Timestamp(f"{first + years - 1}-09-30")
    if end < dates[0] or start > dates[-1]:
        raise DataError(f"water years {first}-{first + years - 1} lie outside the series "
                        f"{dates[0].date()}..{dates[-1].date()}")
    return max(start, dates[0]), min(end, dates[-1])


def _location_map(ax, lat: float, lon: float) -> None:
    """The basin as a dot on a small CONUS map (Fig. 3's location inset)."""
    draw_conus(ax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.scatter([lon], [lat], s=18, color="#D55E00", edgecolors="black", linewidths=0.4, zorder=4)
    for spine in ax.spines.values():
        spine.set_linewidth(0.4)


def plot_median_hydrographs(table: pd.DataFrame, models=None, years: int = 2, water_year: int | None = None,
                            log: bool = False) -> Figure:
    """A panel per basin (the series table's, nearest the median NSE): observed flow (black) and each
    model's, "model (NSE 0.71)" in the legend (NSE of the whole test period), the basin on an inset map."""
    rows, labels = _series_models(table, models)
    basins = list(dict.fromkeys(rows["basin"]))
    start, end = _shown_days(rows["date"], water_year, years)
    colours = palette(labels, COLOURS)
    use_style()
    fig, axes = plt.subplots(len(basins), 2, figsize=(DOUBLE_COLUMN, 1.75 * len(basins) + 0.2), squeeze=False,
                             layout="constrained", gridspec_kw={"width_ratios": [4.6, 1.0]})
    for (ax, location), basin in zip(axes, basins):
        part = rows[rows["basin"] == basin].assign(date=lambda t: pd.to_datetime(t["date"]))
        part = part[(part["date"] >= start) & (part["date"] <= end)]
        observed = part.drop_duplicates("date").set_index("date")["qobs"]
        ax.plot(observed.index, observed.to_numpy(), color="black", linewidth=1.1, label="observed", zorder=5)
        for label in labels:
            run = part[part["model"] == label].set_index("date")
            if run.empty:
                continue
            nse = run["NSE"].iloc[0] if "NSE" in run else np.nan
            ax.plot(run.index, run["qsim"].to_numpy(), color=colours[label], linewidth=0.8,
                    label=f"{label} (NSE {nse:.2f})" if np.isfinite(nse) else label)
        if log:
            ax.set_yscale("log")
        first = part.iloc[0]
        region = f", HUC {first['huc_02']}" if "huc_02" in part and pd.notna(first.get("huc_02")) else ""
        ax.set_title(f"basin {basin}{region} ({first['forcing']}, {first['split']})", fontsize=7.5, loc="left")
        ax.set_ylabel("Flow [mm/day]")
        ax.set_xlim(start, end)
        if not log:
            top = np.nanmax(part[["qobs", "qsim"]].to_numpy(float))
            ax.set_ylim(0, 1.3 * top if np.isfinite(top) and top > 0 else None)  # room for the legend
        ax.legend(loc="upper left", fontsize=5.5, ncol=len(labels) + 1, handlelength=1.5, columnspacing=1.0)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(ax.xaxis.get_major_locator()))
        if {"lat", "lon"} <= set(part.columns) and pd.notna(first["lat"]):
            _location_map(location, float(first["lat"]), float(first["lon"]))
        else:
            location.set_axis_off()
    return fig


def plot_parameter_series(table: pd.DataFrame, model: str | None = None, label: str | None = None, years: int = 2,
                          water_year: int | None = None) -> Figure:
    """β^t and γ^t (rows) of ``model`` (default: the first with dynamic parameters; shown as ``label``) in the
    series basins (columns): every component grey, the median over the components coloured."""
    present = {p: sorted((c for c in table.columns if c.startswith(f"{p}_") and c[len(p) + 1:].isdigit()),
                         key=lambda c: int(c.rsplit("_", 1)[1])) for p in PARAMETERS}
    present = {p: cols for p, cols in present.items() if cols}
    if not present:
        raise DataError("parameter_series: the series table has no dynamic parameters (beta_t_<k>, gamma_t_<k>); "
                        "is a δ model with dynamic parameters among its runs?")
    with_parameters = [m for m in dict.fromkeys(table["model"])
                       if table.loc[table["model"] == m, next(iter(present.values()))].notna().any().any()]
    if model is None:
        if not with_parameters:
            raise DataError("parameter_series: no model of the series table has dynamic parameters")
        model = with_parameters[0]
    elif model not in with_parameters:
        raise DataError(f"parameter_series: {model!r} has no dynamic parameters; models with them: {with_parameters}")
    rows = table[table["model"] == model].assign(date=lambda t: pd.to_datetime(t["date"]))
    start, end = _shown_days(rows["date"], water_year, years)
    rows = rows[(rows["date"] >= start) & (rows["date"] <= end)]
    basins = list(dict.fromkeys(rows["basin"]))
    label = label or model
    colour = palette([label], COLOURS)[label] if label in COLOURS else palette([model], COLOURS)[model]
    use_style()
    fig, axes = plt.subplots(len(present), len(basins), figsize=(DOUBLE_COLUMN, 1.8 * len(present) + 0.5),
                             squeeze=False, sharex="col", layout="constrained")
    for index, (row, (parameter, columns)) in enumerate(zip(axes, present.items())):
        for ax, basin in zip(row, basins):
            part = rows[rows["basin"] == basin].set_index("date")[columns]
            ax.plot(part.index, part.to_numpy(), color="0.6", linewidth=0.35, alpha=0.7)
            ax.plot(part.index, part.median(axis=1).to_numpy(), color=colour, linewidth=1.2)
            if index == 0:
                ax.set_title(f"basin {basin}", fontsize=7.5)
            ax.grid(linewidth=0.3, color="0.9")
            locator = AutoDateLocator(maxticks=5)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        row[0].set_ylabel(PARAMETERS[parameter])
    components = len(next(iter(present.values())))
    fig.legend(handles=[Line2D([], [], color="0.6", linewidth=0.6, label=f"each of the {components} components"),
                        Line2D([], [], color=colour, linewidth=1.2, label="median over the components")],
               loc="outside lower center", ncol=2, fontsize=6.5, frameon=False)
    fig.suptitle(f"Dynamic parameters of {label}", fontsize=8)
    return fig


# -- Figs. 5 and 6: tables/process.csv ---------------------------------------------------------------------

def _require(table: pd.DataFrame, columns: Sequence[str], kind: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{kind}: the table has no column {missing} (is it tables/process.csv?)")


def plot_bfi_maps(table: pd.DataFrame) -> Figure:
    """A row per run with a simulated BFI: the CAMELS baseflow index, the simulated BFI (same colours) and
    simulated against CAMELS with the 1:1 line and the spatial correlation."""
    _require(table, ("BFI", "BFI-CAMELS", "lat", "lon"), "bfi_maps")
    shown = [run for run in runs(table) if table.loc[(table["model"] == run[0]) & (table["forcing"] == run[1]),
                                                     "BFI"].notna().any()]
    if not shown:
        raise DataError("bfi_maps: no run in scope has a simulated baseflow index (a baseflow flux)")
    forcings = len({f for _, f in shown})
    use_style()
    fig, axes = plt.subplots(len(shown), 3, figsize=(DOUBLE_COLUMN, 1.6 * len(shown) + 0.55), squeeze=False,
                             layout="constrained", gridspec_kw={"width_ratios": [1.45, 1.45, 1.0]})
    points = None
    for row, (model, forcing) in zip(axes, shown):
        rows = table[(table["model"] == model) & (table["forcing"] == forcing)].dropna(subset=["BFI", "BFI-CAMELS"])
        label = _run_label(model, forcing, forcings)
        marker = 9.0 if len(rows) < 200 else 4.0
        for ax, column, title in ((row[0], "BFI-CAMELS", "CAMELS baseflow index"),
                                  (row[1], "BFI", f"simulated BFI = ΣQ2/ΣQ, {label}")):
            draw_conus(ax)
            ax.set_xticks([])
            ax.set_yticks([])
            points = ax.scatter(rows["lon"], rows["lat"], c=rows[column], cmap=_BFI_CMAP, norm=_BFI_NORM, s=marker,
                                edgecolors="black", linewidths=0.2, zorder=3)
            ax.set_title(f"{title}, n={len(rows)}", fontsize=7)
        ax = row[2]
        ax.scatter(rows["BFI-CAMELS"], rows["BFI"], s=6, color=palette([model], COLOURS)[model],
                   edgecolors="none", alpha=0.8)
        ax.plot([0, 1], [0, 1], color="0.4", linewidth=0.6, linestyle=":")
        r = float(np.corrcoef(rows["BFI-CAMELS"], rows["BFI"])[0, 1]) if len(rows) > 2 else np.nan
        ax.text(0.04, 0.96, f"r = {r:.2f}\nn = {len(rows)}", transform=ax.transAxes, ha="left", va="top", fontsize=6.5,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0})
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("CAMELS BFI [-]")
        ax.set_ylabel("simulated BFI [-]")
        ax.set_title(label, fontsize=7)
    fig.colorbar(points, ax=axes[:, :2], orientation="horizontal", shrink=0.45, aspect=40, pad=0.01,
                 label="baseflow index [-]")
    return fig


def plot_et_scores(table: pd.DataFrame) -> Figure:
    """(a) temporal correlation and (b) RMSE of the simulated ET against MOD16A2 per basin, a box per run;
    (c) each basin's mean ET against MODIS's with the spatial correlation per run."""
    _require(table, ("ET-r", "ET-RMSE", "ET-mean", "ET-mean-MODIS"), "et_scores")
    shown = [run for run in runs(table) if table.loc[(table["model"] == run[0]) & (table["forcing"] == run[1]),
                                                     "ET-r"].notna().any()]
    if not shown:
        raise DataError("et_scores: no run in scope has ET scores against MODIS (an et flux and the MODIS files)")
    forcings = len({f for _, f in shown})
    labels = [_run_label(m, f, forcings) for m, f in shown]
    colours = palette([m for m, _ in shown], COLOURS)
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(DOUBLE_COLUMN, 2.7), layout="constrained",
                             gridspec_kw={"width_ratios": [1.2, 1.2, 1.0]})
    for ax, column, title in ((axes[0], "ET-r", "(a) temporal correlation r [-]"),
                              (axes[1], "ET-RMSE", "(b) RMSE [mm/day]")):
        data = [table.loc[(table["model"] == m) & (table["forcing"] == f), column].dropna().to_numpy()
                for m, f in shown]
        boxes = ax.boxplot(data, patch_artist=True, widths=0.6, showfliers=True,
                           flierprops={"markersize": 2, "markeredgewidth": 0.3},
                           medianprops={"color": "black", "linewidth": 0.9})
        for patch, (model, _) in zip(boxes["boxes"], shown):
            patch.set_facecolor(colours[model])
            patch.set_alpha(0.75)
        ax.set_xticks(range(1, len(shown) + 1), labels, rotation=35, ha="right", fontsize=6.5)
        ax.set_title(title, fontsize=7.5)
        ax.grid(axis="y", linewidth=0.3, color="0.9")
    ax = axes[2]
    top = 0.0
    for (model, forcing), label in zip(shown, labels):
        rows = table[(table["model"] == model) & (table["forcing"] == forcing)]
        rows = rows.dropna(subset=["ET-mean", "ET-mean-MODIS"])
        r = float(np.corrcoef(rows["ET-mean-MODIS"], rows["ET-mean"])[0, 1]) if len(rows) > 2 else np.nan
        ax.scatter(rows["ET-mean-MODIS"], rows["ET-mean"], s=6, color=colours[model], alpha=0.75, edgecolors="none",
                   label=f"{label}: r = {r:.2f}")
        top = max(top, float(np.nanmax(rows[["ET-mean", "ET-mean-MODIS"]].to_numpy())) if len(rows) else 0.0)
    top = 1.05 * top if top > 0 else 1.0
    ax.plot([0, top], [0, top], color="0.4", linewidth=0.6, linestyle=":")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("MODIS mean ET [mm/day]")
    ax.set_ylabel("simulated mean ET [mm/day]")
    ax.set_title("(c) basin mean ET (spatial r)", fontsize=7.5)
    ax.legend(loc="upper left", fontsize=5.5, handletextpad=0.2, borderaxespad=0.2)
    return fig
