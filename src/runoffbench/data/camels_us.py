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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from runoffbench.data.variables import (
    MISSING_SENTINEL,
    TEMPERATURE_ROUNDING,
    VALID_RANGES,
    VARIABLES,
    canonical_name,
)
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


def _where(path: Path, basin: str | None) -> str:
    """``basin B: <path>`` (the basin from the file name when not given), for error messages."""
    basin = basin or (path.name[:8] if _BASIN_ID.match(path.name[:8]) else None)
    return f"basin {basin}: {path}" if basin else str(path)


def _field_counts(path: Path, first_line: int) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of the non-blank lines of ``path`` from line ``first_line`` on."""
    with path.open() as handle:
        for number, line in enumerate(handle, start=1):
            if number >= first_line and line.strip():
                yield number, line.split()


def _wrong_field_count(
    path: Path, first_line: int, expected: int, where: str, minimum: int | None = None
) -> DataError | None:
    """The error for the first line with a field count other than ``expected`` (or below
    ``minimum`` when given), or None. Only called once something is known to be wrong."""
    for number, fields in _field_counts(path, first_line):
        if len(fields) > expected or len(fields) < (expected if minimum is None else minimum):
            return DataError(f"{where}: line {number} has {len(fields)} fields, expected {expected}")
    return None


def _read_table(
    path: Path,
    first_line: int,
    names: list[str],
    where: str,
    minimum: int | None = None,
    text_columns: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read the whitespace-separated rows of ``path`` from line ``first_line`` into ``names``.

    Returns the table and the file line number of each row (blank lines are left out). A row with
    too many or too few fields (fewer than ``minimum`` when given) and a value that is not a number
    (outside ``text_columns``) raise :class:`DataError` naming the line.
    """
    dtype = {names.index(c): str for c in text_columns}
    try:
        table = pd.read_csv(
            path, sep=r"\s+", skiprows=first_line - 1, header=None, skip_blank_lines=False, dtype=dtype
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: no data rows") from None
    except (pd.errors.ParserError, ValueError) as error:
        problem = _wrong_field_count(path, first_line, len(names), where, minimum)
        raise problem or DataError(f"{where}: cannot parse the data rows ({error})") from None
    if table.shape[1] != len(names) and not (minimum is not None and minimum <= table.shape[1] < len(names)):
        raise _wrong_field_count(path, first_line, len(names), where, minimum) or DataError(
            f"{where}: rows have {table.shape[1]} fields, expected {len(names)}"
        )
    table.columns = names[: table.shape[1]]
    for name in names[table.shape[1]:]:
        table[name] = np.nan
    lines = np.arange(first_line, first_line + len(table))
    blank = table.isna().all(axis=1).to_numpy()
    if blank.any():
        table, lines = table.loc[~blank].reset_index(drop=True), lines[~blank]
    if table.empty:
        raise DataError(f"{where}: no data rows")
    for name in table.columns:
        if name in text_columns or pd.api.types.is_numeric_dtype(table[name]):
            continue
        numbers = pd.to_numeric(table[name], errors="coerce")
        bad = np.flatnonzero((table[name].notna() & numbers.isna()).to_numpy())
        if len(bad):
            raise DataError(
                f"{where}: line {lines[bad[0]]}: {name} value {table[name].iloc[bad[0]]!r} is not a number"
            )
        table[name] = numbers
    return table, lines


def _short_row(path: Path, line: int, expected: int, where: str, minimum: int | None = None) -> DataError | None:
    """The error for line ``line`` when it has fewer fields than expected, else None."""
    for number, fields in _field_counts(path, line):
        if len(fields) < (expected if minimum is None else minimum):
            return DataError(f"{where}: line {number} has {len(fields)} fields, expected {expected}")
        return None
    return None


def _dates(table: pd.DataFrame, lines: np.ndarray, where: str) -> pd.DatetimeIndex:
    """The dates of the rows, strictly increasing; an invalid, repeated or earlier date names its line."""
    parts = table[["year", "month", "day"]].to_numpy(dtype="float64")
    year, month, day = parts.T
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(parts).all(axis=1) & (parts == np.round(parts)).all(axis=1)
        whole &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (year >= 1) & (year <= 9999)
    months = np.where(whole, (year - 1970) * 12 + month - 1, 0).astype("int64").astype("datetime64[M]")
    dates = months.astype("datetime64[D]") + np.where(whole, day - 1, 0).astype("int64")
    valid = whole & (dates.astype("datetime64[M]") == months)
    bad = np.flatnonzero(~valid)
    if len(bad):
        shown = "-".join(
            f"{v:0{w}g}" if np.isfinite(v) else "?" for v, w in zip(parts[bad[0]], (4, 2, 2))
        )
        raise DataError(f"{where}: line {lines[bad[0]]}: {shown} is not a valid date")
    index = pd.DatetimeIndex(dates.astype("datetime64[ns]"), name="date")
    steps = _day_steps(index)
    backwards = np.flatnonzero(steps <= 0)
    if len(backwards):
        i = backwards[0] + 1
        date = index[i].date()
        if steps[backwards[0]] == 0:
            raise DataError(f"{where}: line {lines[i]}: date {date} repeats line {lines[i - 1]}")
        earlier = np.flatnonzero(index[:i] == index[i])
        repeated = f" (and repeats line {lines[earlier[0]]})" if len(earlier) else ""
        raise DataError(f"{where}: line {lines[i]}: date {date} follows {index[i - 1].date()}{repeated}; "
                        "dates must increase day by day")
    return index


def _day_steps(index: pd.DatetimeIndex) -> np.ndarray:
    """Days from each date to the next (whatever the index's time resolution)."""
    return np.diff(index.to_numpy().astype("datetime64[D]").astype("int64"))


def _gaps(index: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, int]]:
    """``(first missing day, number of missing days)`` of every gap in a strictly increasing index."""
    steps = _day_steps(index)
    return [(index[i] + pd.Timedelta(days=1), int(steps[i]) - 1) for i in np.flatnonzero(steps > 1)]


