"""Basin maps coloured by a value per basin: a catchment attribute or a metric.

- :func:`plot_attribute_map` (kind ``attribute_map``, Kratzert et al. 2019 Fig. 2): a CONUS map per
  attribute of the dataset's ``attributes.nc`` (a row per basin with ``gauge_lat``/``gauge_lon``), each
  with its own colour bar in the attribute's units.
- :func:`plot_metric_map` (kind ``metric_map``): a CONUS map per model and forcing of one metric of the
  scoped metrics table (one member per model and forcing), one shared colour bar.

Both draw the basins as dots over the state outlines (:func:`runoffbench.plots.conus.draw_conus`); a
basin without a value is a small grey circle, and each panel says how many basins it shows.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from runoffbench.errors import DataError
from runoffbench.plots.conus import draw_conus
from runoffbench.plots.style import DOUBLE_COLUMN, use_style

#: Kratzert et al. (2019) Fig. 2: mean elevation, aridity, forest fraction and mean precipitation
FIG2_ATTRIBUTES = ("elev_mean", "aridity", "frac_forest", "p_mean")
#: CAMELS attribute -> (label with units, colour map); Addor et al. (2017), Tables 1-6
ATTRIBUTE_LABELS: dict[str, tuple[str, str]] = {
    "elev_mean": ("mean elevation [m]", "cividis"),
    "slope_mean": ("mean slope [m/km]", "cividis"),
    "area_gages2": ("area [km²]", "cividis"),
    "aridity": ("aridity PET/P [-]", "YlOrBr"),
    "p_mean": ("mean precipitation [mm/day]", "YlGnBu"),
    "pet_mean": ("mean PET [mm/day]", "YlOrRd"),
    "p_seasonality": ("precipitation seasonality [-]", "RdBu"),
    "frac_snow": ("fraction of precipitation as snow [-]", "Blues"),
    "high_prec_freq": ("frequency of high-precipitation days [days/yr]", "YlGnBu"),
    "high_prec_dur": ("duration of high-precipitation events [days]", "YlGnBu"),
    "low_prec_freq": ("frequency of dry days [days/yr]", "YlOrBr"),
    "low_prec_dur": ("duration of dry periods [days]", "YlOrBr"),
    "frac_forest": ("forest fraction [-]", "Greens"),
    "lai_max": ("maximum leaf area index [-]", "Greens"),
    "gvf_max": ("maximum green vegetation fraction [-]", "Greens"),
    "soil_depth_pelletier": ("depth to bedrock [m]", "copper"),
    "soil_porosity": ("soil porosity [-]", "copper"),
    "soil_conductivity": ("saturated hydraulic conductivity [cm/h]", "copper"),
    "max_water_content": ("maximum water content [m]", "copper"),
    "carbonate_rocks_frac": ("fraction of carbonate rocks [-]", "Purples"),
    "geol_permeability": ("subsurface permeability [log10 m²]", "Purples"),
    "q_mean": ("mean streamflow [mm/day]", "YlGnBu"),
    "runoff_ratio": ("runoff ratio [-]", "YlGnBu"),
    "baseflow_index": ("baseflow index [-]", "YlGnBu"),
}
#: metrics whose best value is 1 (the colour scale ends there)
_EFFICIENCIES = ("NSE", "KGE", "Pearson-r")
_MAP_HEIGHT = 0.56  # of a CONUS map over its width
_MISSING = {"s": 6.0, "facecolors": "none", "edgecolors": "0.55", "linewidths": 0.5, "zorder": 2}


def plot_attribute_map(table: pd.DataFrame, attributes=None, columns: int = 2) -> Figure:
    """A map per attribute (default :data:`FIG2_ATTRIBUTES`), ``columns`` maps per row, each basin coloured
    by its value; ``table``: attributes.nc as a frame with ``basin``, ``gauge_lat``/``gauge_lon`` (or
    ``lat``/``lon``)."""
    attributes = list(attributes or FIG2_ATTRIBUTES)
    lat, lon = _coordinates(table, "attribute map")
    unknown = [a for a in attributes if a not in table.columns]
    if unknown:
        raise DataError(f"attribute map: attributes.nc has no {unknown}; it has {', '.join(map(str, table.columns))}")
    text = [a for a in attributes if not pd.api.types.is_numeric_dtype(table[a])]
    if text:
        raise DataError(f"attribute map: {text} are not numbers (a class attribute cannot be coloured on a scale)")
    basins = table.drop_duplicates("basin")
    fig, axes = _grid(len(attributes), columns)
    for ax, attribute in zip(axes, attributes, strict=False):
        label, cmap = ATTRIBUTE_LABELS.get(attribute, (attribute, "viridis"))
        values = basins[attribute].astype(float)
        norm = Normalize(*_limits(values))
        _draw(ax, basins[lon], basins[lat], values, cmap, norm, marker=_marker(len(basins)))
        ax.set_title(f"{attribute} (n={int(values.notna().sum())})", fontsize=7.5, pad=2)
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01, aspect=25)
        bar.set_label(label, fontsize=6.5)
        bar.ax.tick_params(labelsize=6)
    return fig


def plot_metric_map(table: pd.DataFrame, split: str | None = None, metric: str = "NSE", vmin: float | None = None,
                    vmax: float | None = None) -> Figure:
    """A map per model and forcing of ``metric`` (one shared colour bar from ``vmin`` to ``vmax``, values
    beyond drawn in the end colours and counted in each panel's title)."""
    from runoffbench.evaluation.collect import primary_runs

    if metric not in table.columns:
        raise DataError(f"metric map: the metrics table has no {metric!r} column")
    chosen = primary_runs(table, split)
    lat, lon = _coordinates(chosen, "metric map")
    values = chosen[metric].astype(float)
    if not values.notna().any():
        raise DataError(f"metric map: no basin has a {metric}")
    fifth = float(np.nanpercentile(values, 5))
    low = vmin if vmin is not None else (min(fifth, 0.0) if metric in _EFFICIENCIES else fifth)
    high = vmax if vmax is not None else (min(float(values.max()), 1.0) if metric in _EFFICIENCIES
                                          else float(values.max()))
    if not high > low:
        high = low + 1.0
    norm, cmap = Normalize(low, high), "viridis"
    runs = list(dict.fromkeys(zip(chosen["model"], chosen["forcing"])))
    several = chosen["forcing"].nunique() > 1
    fig, axes = _grid(len(runs), 2 if len(runs) > 1 else 1)
    for ax, (model, forcing) in zip(axes, runs, strict=False):
        rows = chosen[(chosen["model"] == model) & (chosen["forcing"] == forcing)]
        shown = rows[metric].astype(float)
        _draw(ax, rows[lon], rows[lat], shown.clip(low, high), cmap, norm, marker=_marker(len(rows)))
        beyond = int(((shown < low) | (shown > high)).sum())
        name = f"{model} ({forcing})" if several else str(model)
        ax.set_title(f"{name}, n={int(shown.notna().sum())}" + (f", {beyond} beyond the scale" if beyond else ""),
                     fontsize=7.5, pad=2)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[:len(runs)]), shrink=0.6,
                       pad=0.02, aspect=30, extend="both")
    bar.set_label(f"{metric} [-]" if metric in _EFFICIENCIES else metric)
    return fig


