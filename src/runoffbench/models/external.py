r"""Import simulated streamflow of an external model (NWM retrospective, published VIC/mHM/FUSE/HBV
benchmark runs, ...) into the prediction contract: the worked example of "a model added as a rule".

Accepted files:

* **CSV, wide**: a ``date`` column (or the first column) and one column per basin id;
* **CSV, long**: columns ``date``, ``basin`` and the flow column (``--variable``, default ``qsim``);
* **NetCDF**: a variable (``--variable``) with dims ``basin`` and ``date`` (or ``time``) in any order.

Basin ids are zero-padded to the 8 digits of USGS ids (spreadsheets drop the leading zero). Flow in
m³/s or ft³/s is converted with the basin area :math:`A` [km²] of the forcing cache,

.. math:: Q\,[\text{mm/day}] = Q\,[\text{m}^3/\text{s}] \cdot \frac{86400 \cdot 1000}{A \cdot 10^6}
          = 86.4\, Q / A ,

the same area neuralhydrology uses for the observations. The observations (``qobs``) come from the
cache, so the file and the benchmark share one truth. Every basin of the file must be in the cache and
the file must cover every test day; otherwise a DataError names the file, the basins or the dates.
The NWM v2.0 retrospective's own files (hourly, per reach, UTC) have their importer,
:mod:`runoffbench.models.nwm_retrospective` (``format: nwm_retrospective``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.periods import Period
from runoffbench.predictions import make_predictions

log = logging.getLogger(__name__)

CUBIC_FEET = 0.028316846592  # m³

#: accepted units -> factor to m³/s, or None for depths already in mm/day
UNITS = {"mm/day": None, "m3/s": 1.0, "ft3/s": CUBIC_FEET}


def read_simulation(path: str | Path, variable: str = "qsim") -> pd.DataFrame:
    """Simulated flow as a table indexed by date with one column per 8-digit basin id."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"external simulation {path} does not exist")
    if path.suffix.lower() in {".nc", ".nc4", ".netcdf"}:
        table = _read_netcdf(path, variable)
    elif path.suffix.lower() == ".csv":
        table = _read_csv(path, variable)
    else:
        raise DataError(f"external simulation {path}: unknown format {path.suffix!r} (use .csv or .nc)")
    table.columns = [_basin_id(column, path) for column in table.columns]
    duplicated = sorted({b for b in table.columns if list(table.columns).count(b) > 1})
    if duplicated:
        raise DataError(f"external simulation {path}: basins {duplicated} appear more than once")
    return table.sort_index()


def to_mm_per_day(table: pd.DataFrame, units: str, area_km2: pd.Series, source: str | Path) -> pd.DataFrame:
    """Convert ``table`` (date x basin) from ``units`` to mm/day using ``area_km2`` per basin."""
    if units not in UNITS:
        raise ConfigError(f"external simulation {source}: unknown units {units!r}; use one of {list(UNITS)}")
    factor = UNITS[units]
    if factor is None:
        return table
    area = area_km2.reindex(table.columns).astype(float)
    if area.isna().any() or (area <= 0).any():
        bad = list(area.index[area.isna() | (area <= 0)])
        raise DataError(f"external simulation {source}: no positive basin area for {bad} to convert {units}")
    return table * factor * 86.4 / area


def import_simulation(
    path: str | Path,
    cache: xr.Dataset,
    test: Period,
    *,
    model: str,
    forcing: str,
    split: str,
    member: str | int = 0,
    units: str = "mm/day",
    variable: str = "qsim",
) -> xr.Dataset:
    """Read ``path`` and return the prediction dataset of its basins over the ``test`` period."""
    return simulation_predictions(read_simulation(path, variable), path, cache, test, model=model, forcing=forcing,
                                  split=split, member=member, units=units)


def simulation_predictions(
    table: pd.DataFrame,
    path: str | Path,
    cache: xr.Dataset,
    test: Period,
    *,
    model: str,
    forcing: str,
    split: str,
    member: str | int = 0,
    units: str = "mm/day",
    attrs: dict | None = None,
) -> xr.Dataset:
    """The prediction dataset of ``table`` (date x basin, read from ``path``, in ``units``) over ``test``:
    the checks and the conversion of :func:`import_simulation`, for importers of other formats."""
    cache_basins = [str(b) for b in cache["basin"].values]
    unknown = [b for b in table.columns if b not in cache_basins]
    if unknown:
        raise DataError(f"external simulation {path}: basins {unknown[:10]} are not in the forcing cache")
    observed = cache["qobs"].sel(date=slice(test.start, test.end))
    dates = pd.DatetimeIndex(observed["date"].values)
    missing = dates.difference(table.index)
    if len(missing):
        raise DataError(f"external simulation {path} lacks {len(missing)} day(s) of the test period {test} "
                        f"(first {missing[0].date()}, last {missing[-1].date()})")
    area = cache["area"].to_series() if "area" in cache.coords else pd.Series(dtype=float)
    area.index = area.index.astype(str)
    simulated = to_mm_per_day(table.loc[dates], units, area, path)
    basins = list(simulated.columns)
    log.info("imported %d basins x %d days from %s (%s)", len(basins), len(dates), path, units)
    return make_predictions(simulated.to_numpy().T, observed.sel(basin=basins).values, basins, dates,
                            model=model, forcing=forcing, split=split, member=member,
                            attrs={"source": str(path), "source_units": units, **(attrs or {})})


def _read_netcdf(path: Path, variable: str) -> pd.DataFrame:
    with xr.open_dataset(path) as dataset:
        if variable not in dataset:
            raise DataError(f"external simulation {path} has no variable {variable!r} "
                            f"(variables: {list(dataset.data_vars)})")
        flow = dataset[variable].load()
    if "time" in flow.dims:
        flow = flow.rename(time="date")
    if set(flow.dims) != {"basin", "date"}:
        raise DataError(f"external simulation {path}: {variable} has dims {flow.dims}, expected basin and date")
    return flow.transpose("date", "basin").to_pandas()


def _read_csv(path: Path, variable: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"basin": str})
    if {"date", "basin"} <= set(table.columns):
        if variable not in table.columns:
            raise DataError(f"external simulation {path}: long format without a {variable!r} column")
        table = table.pivot(index="date", columns="basin", values=variable)
    else:
        table = table.set_index("date" if "date" in table.columns else table.columns[0])
    try:
        table.index = pd.DatetimeIndex(pd.to_datetime(table.index), name="date")
    except (ValueError, TypeError) as error:
        raise DataError(f"external simulation {path}: cannot read the dates ({error})") from None
    return table.apply(pd.to_numeric, errors="coerce")


def _basin_id(column, path: Path) -> str:
    text = str(column).strip()
    if not text.isdigit() or len(text) > 8:
        raise DataError(f"external simulation {path}: column {column!r} is not a USGS basin id")
    return text.zfill(8)