def _describe_gaps(gaps: list[tuple[pd.Timestamp, int]], shown: int = 3) -> str:
    def one(start, days):
        end = start + pd.Timedelta(days=days - 1)
        return f"{start.date()}" if days == 1 else f"{start.date()}..{end.date()} ({days} days)"

    listed = ", ".join(one(*gap) for gap in gaps[:shown])
    return listed + (f" and {len(gaps) - shown} more gap(s)" if len(gaps) > shown else "")


def _check_continuous(index: pd.DatetimeIndex, where: str) -> None:
    gaps = _gaps(index)
    if gaps:
        missing = sum(days for _, days in gaps)
        raise DataError(
            f"{where}: {missing} day{'s' if missing > 1 else ''} missing between {index[0].date()} and "
            f"{index[-1].date()}: {_describe_gaps(gaps)}; a forcing file must list every day (the CAMELS-US "
            "forcing files have no gaps)"
        )


def _first(what: str, rows: np.ndarray, lines: np.ndarray, index: pd.DatetimeIndex, value: str) -> str:
    """``line L (date): <value> <what>``, or the count and the first such day when there are several."""
    first = f"line {lines[rows[0]]} ({index[rows[0]].date()}): {value}"
    if len(rows) == 1:
        return f"{first} {what}"
    return f"{value.split(' = ')[0]} {what} on {len(rows)} days, first {first}"


def _check_values(table: pd.DataFrame, lines: np.ndarray, where: str) -> None:
    """Missing values, sentinels, physical ranges and Tmin <= Tmax; every problem in one error."""
    problems = []
    for name in table.columns:
        values = table[name].to_numpy(dtype="float64")
        units = VARIABLES.get(name, ("", ""))[0]
        empty = np.flatnonzero(np.isnan(values))
        if len(empty):
            problems.append(_first("has no value", empty, lines, table.index, name))
            continue
        sentinel = np.flatnonzero(values <= MISSING_SENTINEL)
        if len(sentinel):
            value = f"{name} = {values[sentinel[0]]:g} {units}".rstrip()
            problems.append(_first("is a missing-value sentinel (a forcing file must have none)", sentinel, lines,
                                   table.index, value))
            values = np.where(values <= MISSING_SENTINEL, np.nan, values)
        if name not in VALID_RANGES:
            continue
        low, high = VALID_RANGES[name]
        with np.errstate(invalid="ignore"):
            outside = np.flatnonzero((values < low) | (values > high))
        if len(outside):
            value = f"{name} = {values[outside[0]]:g} {units}"
            if low == 0 and (values[outside] < 0).all():
                problems.append(_first("is negative", outside, lines, table.index, value))
            else:
                problems.append(_first(f"is outside [{low:g}, {high:g}] {units}", outside, lines, table.index, value))
    if {"tmax", "tmin"} <= set(table):
        tmax, tmin = table["tmax"].to_numpy("float64"), table["tmin"].to_numpy("float64")
        with np.errstate(invalid="ignore"):
            inverted = np.flatnonzero(tmin - tmax > TEMPERATURE_ROUNDING + 1e-6)
        if len(inverted):
            i = inverted[0]
            value = f"tmin = {tmin[i]:g} degC exceeds tmax = {tmax[i]:g} degC"
            if len(inverted) == 1:
                problems.append(f"line {lines[i]} ({table.index[i].date()}): {value}")
            else:
                problems.append(f"tmin exceeds tmax on {len(inverted)} days, first line {lines[i]} "
                                f"({table.index[i].date()}): {value}")
    if problems:
        raise DataError(f"{where}: " + "; ".join(problems))


