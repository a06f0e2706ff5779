r"""MODIS MOD16A2 evapotranspiration as 8-day basin means at the CAMELS basins: the reference against which
Feng et al. (2022, Sect. 2.4, Table 2, Fig. 6) score the δ models' ET, an output they are never trained on.

The product
-----------
MOD16A2 (Running et al., version 006; LP DAAC, doi:10.5067/MODIS/MOD16A2.006) is a 500-m, 8-day
composite of actual evapotranspiration, band ``ET`` in kg/m² per composite (= mm) with a scale factor
of 0.1 (the stored integers are 0.1 mm), from 2001-01-01. Composites start on days of the year 1, 9,
17, …, 361: each covers 8 days, the last of a year 5 (6 in leap years). Pixel values 32761–32767 are
fill codes (water, barren, urban, …).

The basin means for CAMELS (what the importer reads)
----------------------------------------------------
The basin averages used by the MHPI group (Feng et al.'s co-workers; Ouyang's ``hydrodataset``
``ModisEt4Camels`` reader, data folder ``modiset4camels``) are one text file per basin,
``basin_mean_forcing/MOD16A2_006_CAMELS/<huc_02>/<gauge_id>_lump_modis16a2v006_et.txt``: comma-separated
with the header ``Year,Mnth,Day,Hr,ET(kg/m^2/8day),LE(J/m^2/day),PET(kg/m^2/8day),PLE(J/m^2/day),ET_QC``
and one row per composite (its first day), the ET value the basin mean of the stored integers — so
0.1 mm per composite, as that reader multiplies by 0.1. They are Google Earth Engine reductions of the
collection ``MODIS/006/MOD16A2`` (band ``ET``) over the CAMELS basin polygons (Newman et al. 2015's
``HCDN_nhru_final_671`` shapefile). To produce them: in Earth Engine, ``reduceRegions`` (mean) of each
image of ``MODIS/006/MOD16A2`` (or ``MODIS/061/MOD16A2``) over the basin polygons, exported per basin in
this layout; or NASA AppEEARS area requests (https://appeears.earthdatacloud.nasa.gov/) averaged per
basin. Point ``path`` at the folder (searched at any depth, so ``modiset4camels/`` as it is works).

Rules applied (:func:`read_modis_et`)
------------------------------------
* Units: the ET column's header names its unit; ``kg/m^2/8day`` (also ``mm/8day``, or a bare ``ET``
  column: the layout above) is read as ``scale`` × value mm per composite (``scale`` default 0.1, the
  product's; 1.0 for files of already scaled values). Any other unit is a DataError naming the file.
  The composite total is divided by its length (8, or 5/6 at the end of a year) to mm/day.
* Values ≥ 32760 (fill codes left in) and empty values are missing; a negative value or a composite
  mean above 25 mm/day (no basin evaporates that: an unscaled file read with the wrong ``scale``) is a
  DataError naming file and date.
* Dates must be MOD16A2 composite starts (day of year 1, 9, …, 361) without repeats; otherwise the file
  is not this product (a DataError).
* Basin set: every requested basin (the forcing cache's) needs a file; missing ones are a DataError
  naming them, unless ``missing_basins="skip"`` (then listed in the result's attribute
  ``missing_basins`` and logged). Files of other basins are ignored; a basin with two files is an error.
* Period: every composite starting in the requested period (the test period from 2001-01-01 on:
  MODIS begins then) must be in each file, otherwise a DataError names the basin and the first missing
  composite; a period entirely before 2001 is an error.

References
----------
Feng, D., Liu, J., Lawson, K. and Shen, C. (2022): Differentiable, learnable, regionalized process-based
    models with multiphysical outputs can approach state-of-the-art hydrologic prediction accuracy,
    Water Resour. Res., 58, e2022WR032404.
Mu, Q., Zhao, M. and Running, S. W. (2011): Improvements to a MODIS global terrestrial
    evapotranspiration algorithm, Remote Sens. Environ., 115, 1781–1800.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.periods import Period

log = logging.getLogger(__name__)

#: the first day of the MOD16A2 record
FIRST_DAY = pd.Timestamp("2001-01-01")
#: composite length [days] (the last composite of a year is shorter)
COMPOSITE_DAYS = 8
#: the product's scale factor: stored value × 0.1 = kg/m² (mm) per composite
SCALE = 0.1
#: stored values from here on are fill codes (32761–32767)
FILL_FROM = 32760.0
#: a composite mean above this [mm/day] is no evapotranspiration (a file read with the wrong scale)
MAX_DAILY = 25.0
MISSING_BASINS = ("error", "skip")
#: units of the ET column read as mm (kg/m²) per composite
PER_COMPOSITE = {"kg/m^2/8day", "kg/m2/8day", "kg m-2 8day-1", "mm/8day", "mm/8 day", "kg/m^2/8 day"}

_FILE = re.compile(r"^(\d{8})_lump_modis16a2v\d+_et\.txt$")
_ET_COLUMN = re.compile(r"^ET\s*(?:\((?P<unit>[^)]*)\))?$")


def composite_days(starts: pd.DatetimeIndex) -> np.ndarray:
    """Length [days] of the MOD16A2 composites starting on ``starts``: 8, the last of a year 5 or 6."""
    year_end = pd.DatetimeIndex([pd.Timestamp(year=y + 1, month=1, day=1) for y in starts.year])
    return np.minimum(COMPOSITE_DAYS, (year_end - starts).days.to_numpy())


def composite_starts(period: Period) -> pd.DatetimeIndex:
    """The MOD16A2 composites that start within ``period`` (from 2001-01-01)."""
    start = max(period.start, FIRST_DAY)
    days = pd.date_range(start, period.end)
    return days[(days.day_of_year - 1) % COMPOSITE_DAYS == 0]


def modis_files(path: str | Path) -> dict[str, Path]:
    """``<gauge_id>_lump_modis16a2v006_et.txt`` files at any depth below ``path``, by basin id."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"MODIS ET folder {path} does not exist (the basin means, see runoffbench.data.modis_et)")
    files: dict[str, Path] = {}
    for file in sorted(path.rglob("*_lump_modis16a2v*_et.txt")):
        match = _FILE.match(file.name)
        if not match:
            continue
        basin = match.group(1)
        if basin in files:
            raise DataError(f"MODIS ET: basin {basin} has two files, {files[basin]} and {file}")
        files[basin] = file
    if not files:
        raise DataError(f"MODIS ET folder {path} holds no <gauge_id>_lump_modis16a2v006_et.txt file")
    return files


