"""Figures, style, map outlines, regions and the figure registry and CLI."""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from runoffbench.cli import figure as figure_cli  # noqa: E402
from runoffbench.errors import ConfigError, DataError  # noqa: E402
from runoffbench.outputs import KINDS, output_kind  # noqa: E402
from runoffbench.plots.basin_map import plot_basin_map  # noqa: E402
from runoffbench.plots.conus import CONUS_EXTENT, shapes_in_extent  # noqa: E402
from runoffbench.plots.precip_bias import plot_precip_bias_by_huc  # noqa: E402
from runoffbench.plots.style import REGION_COLOURS, palette, save_figure  # noqa: E402
from runoffbench.regions import REGIONS, drop_small_regions, region_label, region_name  # noqa: E402

BIAS = [0.8, 0.9, 1.0, 1.1, 1.2, 1.5]


@pytest.fixture
def table() -> pd.DataFrame:
    """A water-balance table: 6 basins in regions 01, 10 and 17, daymet and nldas."""
    basins = pd.DataFrame({
        "basin": ["01013500", "01022500", "06431500", "06470800", "12010000", "12035000"],
        "huc_02": ["01", "01", "10", "10", "17", "17"],
        "lat": [47.2, 44.6, 44.0, 43.1, 46.5, 47.1],
        "lon": [-68.6, -67.9, -103.5, -98.0, -123.5, -121.0],
        "area": [2250.0, 573.0, 40.0, 180.0, 340.0, 1100.0],
    })
    daymet = basins.assign(forcing="daymet", prcp_ratio=1.0)
    nldas = basins.assign(forcing="nldas", prcp_ratio=BIAS)
    return pd.concat([daymet, nldas], ignore_index=True)


def test_regions_are_named_and_normalised():
    assert len(REGIONS) == 18
    assert region_name(1) == region_name("01") == "New England"
    assert region_label("18") == "18 California"
    with pytest.raises(DataError, match="'19'"):
        region_name("19")


def test_drop_small_regions_counts_distinct_basins(table):
    kept, dropped = drop_small_regions(table.iloc[[0, 1, 2, 6, 7, 8]], min_basins=2)
    assert dropped == ["10"]
    assert set(kept["huc_02"]) == {"01"}


def test_palette_keeps_known_colours_and_fills_unknown():
    colours = palette(["01", "new"], REGION_COLOURS)
    assert colours["01"] == REGION_COLOURS["01"]
    assert colours["new"] != colours["01"]
    assert len(set(REGION_COLOURS.values())) == 18


def test_save_figure_writes_pdf_and_png(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    pdf, png = save_figure(fig, tmp_path / "figures" / "line.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and png.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["line.pdf", "line.png"]
    assert not plt.fignum_exists(fig.number)


def test_conus_outlines_are_read_offline():
    states = shapes_in_extent("states", CONUS_EXTENT)
    assert len(states) > 100
    lon_min, lon_max, lat_min, lat_max = CONUS_EXTENT
    points = np.concatenate([shape[2] for shape in states])
    inside = (points[:, 0] > lon_min) & (points[:, 0] < lon_max) & (points[:, 1] > lat_min)
    assert inside.mean() > 0.5


def test_basin_map_draws_states_and_names_regions(table, tmp_path):
    fig = plot_basin_map(table, size_by_area=True)
    ax = fig.axes[0]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert any(c.get_label() == "states" and len(c.get_segments()) > 100 for c in lines)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["01 New England (2)", "10 Missouri (2)", "17 Pacific Northwest (2)"]
    pdf, png = save_figure(fig, tmp_path / "basin_map")
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_precip_bias_names_regions_and_counts(table, tmp_path):
    fig = plot_precip_bias_by_huc(table, "nldas", "daymet")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "01 New England", "10 Missouri", "17 Pacific Northwest"]
    assert ax.get_ylabel() == "P(nldas) / P(daymet) [-]"
    assert [t.get_text() for t in ax.texts] == ["n=2", "n=2", "n=2"]
    pdf, png = save_figure(fig, tmp_path / "precip_bias_by_huc.png")
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_precip_bias_between_any_two_forcings(table):
    fig = plot_precip_bias_by_huc(table, "daymet", "nldas")
    points = np.concatenate([c.get_offsets()[:, 1] for c in fig.axes[0].collections
                             if len(c.get_offsets()) == 2])
    np.testing.assert_allclose(sorted(points), sorted(1.0 / np.array(BIAS)))
    plt.close(fig)


def test_precip_bias_unknown_forcing_is_named(table):
    with pytest.raises(DataError, match="'maurer'"):
        plot_precip_bias_by_huc(table, "maurer", "daymet")


def test_registry_lists_the_first_figures():
    assert {"basin_map", "precip_bias_by_huc"} <= set(KINDS)
    assert [o.name for o in output_kind("precip_bias_by_huc").options if o.required] == ["forcing", "reference"]
    with pytest.raises(ValueError, match="basin_map"):
        output_kind("nope", "figures")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runoffbench")
    figure_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_figure_cli_writes_pdf_and_png(table, tmp_path):
    table.to_csv(tmp_path / "wb.csv", index=False)
    output = tmp_path / "figures" / "precip_bias_by_huc.pdf"
    args = parse(["figure", "precip_bias_by_huc", "--table", str(tmp_path / "wb.csv"),
                  "--output", str(output), "--forcing", "nldas", "--reference", "daymet"])
    assert args.run(args) == 0
    assert output.stat().st_size > 0 and output.with_suffix(".png").stat().st_size > 0


def test_figure_cli_asks_for_missing_options(table, tmp_path):
    table.to_csv(tmp_path / "wb.csv", index=False)
    args = parse(["figure", "precip_bias_by_huc", "--table", str(tmp_path / "wb.csv"),
                  "--output", str(tmp_path / "x.pdf")])
    with pytest.raises(ConfigError, match="--forcing, --reference"):
        args.run(args)
