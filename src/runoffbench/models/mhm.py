r"""mHM simulations (e.g. the MPR-mHM runs of Rakovec et al. 2019 at the CAMELS basins) imported into the
prediction contract (docs/architecture.md, contract 2): ``format: mhm`` of an external model.

What the files are
------------------
Rakovec et al. (2019) ran the mesoscale Hydrologic Model mHM (v5, multiscale parameter regionalisation,
MPR) over the CAMELS basins, calibrated per basin and CONUS-wide; Feng et al. (2022, Fig. 2) draw its
NSE and KGE distributions as the process-based reference (dashed). mHM writes the routed streamflow
at the evaluation gauges in two files of its output folder (mHM's ``mo_mrm_write``,
``write_daily_obs_sim_discharge``), one run per basin or several gauges per run:

* ``daily_discharge.out`` — whitespace-separated text, a header ``No Day Mon Year Qobs_<id> Qsim_<id>
  …`` (``<id>`` the gauge id written with 10 digits, ``0001013500`` for USGS 01013500), one row per
  day of the evaluation period, flows in m³/s, -9999 where missing;
* ``discharge.nc`` — NetCDF, dimension ``time`` (``hours since <first day> 00:00:00``, the value of
  day t is 24 t − 1, i.e. 23:00 of that day), variables ``Qsim_<id>`` and ``Qobs_<id>`` with
  ``units = "m3 s-1"`` and ``missing_value = -9999``.

Where to get them: the simulations belong to Rakovec et al. (2019, JGR Atmospheres 124, 13991,
doi:10.1029/2019JD030767; see the paper's data-availability statement, UFZ Leipzig); no public file
link could be pinned here. Keep each run's output folder as mHM wrote it (or copy its
``daily_discharge.out`` / ``discharge.nc``) below one folder and point ``path`` at it: the folder is
searched at any depth; where a folder holds both files the NetCDF is read.

Rules applied
-------------
* Flows are converted from m³/s to mm/day with the forcing cache's basin areas
  (:func:`runoffbench.models.external.to_mm_per_day`); the observations come from the cache, as for
  every model. A NetCDF variable with another ``units`` attribute is a DataError.
* A gauge id must be a USGS id (at most 8 significant digits, zero-padded to 8); a basin in two files
  is a DataError naming both.
* The import predicts the cache's basins: a basin mHM lacks, or whose simulation is missing on an
  observed test day, stops the import with the basins named, unless ``missing_basins: skip`` (then
  logged, left out and listed in the prediction file's attribute ``missing_basins``); gauges outside
  the cache are ignored. A file not covering the test period stops the import ("lacks N day(s)").

References
----------
Rakovec, O., Mizukami, N., Kumar, R., Newman, A. J., Thober, S., Wood, A. W., Clark, M. P. and
    Samaniego, L. (2019): Diagnostic evaluation of large-domain hydrologic models calibrated across
    the contiguous United States, J. Geophys. Res. Atmos., 124, 13991–14007, doi:10.1029/2019JD030767.
Samaniego, L., Kumar, R. and Attinger, S. (2010): Multiscale parameter regionalization of a grid-based
    hydrologic model at the mesoscale, Water Resour. Res., 46, W05523.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.models.external import simulation_predictions
from runoffbench.periods import Period

log = logging.getLogger(__name__)

TEXT_FILE = "daily_discharge.out"
NETCDF_FILE = "discharge.nc"
#: mHM's nodata value (mo_common_constants nodata_dp)
NODATA = -9999.0
MISSING_BASINS = ("error", "skip")
_SIMULATED = re.compile(r"^Qsim_(\d+)$")
_M3S = {"m3 s-1", "m3/s", "m^3/s", "m3 s^-1", "m^3 s^-1", "m**3/s"}


def find_files(path: str | Path) -> list[Path]:
    """The mHM discharge files at ``path`` (a file, or a folder searched at any depth; the NetCDF where a
    folder holds both)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"mHM simulation {path} does not exist")
    found: dict[Path, Path] = {}
    for file in sorted(path.rglob(NETCDF_FILE)) + sorted(path.rglob(TEXT_FILE)):
        found.setdefault(file.parent, file)
    if not found:
        raise DataError(f"mHM simulation {path}: no {NETCDF_FILE} or {TEXT_FILE} below it")
    return sorted(found.values())


def read_mhm_discharge(path: str | Path) -> pd.DataFrame:
    """Simulated discharge [m³/s] of every gauge of the mHM files at ``path``: dates × 8-digit basin ids."""
    tables, origin = [], {}
    for file in find_files(path):
        table = _read_netcdf(file) if file.suffix == ".nc" else _read_text(file)
        for basin in table.columns:
            if basin in origin:
                raise DataError(f"mHM simulation: basin {basin} is in {origin[basin]} and in {file}")
            origin[basin] = file
        tables.append(table)
    table = pd.concat(tables, axis=1).sort_index()
    if table.index.has_duplicates:
        raise DataError(f"mHM simulation {path}: repeated dates")
    return table


