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
from runoffbench.plots.precip_bias import plot_precip_bias_by_huc


@dataclass(frozen=True)
class FigureSpec:
    """How to draw one figure.

    function: draws the figure from a table (``function(table, **options) -> Figure``).
    table: id of the table it reads (``results/<experiment>/tables/<table>.csv``).
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
}


def figure_spec(figure_id: str) -> FigureSpec:
    """The registry entry of ``figure_id``; ConfigError naming the known ids if there is none."""
    try:
        return FIGURES[figure_id]
    except KeyError:
        raise ConfigError(
            f"unknown figure {figure_id!r}; known figures: {', '.join(sorted(FIGURES))}"
        ) from None
