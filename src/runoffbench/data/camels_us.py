"""Readers for the CAMELS-US archives in their original NCAR/HydroShare layout.

Layout (Newman et al. 2015; Addor et al. 2017; HUC sub-folders optional)::

    <root>/basin_dataset_public_v1p2/basin_mean_forcing/<product>/<huc>/<id>_lump_<tag>_forcing_leap.txt
    <root>/basin_dataset_public_v1p2/usgs_streamflow/<huc>/<id>_streamflow_qc.txt
    <root>/camels_attributes_v2.0/camels_{clim,geol,hydro,name,soil,topo,vege}.txt

Forcing files start with three header lines (basin-mean latitude, elevation in m, area in m²) and a
line of column names; products spell the columns differently (``prcp(mm/day)`` vs ``PRCP(mm/day)``),
and the readers map them onto one canonical naming (:mod:`runoffbench.data.variables`).

Streamflow is converted from cfs to mm/day with the area of the forcing header, as neuralhydrology
does: ``q_mm = q_cfs · 28316846.592 · 86400 / (area_m² · 10⁶)`` (28316846.592 mm³ per ft³).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from runoffbench.data.variables import canonical_name
from runoffbench.errors import ConfigError, DataError

TIMESERIES_DIR = "basin_dataset_public_v1p2"
ATTRIBUTES_DIR = "camels_attributes_v2.0"
ATTRIBUTE_TABLES = ("clim", "geol", "hydro", "name", "soil", "topo", "vege")
MM3_PER_FT3 = 28316846.592
_BASIN_ID = re.compile(r"^\d{8}$")


class ForcingWarning(UserWarning):
    """A forcing file is readable but scientifically questionable (e.g. Tmax == Tmin)."""


@dataclass(frozen=True)
class ForcingProduct:
    """A CAMELS-US forcing product: its folder and known quirks."""

    name: str
    folder: str
    #: the v1p2 Maurer/NLDAS files store the daily mean temperature in both Tmax and Tmin
    daily_mean_temperature: bool = False
    #: the product to use instead when ``daily_mean_temperature`` is set
    replacement: str | None = None


FORCING_PRODUCTS: dict[str, ForcingProduct] = {
    p.name: p
    for p in (
        ForcingProduct("daymet", "daymet"),
        ForcingProduct("maurer", "maurer", True, "maurer_extended"),
        ForcingProduct("nldas", "nldas", True, "nldas_extended"),
        ForcingProduct("maurer_extended", "maurer_extended"),
        ForcingProduct("nldas_extended", "nldas_extended"),
    )
}


@dataclass(frozen=True)
class ForcingHeader:
    """The three numeric header lines of a forcing file."""

    lat: float
    elev: float
    area_m2: float


def forcing_product(name: str) -> ForcingProduct:
    """Look up a forcing product by its configuration name."""
    try:
        return FORCING_PRODUCTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown forcing {name!r}; CAMELS-US provides {', '.join(FORCING_PRODUCTS)}"
        ) from None


def check_basin_id(basin: str, source: str = "basin list") -> str:
    """Return ``basin`` if it is an 8-digit USGS id, else raise naming ``source``."""
    basin = str(basin).strip()
    if _BASIN_ID.match(basin):
        return basin
    if basin.isdigit() and len(basin) == 7:
        raise DataError(
            f"{source}: basin id {basin!r} has 7 digits; USGS ids have 8 — it lost its leading "
            f"zero (did a spreadsheet or an integer column read it?), use {basin.zfill(8)!r}"
        )
    raise DataError(f"{source}: {basin!r} is not an 8-digit USGS basin id")


def read_basin_list(path: str | Path) -> list[str]:
    """Read a basin list (one id per line, ``#`` comments allowed) as 8-character strings."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"basin list {path} does not exist")
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    basins = [check_basin_id(line, f"basin list {path}") for line in lines if line]
    if not basins:
        raise DataError(f"basin list {path} lists no basins")
    duplicates = sorted({b for b in basins if basins.count(b) > 1})
    if duplicates:
        raise DataError(f"basin list {path} lists {', '.join(duplicates)} more than once")
    return basins


def _find_one(folder: Path, pattern: str, what: str, basin: str) -> Path:
    if not folder.is_dir():
        raise DataError(f"basin {basin}: folder {folder} for {what} does not exist")
    matches = sorted(folder.glob(pattern)) or sorted(folder.glob(f"*/{pattern}"))
    if not matches:
        raise DataError(f"basin {basin}: no {what} file {pattern!r} under {folder}")
    if len(matches) > 1:
        listed = ", ".join(str(m) for m in matches)
        raise DataError(f"basin {basin}: several {what} files match under {folder}: {listed}")
    return matches[0]


def forcing_path(root: str | Path, forcing: str, basin: str) -> Path:
    """Locate the forcing file of ``basin`` for product ``forcing`` (HUC sub-folder optional)."""
    folder = Path(root) / TIMESERIES_DIR / "basin_mean_forcing" / forcing_product(forcing).folder
    return _find_one(folder, f"{basin}_lump_*_forcing_leap.txt", f"{forcing} forcing", basin)


def streamflow_path(root: str | Path, basin: str) -> Path:
    """Locate the USGS streamflow file of ``basin`` (HUC sub-folder optional)."""
    folder = Path(root) / TIMESERIES_DIR / "usgs_streamflow"
    return _find_one(folder, f"{basin}_streamflow_qc.txt", "streamflow", basin)


def _read_header(path: Path) -> tuple[ForcingHeader, list[str]]:
    with path.open() as handle:
        lines = [handle.readline() for _ in range(4)]
    if not lines[3].strip():
        raise DataError(f"{path}: truncated header, expected 4 lines (latitude, elevation, area, column names)")
    try:
        lat, elev, area = (float(line) for line in lines[:3])
    except ValueError:
        raise DataError(
            f"{path}: header lines 1-3 must be latitude, elevation [m] and area [m2], got "
            f"{[line.strip() for line in lines[:3]]}"
        ) from None
    columns = lines[3].split()
    if [c.lower() for c in columns[:3]] != ["year", "mnth", "day"]:
        raise DataError(f"{path}: line 4 must start with 'Year Mnth Day', got {lines[3].strip()!r}")
    if not (-90 <= lat <= 90 and area > 0):
        raise DataError(f"{path}: implausible header latitude {lat} or area {area} m2")
    return ForcingHeader(lat, elev, area), columns


def _dates(table: pd.DataFrame, path: Path) -> pd.DatetimeIndex:
    try:
        dates = pd.to_datetime(
            {"year": table["year"], "month": table["month"], "day": table["day"]}
        )
    except (ValueError, KeyError) as error:
        raise DataError(f"{path}: invalid dates ({error})") from None
    index = pd.DatetimeIndex(dates, name="date")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise DataError(f"{path}: dates are not strictly increasing")
    return index


def read_forcing(path: str | Path, product: str | None = None) -> tuple[pd.DataFrame, ForcingHeader]:
    """Read one forcing file into a daily table with canonical column names.

    Returns the table (``DatetimeIndex`` named ``date``; columns such as ``prcp``, ``tmax``,
    ``tmin``, ``srad``, ``vp``, ``dayl``, ``swe``) and the header. Warns (:class:`ForcingWarning`)
    when Tmax equals Tmin on every day, the signature of the v1p2 Maurer/NLDAS daily means.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"forcing file {path} does not exist")
    header, columns = _read_header(path)
    names = ["year", "month", "day"] + [canonical_name(c) for c in columns[3:]]
    try:
        table = pd.read_csv(path, sep=r"\s+", skiprows=4, header=None, names=names)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{path}: cannot parse the data rows ({error})") from None
    if table.empty:
        raise DataError(f"{path}: no data rows after the header")
    table.index = _dates(table, path)
    table = table.drop(columns=[c for c in ("year", "month", "day", "hr") if c in table])
    non_numeric = [c for c in table if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise DataError(f"{path}: non-numeric values in column(s) {non_numeric}")
    _warn_daily_mean_temperature(table, path, product)
    return table.astype("float64"), header


def _warn_daily_mean_temperature(table: pd.DataFrame, path: Path, product: str | None) -> None:
    if not {"tmax", "tmin"} <= set(table) or not np.allclose(table["tmax"], table["tmin"]):
        return
    replacement = FORCING_PRODUCTS[product].replacement if product in FORCING_PRODUCTS else None
    advice = (
        f"use {replacement!r} (the HydroShare extended product) for daily extremes"
        if replacement
        else "use an extended product (maurer_extended, nldas_extended) for daily extremes"
    )
    warnings.warn(
        f"{path}: Tmax equals Tmin on every day — these are daily mean temperatures; {advice}",
        ForcingWarning,
        stacklevel=3,
    )


def read_streamflow(path: str | Path, area_m2: float, basin: str | None = None) -> pd.DataFrame:
    """Read a USGS streamflow file; return ``qobs`` [mm/day] and the quality ``flag`` per day.

    −999 (flag ``M``) and any negative value become NaN; flags are kept as written (``A``,
    ``A:e``, ``M``, …).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"streamflow file {path} does not exist")
    names = ["gauge", "year", "month", "day", "q_cfs", "flag"]
    try:
        table = pd.read_csv(
            path, sep=r"\s+", header=None, names=names, dtype={"gauge": str, "flag": str}
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{path}: cannot parse streamflow rows ({error})") from None
    if table.empty:
        raise DataError(f"{path}: no streamflow rows")
    if not pd.api.types.is_numeric_dtype(table["q_cfs"]):
        raise DataError(f"{path}: streamflow column is not numeric")
    if basin is not None:
        others = sorted(set(table["gauge"]) - {basin})
        if others:
            raise DataError(f"{path}: file for basin {basin} holds gauge id(s) {others}")
    index = _dates(table, path)
    q_cfs = table["q_cfs"].to_numpy(dtype="float64")
    q_cfs = np.where(q_cfs < 0, np.nan, q_cfs)
    qobs = q_cfs * MM3_PER_FT3 * 86400.0 / (area_m2 * 1e6)
    return pd.DataFrame(
        {"qobs": qobs, "flag": table["flag"].fillna("").to_numpy()}, index=index
    )


def read_attributes(root: str | Path, basins: list[str] | None = None) -> pd.DataFrame:
    """Read and join the seven CAMELS attribute tables; index ``gauge_id`` (8-character strings).

    ``huc_02`` is returned zero-padded ("01"). With ``basins``, returns those rows in that order
    and raises naming any basin the tables lack.
    """
    folder = Path(root) / ATTRIBUTES_DIR
    tables = []
    for name in ATTRIBUTE_TABLES:
        path = folder / f"camels_{name}.txt"
        if not path.is_file():
            raise DataError(f"attribute table {path} does not exist")
        table = pd.read_csv(path, sep=";", dtype={"gauge_id": str, "huc_02": str})
        if "gauge_id" not in table:
            raise DataError(f"{path}: no 'gauge_id' column (is it ';'-separated?)")
        table.columns = [c.strip() for c in table.columns]
        table["gauge_id"] = [check_basin_id(g, str(path)) for g in table["gauge_id"]]
        tables.append(table.set_index("gauge_id"))
    attributes = pd.concat(tables, axis=1, join="outer")
    attributes = attributes.loc[:, ~attributes.columns.duplicated()]
    if "huc_02" in attributes:
        attributes["huc_02"] = attributes["huc_02"].astype(str).str.strip().str.zfill(2)
    if basins is None:
        return attributes
    missing = [b for b in basins if b not in attributes.index]
    if missing:
        raise DataError(f"attribute tables under {folder} have no rows for basin(s) {missing}")
    return attributes.loc[list(basins)]