def read_basin_file(file: str | Path, scale: float = SCALE) -> pd.Series:
    """One basin's composites: mean ET [mm/day] of each composite, indexed by its first day."""
    file = Path(file)
    try:
        table = pd.read_csv(file, sep=",", skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as error:
        raise DataError(f"MODIS ET {file}: cannot read it ({error})") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in ("Year", "Mnth", "Day") if c not in table.columns]
    et_columns = [c for c in table.columns if _ET_COLUMN.match(c)]
    if missing or not et_columns:
        raise DataError(f"MODIS ET {file}: columns {list(table.columns)}; expected Year, Mnth, Day and ET(kg/m^2/8day)")
    column = et_columns[0]
    unit = (_ET_COLUMN.match(column).group("unit") or "kg/m^2/8day").strip()
    if unit.replace(" ", "") not in {u.replace(" ", "") for u in PER_COMPOSITE}:
        raise DataError(f"MODIS ET {file}: ET is in {unit!r}; expected kg/m^2/8day (mm per 8-day composite, "
                        "MOD16A2)")
    try:
        starts = pd.DatetimeIndex(pd.to_datetime(pd.DataFrame({"year": table["Year"], "month": table["Mnth"],
                                                               "day": table["Day"]})), name="date")
    except (ValueError, TypeError) as error:
        raise DataError(f"MODIS ET {file}: cannot read the dates ({error})") from None
    off = starts[(starts.day_of_year - 1) % COMPOSITE_DAYS != 0]
    if len(off):
        raise DataError(f"MODIS ET {file}: {len(off)} date(s) are no MOD16A2 composite start (day of year 1, 9, "
                        f"…, 361), first {off[0].date()}: not 8-day MOD16A2 composites")
    if starts.has_duplicates or not starts.is_monotonic_increasing:
        raise DataError(f"MODIS ET {file}: dates repeated or out of order")
    raw = pd.to_numeric(table[column], errors="coerce").to_numpy(float, copy=True)
    raw[raw >= FILL_FROM] = np.nan
    negative = np.flatnonzero(raw < 0)
    if negative.size:
        raise DataError(f"MODIS ET {file}: negative ET {raw[negative[0]]} on {starts[negative[0]].date()}")
    daily = raw * scale / composite_days(starts)
    too_high = np.flatnonzero(daily > MAX_DAILY)
    if too_high.size:
        raise DataError(f"MODIS ET {file}: {daily[too_high[0]]:.1f} mm/day on {starts[too_high[0]].date()} is no "
                        f"evapotranspiration; are the values scaled differently (scale {scale})?")
    return pd.Series(daily, index=starts, name="et")


