"""Registry of the project's figures: figure id -> how to draw it and what it shows.

The ``figure`` subcommand and the workflow's figure rules look a figure up here by its id (the
file name under ``results/<experiment>/figures/``). Adding a figure is one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from runoffbench.errors import ConfigError
from runoffbench.plots.basin_map import plot_basin_map
from runoffbench.plots.cdfs import (plot_kge_cdf, plot_kge_difference_cdf, plot_kge_skill_cdf, plot_mass_bias_cdf,
                                    plot_mutual_information_cdf, plot_nse_cdf)
from runoffbench.plots.hydrographs import plot_hydrographs
from runoffbench.plots.mass_bias_by_huc import plot_mass_bias_by_huc
from runoffbench.plots.mass_bias_map import plot_mass_bias_map
from runoffbench.plots.precip_bias import plot_precip_bias_by_huc


@dataclass(frozen=True)
class FigureSpec:
    """How to draw one figure.

    function: draws the figure from a table (``function(table, **options) -> Figure``).
    table: id of the table it reads (``results/<experiment>/tables/<table>.csv``): ``water_balance``,
        ``metrics`` (every run's per-basin metrics, :mod:`runoffbench.evaluation.collect`) or
        ``hydrographs`` (daily flows of selected basins).
    caption: what the figure shows, for the report and the experiment config.
    paper_figure: the published figure it reproduces ("Frame et al. 2021, Fig. 3"), or None.
    options: keyword arguments of ``function`` that the caller must supply (e.g. ``forcing``).
    """

    function: Callable[..., Figure]
    table: str
    caption: str
    paper_figure: str | None = None
    options: tuple[str, ...] = ()


FIGURES: dict[str, FigureSpec] = {
    "basin_map": FigureSpec(
        function=plot_basin_map,
        table="water_balance",
        caption="Locations of the basins, coloured by USGS water-resources region (HUC-02).",
    ),
    "precip_bias_by_huc": FigureSpec(
        function=plot_precip_bias_by_huc,
        table="water_balance",
        caption=(
            "Ratio of the long-term mean precipitation of one forcing product to that of a "
            "reference product per basin, grouped by water-resources region; the dashed line "
            "marks equal precipitation."
        ),
        options=("forcing", "reference"),
    ),
    "nse_cdf": FigureSpec(
        function=plot_nse_cdf,
        table="metrics",
        caption="Cumulative distribution over basins of the NSE of each model and forcing.",
        paper_figure="Kratzert et al. 2019, Fig. 4; Frame et al. 2023",
    ),
    "kge_cdf": FigureSpec(
        function=plot_kge_cdf,
        table="metrics",
        caption=(
            "Cumulative distribution over basins of the KGE of each model and forcing; the dotted "
            "line marks the mean-flow benchmark, KGE = 1 − √2 ≈ −0.41 (Knoben et al. 2019)."
        ),
        paper_figure="Frame et al. 2023, Fig. 6 (left)",
    ),
    "mass_bias_cdf": FigureSpec(
        function=plot_mass_bias_cdf,
        table="metrics",
        caption=(
            "Cumulative distributions over basins of the total absolute, positive and negative mass "
            "bias per forcing; basins without a complete record are left out."
        ),
        paper_figure="Frame et al. 2023, Fig. 1",
    ),
    "mass_bias_map": FigureSpec(
        function=plot_mass_bias_map,
        table="metrics",
        caption=(
            "Relative total mass bias of every basin per model and forcing: red too much water, blue "
            "too little; grey circles mark basins without a complete record."
        ),
        paper_figure="Frame et al. 2023, Fig. 2",
    ),
    "mass_bias_by_huc": FigureSpec(
        function=plot_mass_bias_by_huc,
        table="metrics",
        caption=(
            "Relative total mass bias by water-resources region and model, a panel per forcing; "
            "regions with too few basins are left out and named."
        ),
        paper_figure="Frame et al. 2023, Figs. 3-4",
    ),
    "mutual_information_cdf": FigureSpec(
        function=plot_mutual_information_cdf,
        table="metrics",
        caption="Cumulative distribution over basins of the mutual information of observed and simulated flow.",
        paper_figure="Frame et al. 2023, Fig. 5",
    ),
    "kge_skill_cdf": FigureSpec(
        function=plot_kge_skill_cdf,
        table="metrics",
        caption=(
            "KGE (left) and KGE skill score against the baseline model (right, Frame et al. 2023 eq. 8) "
            "over basins; 0 is no improvement over the baseline."
        ),
        paper_figure="Frame et al. 2023, Fig. 6",
        options=("baseline",),
    ),
    "kge_difference_cdf": FigureSpec(
        function=plot_kge_difference_cdf,
        table="metrics",
        caption="Cumulative distribution over basins of the KGE difference between two models, per forcing.",
        paper_figure="Frame et al. 2023, Fig. 7 (MC-LSTM − LSTM)",
        options=("models",),
    ),
    "hydrographs": FigureSpec(
        function=plot_hydrographs,
        table="hydrographs",
        caption=(
            "Observed and simulated streamflow of selected basins over one water year; lines are the "
            "ensemble means, shaded bands the range over members (seeds)."
        ),
        paper_figure="Li and Zhao, Fig. 3 (style)",
    ),
}


def figure_spec(figure_id: str) -> FigureSpec:
    """The registry entry of ``figure_id``; ConfigError naming the known ids if there is none."""
    try:
        return FIGURES[figure_id]
    except KeyError:
        raise ConfigError(
            f"unknown figure {figure_id!r}; known figures: {', '.join(sorted(FIGURES))}"
        ) from None
