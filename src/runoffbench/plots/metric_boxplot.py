"""Boxes of any per-basin metric by region or sweep factor and model: Frame et al. (2023) Figs. 3-4
(by region, notched), Li & Zhao Figs. 2 and 4 (KGE by years of training data, ``members: seed_mean``)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from runoffbench.evaluation.collect import primary_runs
from runoffbench.plots.grouped_boxes import REGION, plot_grouped_boxes

UNITS = {"Peak-Timing": "days", "FHV": "%", "FLV": "%", "FMS": "%"}


def plot_metric_boxplot(table: pd.DataFrame, metric: str = "KGE", by: str = REGION, notch: bool = True,
                        min_basins: int = 3, exclude_regions: tuple[str, ...] = (), split: str | None = None) -> Figure:
    """Boxes of ``metric`` per ``by`` group and model, a panel per forcing. Grouped by a sweep factor, the
    colour names the swept model entry (``base_model``), as each factor level is a run of its own."""
    chosen = primary_runs(table, split)
    hue = "base_model" if by != REGION and "base_model" in chosen.columns else "model"
    label = f"{metric} [{UNITS.get(metric, '-')}]"
    return plot_grouped_boxes(chosen, value=metric, ylabel=label, by=by, hue=hue, notch=notch,
                              min_basins=min_basins if by == REGION else 1, exclude_regions=exclude_regions)