def read_modis_et(path: str | Path, basins: Sequence[str], period: Period, scale: float = SCALE,
                  missing_basins: str = "error") -> xr.Dataset:
    """The composites of ``basins`` starting within ``period``: ``et`` (basin, date) [mm/day, composite
    mean] and ``days`` (date) the composite lengths; the rules of the module docstring."""
    if missing_basins not in MISSING_BASINS:
        raise ConfigError(f"missing_basins: {missing_basins!r} is not one of {', '.join(MISSING_BASINS)}")
    if period.end < FIRST_DAY:
        raise DataError(f"MODIS ET: the period {period} ends before the MOD16A2 record starts ({FIRST_DAY.date()})")
    starts = composite_starts(period)
    files = modis_files(path)
    lacking = [b for b in basins if b not in files]
    if lacking and (missing_basins == "error" or len(lacking) == len(basins)):
        raise DataError(f"MODIS ET {path}: {len(lacking)} of {len(basins)} basin(s) have no file "
                        f"({', '.join(lacking[:10])}{' …' if len(lacking) > 10 else ''}); another basin set? "
                        "(missing_basins: skip leaves them out)")
    if lacking:
        log.warning("MODIS ET %s: %d basin(s) without a file left out: %s", path, len(lacking), ", ".join(lacking))
    kept = [b for b in basins if b in files]
    values = np.full((len(kept), len(starts)), np.nan)
    for row, basin in enumerate(kept):
        series = read_basin_file(files[basin], scale)
        absent = starts.difference(series.index)
        if len(absent):
            raise DataError(f"MODIS ET {files[basin]}: lacks {len(absent)} composite(s) of the period "
                            f"{starts[0].date()}..{period.end.date()} (first {absent[0].date()}; the file covers "
                            f"{series.index[0].date()}..{series.index[-1].date()}): another period?")
        values[row] = series.reindex(starts).to_numpy()
    log.info("MODIS ET: %d basins x %d composites (%s..%s), %d missing values", len(kept), len(starts),
             starts[0].date(), starts[-1].date(), int(np.isnan(values).sum()))
    return xr.Dataset(
        {"et": (("basin", "date"), values.astype("float32"),
                {"units": "mm/day", "long_name": "MOD16A2 actual evapotranspiration, mean of the 8-day composite"}),
         "days": ("date", composite_days(starts).astype("int16"), {"long_name": "days of the composite"})},
        coords={"basin": np.array(kept, dtype=object), "date": starts},
        attrs={"source": str(path), "scale": scale, "missing_basins": " ".join(lacking)},
    )


def composite_means(daily: pd.DataFrame, starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Means of daily values (date × basin) over the composites starting on ``starts`` (NaN where a day of
    the composite is missing)."""
    lengths = composite_days(starts)
    rows = []
    for start, length in zip(starts, lengths):
        window = daily.loc[start : start + pd.Timedelta(days=int(length) - 1)]
        rows.append(window.mean(skipna=False) if len(window) == length else pd.Series(np.nan, index=daily.columns))
    return pd.DataFrame(rows, index=starts)