def _coordinates(table: pd.DataFrame, what: str) -> tuple[str, str]:
    for lat, lon in (("lat", "lon"), ("gauge_lat", "gauge_lon")):
        if lat in table.columns and lon in table.columns:
            return lat, lon
    raise DataError(f"{what}: the table has no basin coordinates (lat/lon or gauge_lat/gauge_lon)")


def _grid(panels: int, columns: int):
    columns = max(1, min(columns, panels))
    rows = math.ceil(panels / columns)
    width = DOUBLE_COLUMN if columns > 1 else DOUBLE_COLUMN * 0.7
    use_style()
    fig, axes = plt.subplots(rows, columns, figsize=(width, rows * (_MAP_HEIGHT * width / columns + 0.35)),
                             squeeze=False, layout="constrained")
    axes = list(axes.flat)
    for ax in axes[panels:]:
        ax.set_axis_off()
    return fig, axes


def _draw(ax, lon: pd.Series, lat: pd.Series, values: pd.Series, cmap: str, norm, marker: float) -> None:
    draw_conus(ax)
    ax.set_xticks([])
    ax.set_yticks([])
    known = values.notna().to_numpy()
    ax.scatter(lon[~known], lat[~known], **_MISSING)
    ax.scatter(lon[known], lat[known], c=values[known], cmap=cmap, norm=norm, s=marker, edgecolors="black",
               linewidths=0.25, zorder=3)


def _limits(values: pd.Series) -> tuple[float, float]:
    """The colour scale of an attribute: its range over the basins (a constant one widened)."""
    low, high = float(values.min()), float(values.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _marker(n_basins: int) -> float:
    return 14.0 if n_basins <= 200 else 6.0
