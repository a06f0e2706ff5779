"""Map of the basins over CONUS state outlines, coloured by water-resources region."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from runoffbench.errors import DataError
from runoffbench.plots.conus import draw_conus
from runoffbench.plots.style import DOUBLE_COLUMN, REGION_COLOURS, use_style
from runoffbench.regions import normalise_code, region_label

_REQUIRED = ("basin", "lat", "lon", "huc_02")
_MARKER_SIZE = 14.0
_AREA_SIZES_KM2 = (100.0, 1000.0, 10000.0)


def plot_basin_map(table: pd.DataFrame, size_by_area: bool = False) -> Figure:
    """Basin outlets on lon/lat over CONUS, coloured by HUC-02 region, one legend entry per region.

    ``table`` needs ``basin``, ``lat``, ``lon`` and ``huc_02`` (and ``area`` in km² when
    ``size_by_area``); a table with several rows per basin (one per forcing) is reduced to one.
    """
    basins = _one_row_per_basin(table, size_by_area)
    use_style()
    fig, ax = plt.subplots(figsize=(DOUBLE_COLUMN, 3.6))
    draw_conus(ax)
    sizes = _area_sizes(basins["area"]) if size_by_area else _MARKER_SIZE
    colours = basins["huc_02"].map(REGION_COLOURS)
    ax.scatter(basins["lon"], basins["lat"], s=sizes, c=colours, edgecolors="black",
               linewidths=0.3, alpha=0.9, zorder=3)
    if size_by_area:
        ax.add_artist(ax.legend(handles=_area_handles(), title="Basin area", loc="lower left",
                                frameon=True, framealpha=0.9, edgecolor="0.8", labelspacing=1.0,
                                borderpad=0.8))
    regions = sorted(basins["huc_02"].unique())
    counts = basins["huc_02"].value_counts()
    ax.legend(handles=[_region_handle(code, counts[code]) for code in regions],
              title=f"Water-resources region ({len(basins)} basins)",
              loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


def _one_row_per_basin(table: pd.DataFrame, size_by_area: bool) -> pd.DataFrame:
    """The first row of each basin, with ``huc_02`` normalised; DataError on missing columns."""
    required = _REQUIRED + (("area",) if size_by_area else ())
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataError(f"basin map: table has no column(s) {missing}")
    basins = table.drop_duplicates("basin").copy()
    basins["huc_02"] = basins["huc_02"].map(normalise_code)
    return basins


def _area_sizes(area_km2: pd.Series) -> np.ndarray:
    """Marker sizes (points²) growing with the square root of the area, clipped to legibility."""
    return np.clip(4.0 * np.sqrt(np.asarray(area_km2, dtype=float)) / 3.0, 4.0, 200.0)


def _region_handle(code: str, count: int) -> Line2D:
    """Legend entry "01 New England (12)" in the region's colour."""
    return Line2D([], [], linestyle="", marker="o", markersize=5, markeredgewidth=0.3,
                  markeredgecolor="black", markerfacecolor=REGION_COLOURS[code],
                  label=f"{region_label(code)} ({count})")


def _area_handles() -> list[Line2D]:
    """Legend entries for reference basin areas."""
    return [
        Line2D([], [], linestyle="", marker="o", markerfacecolor="white",
               markeredgecolor="black", markeredgewidth=0.3,
               markersize=float(np.sqrt(_area_sizes([area])[0])), label=f"{area:,.0f} km²")
        for area in _AREA_SIZES_KM2
    ]