def import_mhm(path: str | Path, cache: xr.Dataset, test: Period, *, model: str, forcing: str, split: str,
               member: str | int = 0, missing_basins: str = "error") -> xr.Dataset:
    """The prediction dataset of the mHM simulations at ``path`` for the cache's basins over ``test``."""
    if missing_basins not in MISSING_BASINS:
        raise ConfigError(f"missing_basins: {missing_basins!r} is not one of {', '.join(MISSING_BASINS)}")
    table = read_mhm_discharge(path)
    basins = [str(b) for b in cache["basin"].values]
    observed = cache["qobs"].sel(date=slice(test.start, test.end)).to_pandas().T  # date x basin
    lacking = [b for b in basins if b not in table.columns]
    present = [b for b in basins if b in table.columns]
    dates = observed.index
    missing_days = dates.difference(table.index)
    if len(missing_days):
        raise DataError(f"mHM simulation {path} lacks {len(missing_days)} day(s) of the test period {test} (first "
                        f"{missing_days[0].date()}, last {missing_days[-1].date()}; the files cover "
                        f"{table.index[0].date()}..{table.index[-1].date()})")
    simulated = table.reindex(index=dates, columns=present)
    incomplete = [b for b in present if (observed[b].notna() & simulated[b].isna()).any()]
    problems = lacking + incomplete
    if problems:
        what = (f"{len(lacking)} basin(s) of the cache are not in the mHM files ({', '.join(lacking[:10])}"
                f"{' …' if len(lacking) > 10 else ''})" if lacking else "")
        what += ("; " if lacking and incomplete else "") + (
            f"{len(incomplete)} basin(s) lack simulated flow on observed test days ({', '.join(incomplete[:10])})"
            if incomplete else "")
        if missing_basins == "error":
            raise DataError(f"mHM simulation {path}: {what}; set missing_basins: skip to leave them out")
        log.warning("mHM simulation %s: %s; left out (missing_basins: skip)", path, what)
    kept = [b for b in basins if b not in problems]
    if not kept:
        raise DataError(f"mHM simulation {path}: no basin of the cache is complete")
    return simulation_predictions(table[kept], path, cache, test, model=model, forcing=forcing, split=split,
                                  member=member, units="m3/s",
                                  attrs={"source_format": "mhm", "missing_basins": " ".join(sorted(problems))})


def _basin(gauge: str, file: Path) -> str:
    digits = gauge.lstrip("0") or "0"
    if len(digits) > 8:
        raise DataError(f"mHM simulation {file}: gauge {gauge!r} is not a USGS basin id (more than 8 digits)")
    return digits.zfill(8)


def _read_text(file: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(file, sep=r"\s+")
    except (ValueError, pd.errors.ParserError) as error:
        raise DataError(f"mHM simulation {file}: cannot read it ({error})") from None
    if list(table.columns[:4]) != ["No", "Day", "Mon", "Year"]:
        raise DataError(f"mHM simulation {file}: header starts {list(table.columns[:4])}, expected No Day Mon Year "
                        "(mHM's daily_discharge.out)")
    try:
        dates = pd.to_datetime(pd.DataFrame({"year": table["Year"], "month": table["Mon"], "day": table["Day"]}))
    except (ValueError, TypeError) as error:
        raise DataError(f"mHM simulation {file}: cannot read the dates ({error})") from None
    columns = {_basin(m.group(1), file): name for name in table.columns if (m := _SIMULATED.match(name))}
    if not columns:
        raise DataError(f"mHM simulation {file}: no Qsim_<gauge> column")
    flows = table[list(columns.values())].apply(pd.to_numeric, errors="coerce").set_axis(list(columns), axis=1)
    flows.index = pd.DatetimeIndex(dates, name="date")
    return flows.mask(flows <= NODATA + 0.5)


def _read_netcdf(file: Path) -> pd.DataFrame:
    try:
        with xr.open_dataset(file) as dataset:
            names = [name for name in dataset.data_vars if _SIMULATED.match(str(name))]
            if not names:
                raise DataError(f"mHM simulation {file}: no Qsim_<gauge> variable")
            if "time" not in dataset.dims:
                raise DataError(f"mHM simulation {file}: no time dimension")
            flows = {}
            for name in names:
                units = str(dataset[name].attrs.get("units", "m3 s-1")).strip()
                if units not in _M3S:
                    raise DataError(f"mHM simulation {file}: {name} has units {units!r}, expected m3 s-1")
                values = np.asarray(dataset[name].values, dtype=float)
                flows[_basin(_SIMULATED.match(str(name)).group(1), file)] = np.where(values <= NODATA + 0.5, np.nan,
                                                                                    values)
            times = pd.DatetimeIndex(dataset["time"].values)
    except (OSError, ValueError) as error:
        raise DataError(f"mHM simulation {file}: cannot read it ({error})") from None
    return pd.DataFrame(flows, index=pd.DatetimeIndex(times.normalize(), name="date"))