def read_forcing(
    path: str | Path, product: str | None = None, basin: str | None = None
) -> tuple[pd.DataFrame, ForcingHeader]:
    """Read one forcing file into a daily table with canonical column names, checked.

    Returns the table (``DatetimeIndex`` named ``date``; columns such as ``prcp``, ``tmax``,
    ``tmin``, ``srad``, ``vp``, ``dayl``, ``swe``) and the header. Raises :class:`DataError` naming
    the file, the basin, the line and the value for: a row with too many or too few fields, a value
    that is not a number or is missing, an invalid, repeated or out-of-order date, a missing day (the
    CAMELS-US forcing files list every day), a missing-value sentinel (-999), a value outside its
    physical range (:data:`~runoffbench.data.variables.VALID_RANGES`: negative precipitation, SWE,
    radiation, vapour pressure or day length, day length over 24 h, ...) and Tmin above Tmax by more
    than the two-decimal rounding. Warns (:class:`ForcingWarning`) when Tmax equals Tmin on every day,
    the signature of the v1p2 Maurer/NLDAS daily means (which therefore pass).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"forcing file {path} does not exist")
    where = _where(path, basin)
    header, columns = _read_header(path)
    names = ["year", "month", "day"] + [canonical_name(c) for c in columns[3:]]
    table, lines = _read_table(path, 5, names, where)
    incomplete = np.flatnonzero(table.isna().any(axis=1).to_numpy())
    if len(incomplete):
        short = _short_row(path, lines[incomplete[0]], len(names), where)
        if short:
            raise short
    table.index = _dates(table, lines, where)
    _check_continuous(table.index, where)
    table = table.drop(columns=[c for c in ("year", "month", "day", "hr") if c in table])
    _check_values(table, lines, where)
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

    -999 (flag ``M``), CAMELS's mark of a missing day, becomes NaN; so do days the file does not
    list (gaps are allowed here, unlike in forcing files). The table's ``attrs["sentinel_days"]``
    counts the -999 days. Any other negative value, a value that is not a number, a row with too
    many or too few fields and an invalid, repeated or out-of-order date raise :class:`DataError`
    naming the file, the basin and the line. Flags are kept as written (``A``, ``A:e``, ``M``, ...).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"streamflow file {path} does not exist")
    where = _where(path, basin)
    names = ["gauge", "year", "month", "day", "streamflow", "flag"]  # streamflow in cfs
    table, lines = _read_table(path, 1, names, where, minimum=5, text_columns=("gauge", "flag"))
    if basin is not None:
        others = sorted(set(table["gauge"].dropna().unique()) - {basin})
        if others:
            raise DataError(f"{path}: file for basin {basin} holds gauge id(s) {others}")
    incomplete = np.flatnonzero(table[names[:5]].isna().any(axis=1).to_numpy())
    if len(incomplete):
        raise _short_row(path, lines[incomplete[0]], len(names), where, minimum=5) or DataError(
            f"{where}: line {lines[incomplete[0]]}: streamflow has no value"
        )
    index = _dates(table, lines, where)
    q_cfs = table["streamflow"].to_numpy(dtype="float64")
    sentinel = q_cfs == MISSING_SENTINEL
    negative = np.flatnonzero((q_cfs < 0) & ~sentinel)
    if len(negative):
        i = negative[0]
        count = f" ({len(negative)} such days)" if len(negative) > 1 else ""
        raise DataError(
            f"{where}: line {lines[i]} ({index[i].date()}): streamflow {q_cfs[i]:g} cfs is negative{count}; "
            "only -999 marks a missing day"
        )
    qobs = np.where(sentinel, np.nan, q_cfs) * MM3_PER_FT3 * 86400.0 / (area_m2 * 1e6)
    flow = pd.DataFrame({"qobs": qobs, "flag": table["flag"].fillna("").to_numpy()}, index=index)
    flow.attrs["sentinel_days"] = int(sentinel.sum())
    return flow


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
