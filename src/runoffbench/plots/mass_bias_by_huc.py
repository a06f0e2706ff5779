r"""Frame et al. (2023) Figs. 3-4: the signed mass bias by water-resources region, per model.

Boxes of :math:`B = (\sum Q_s - \sum Q_o)/\sum Q_o` per HUC-02 region, one box per model within each
region and one panel per forcing (:func:`runoffbench.plots.grouped_boxes.plot_grouped_boxes`: notched
boxes, regions with too few basins left out and named, the axis fitted to the whiskers).
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from runoffbench.evaluation.collect import primary_runs
from runoffbench.plots.grouped_boxes import plot_grouped_boxes
from runoffbench.plots.mass_bias_map import signed_mass_bias


def plot_mass_bias_by_huc(table: pd.DataFrame, split: str | None = None, min_basins: int = 3,
                          exclude_regions: tuple[str, ...] = (), notch: bool = True) -> Figure:
    """Grouped boxplots of the mass bias per region (x) and model (colour), a panel per forcing;
    ``exclude_regions`` (HUC-02 codes) are left out and named, as Frame et al. 2023 leave out 09."""
    chosen = primary_runs(table, split)
    return plot_grouped_boxes(chosen.assign(bias=signed_mass_bias(chosen)), value="bias", ylabel="Mass bias B [-]",
                              notch=notch, min_basins=min_basins, exclude_regions=exclude_regions)
