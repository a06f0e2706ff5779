"""Boxplots of the precipitation ratio between two forcing products by water-resources region."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from runoffbench.errors import DataError
from runoffbench.plots.style import DOUBLE_COLUMN, REGION_COLOURS, use_style
from runoffbench.regions import drop_small_regions, normalise_code, region_label

_REQUIRED = ("basin", "forcing", "huc_02", "prcp_ratio")


def plot_precip_bias_by_huc(
    table: pd.DataFrame, forcing: str, reference: str, min_basins: int = 1
) -> Figure:
    """Boxplots, with every basin as a point, of P(forcing) / P(reference) per HUC-02 region.

    ``table`` is the water-balance table (:mod:`runoffbench.analysis.water_balance`); the ratio
    between any two of its forcings is prcp_ratio(forcing) / prcp_ratio(reference). Regions with
    fewer than ``min_basins`` basins are left out and named below the axis.
    """
    ratios, dropped = drop_small_regions(_ratio_table(table, forcing, reference), min_basins)
    if ratios.empty:
        raise DataError(f"precipitation bias: no region has {min_basins} or more basins")
    use_style()
    order = sorted(ratios["huc_02"].unique())
    fig, ax = plt.subplots(figsize=(DOUBLE_COLUMN, 3.4))
    ax.axhline(1.0, color="0.3", linestyle="--", linewidth=0.8, zorder=0)
    _draw_boxes_and_points(ax, [ratios.loc[ratios["huc_02"] == code, "ratio"] for code in order],
                           [REGION_COLOURS[code] for code in order])
    _label_axes(ax, order, forcing, reference)
    _annotate_counts(ax, ratios, order)
    if dropped:
        names = ", ".join(region_label(code) for code in dropped)
        ax.set_xlabel(f"{ax.get_xlabel()}; not shown (fewer than {min_basins} basins): {names}")
    return fig


def _ratio_table(table: pd.DataFrame, forcing: str, reference: str) -> pd.DataFrame:
    """Columns basin, huc_02, ratio = P(forcing) / P(reference); DataError on missing data."""
    missing = [column for column in _REQUIRED if column not in table.columns]
    if missing:
        raise DataError(f"precipitation bias: table has no column(s) {missing}")
    available = sorted(table["forcing"].unique())
    for name in (forcing, reference):
        if name not in available:
            raise DataError(f"precipitation bias: forcing {name!r} is not in the table {available}")
    wide = table.pivot_table(index=["basin", "huc_02"], columns="forcing", values="prcp_ratio")
    ratios = (wide[forcing] / wide[reference]).rename("ratio").reset_index()
    ratios["huc_02"] = ratios["huc_02"].map(normalise_code)
    return ratios.dropna(subset=["ratio"])


def _draw_boxes_and_points(ax, groups: list[pd.Series], colours: list[str]) -> None:
    """One translucent box per group (whiskers at 1.5 IQR) and its values as jittered points."""
    boxes = ax.boxplot(groups, positions=range(len(groups)), widths=0.6, patch_artist=True,
                       showfliers=False, medianprops={"color": "black", "linewidth": 1.0},
                       whiskerprops={"linewidth": 0.8}, capprops={"linewidth": 0.8})
    jitter = np.random.default_rng(0)
    for position, (values, colour, box) in enumerate(zip(groups, colours, boxes["boxes"])):
        box.set(facecolor=colour, alpha=0.45, edgecolor="0.3", linewidth=0.8)
        x = position + jitter.uniform(-0.18, 0.18, len(values))
        ax.scatter(x, values, s=9, color=colour, edgecolors="black", linewidths=0.3, zorder=3)


def _label_axes(ax, order: list[str], forcing: str, reference: str) -> None:
    """Region names on the x axis, the ratio on the y axis."""
    ax.set_xticks(range(len(order)), [region_label(code) for code in order],
                  rotation=35, ha="right", rotation_mode="anchor")
    ax.set_xlabel("Water-resources region (HUC-02)")
    ax.set_ylabel(f"P({forcing}) / P({reference}) [-]")
    ax.grid(axis="y", linewidth=0.4, color="0.88")
    ax.set_axisbelow(True)


def _annotate_counts(ax, ratios: pd.DataFrame, order: list[str]) -> None:
    """"n=12" above each box, just inside the top of the axes."""
    counts = ratios.groupby("huc_02")["basin"].nunique()
    transform = blended_transform_factory(ax.transData, ax.transAxes)
    for position, code in enumerate(order):
        ax.text(position, 1.0, f"n={counts[code]}", transform=transform, ha="center",
                va="bottom", fontsize=6.5, color="0.25")
