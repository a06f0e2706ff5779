"""Registry of the project's figures: figure id -> how to draw it.

The ``figure`` subcommand and the workflow's figure rules look a figure up here by its id (the
file name under ``results/<experiment>/figures/``). Adding a figure is one entry here plus its caption
and the paper figure it reproduces under ``figures:`` in the experiment configs (the report's source).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from runoffbench.errors import ConfigError
from runoffbench.plots.basin_map import plot_basin_map
from runoffbench.plots.cdfs import (
    plot_kge_cdf,
    plot_kge_difference_cdf,
    plot_kge_skill_cdf,
    plot_mass_bias_cdf,
    plot_mutual_information_cdf,
    plot_nse_cdf,
)
from runoffbench.plots.hydrographs import plot_hydrographs
from runoffbench.plots.mass_bias_by_huc import plot_mass_bias_by_huc
from runoffbench.plots.mass_bias_map import plot_mass_bias_map
from runoffbench.plots.precip_bias import plot_precip_bias_by_huc
from runoffbench.plots.static_noise import plot_static_noise


@dataclass(frozen=True)
class FigureSpec:
    """How to draw one figure.

    function: draws the figure from a table (``function(table, **options) -> Figure``).
    table: id of the table it reads (``results/<experiment>/tables/<table>.csv``): ``water_balance``,
        ``metrics`` (every run's per-basin metrics, :mod:`runoffbench.evaluation.collect`) or
        ``hydrographs`` (daily flows of selected basins).
    options: keyword arguments of ``function`` that the caller must supply (e.g. ``forcing``).
    """

    function: Callable[..., Figure]
    table: str
    options: tuple[str, ...] = ()


FIGURES: dict[str, FigureSpec] = {
    "basin_map": FigureSpec(
        function=plot_basin_map,
        table="water_balance",
    ),
    "static_noise": FigureSpec(  # drawn per analysis of kind static_noise (analyses.smk)
        function=plot_static_noise,
        table="static_noise",
    ),
    "precip_bias_by_huc": FigureSpec(
        function=plot_precip_bias_by_huc,
        table="water_balance",
        options=("forcing", "reference"),
    ),
    "nse_cdf": FigureSpec(
        function=plot_nse_cdf,
        table="metrics",
    ),
    "kge_cdf": FigureSpec(
        function=plot_kge_cdf,
        table="metrics",
    ),
    "mass_bias_cdf": FigureSpec(
        function=plot_mass_bias_cdf,
        table="metrics",
    ),
    "mass_bias_map": FigureSpec(
        function=plot_mass_bias_map,
        table="metrics",
    ),
    "mass_bias_by_huc": FigureSpec(
        function=plot_mass_bias_by_huc,
        table="metrics",
    ),
    "mutual_information_cdf": FigureSpec(
        function=plot_mutual_information_cdf,
        table="metrics",
    ),
    "kge_skill_cdf": FigureSpec(
        function=plot_kge_skill_cdf,
        table="metrics",
        options=("baseline",),
    ),
    "kge_difference_cdf": FigureSpec(
        function=plot_kge_difference_cdf,
        table="metrics",
        options=("models",),
    ),
    "hydrographs": FigureSpec(
        function=plot_hydrographs,
        table="hydrographs",
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
