r"""The National Water Model v2.0 retrospective (NWM-Rv2) at the CAMELS gauges as an external model.

NOAA's NWM v2.0 retrospective is an hourly simulation of 1993-01-01 00:00 to 2018-12-31 23:00 UTC on
the 2.7 million NHDPlus v2 reaches of the contiguous US, forced by NLDAS-2 meteorology, without data
assimilation (NOAA Office of Water Prediction; AWS open-data registry ``nwm-archive``). Frame et al. (2022, 2023)
use it as the process-based benchmark of their LSTM, MC-LSTM and SAC-SMA runs on CAMELS ("NWM*" of
Frame et al. 2023, on time split 2 with NLDAS forcing only, since the retrospective starts in 1993).

Input: what a user downloads
----------------------------
(a) **a directory of hourly channel files** (searched recursively), as in the bucket
    ``s3://noaa-nwm-retro-v2.0-pds/full_physics/YYYY/YYYYMMDDHH00.CHRTOUT_DOMAIN1.comp``: NetCDF4 with
    ``feature_id(feature_id)`` (the reach's NHDPlus COMID), ``time(time)`` (one valid time, minutes
    since 1970-01-01 UTC) and ``streamflow(feature_id)`` in ``m3 s-1`` (packed int32, scale factor
    0.01, ``_FillValue`` -999900). Files holding any subset of the reaches are accepted (e.g. cut to
    the CAMELS reaches with ``ncks``); a file's time comes from ``time``, else from its name.
(b) **one time series** with ``streamflow(time, feature_id)``: a NetCDF file, or a Zarr store such as
    ``s3://noaa-nwm-retro-v2-zarr-pds`` (the same simulation's streamflow, us-west-2) or a local copy
    of its CAMELS reaches (reading Zarr needs the ``zarr`` package).

Either is mapped to the gauges by a **crosswalk**:

* the NWM v2.0 *RouteLink* NetCDF (``RouteLink_NWMv2.0.nc``, in the operational release
  ``nwm.v2.0.x/parm/domain/RouteLink_NHDPLUS.nc``): ``link(feature_id)`` is the reach id of the
  channel files and ``gages(feature_id, IDLength)`` the USGS site number of the gauge on that reach
  (blank-padded characters, blank where none);
* or a CSV with a gauge column (``gauge``, ``gauge_id``, ``basin``, ``site_no``, ``usgs_site_code`` or
  ``gages``) and a reach column (``link``, ``feature_id``, ``comid`` or ``nwm_feature_id``; ``link``
  first: hydrotools' ``RouteLink_NWMv2.0.csv`` export has both, and its ``nwm_feature_id`` is not
  the reach id).

Every basin of the forcing cache must have exactly one reach in the crosswalk, and that reach must be
in the flow data; otherwise a :class:`~runoffbench.errors.DataError` names the gauges and the file.

Hourly UTC to daily local standard time
---------------------------------------
NWM valid times are UTC; CAMELS streamflow is USGS daily values, the mean over the gauge's local
*standard*-time day (midnight to midnight, no daylight-saving shift). A basin :math:`b` gets a whole
hour offset :math:`\Delta_b` (local = UTC + :math:`\Delta_b`) and day :math:`d` the 24 hourly values
valid at its local times 00:00, 01:00, ..., 23:00:

.. math:: \bar Q_b(d) = \frac{1}{24} \sum_{h=0}^{23} Q_b\big(d + h\,\text{h} - \Delta_b\big)
          \qquad \text{(UTC arguments)},

and NaN unless all 24 values are present and valid (a missing file or a fill value makes the day
NaN; a day is never a mean of fewer hours). Then, with the cache's basin area :math:`A` [km²]
(:func:`runoffbench.models.external.to_mm_per_day`),

.. math:: q_b(d)\,[\text{mm/day}] = \bar Q_b(d)\,[\text{m}^3/\text{s}] \cdot
          \frac{86400 \cdot 1000}{A \cdot 10^6} = 86.4\,\bar Q_b(d) / A .

``timezone`` chooses :math:`\Delta_b`:

``longitude`` (default)
    the gauge's nominal standard time zone, :math:`\Delta_b = \operatorname{round}(\lambda_b / 15°)`
    hours from the cache's gauge longitude :math:`\lambda_b` (UTC-5 east of 82.5° W, UTC-6 to
    97.5° W, UTC-7 to 112.5° W, UTC-8 beyond). Why: it is the standard-time day of the observations
    to the nearest zone meridian, needs nothing beyond the cache, and a whole hour keeps 24 NWM
    samples per day. Legal zones bend away from the meridians (Georgia, Ohio, Michigan or eastern
    Tennessee keep Eastern time west of 82.5° W; parts of Texas, Kansas and the Dakotas keep Central
    time west of 97.5° W): there the day is one hour off, i.e. 1/24 of a day's volume moves to the
    neighbouring day, which daily NSE/KGE hardly see. A basin that needs its legal zone takes a fixed
    offset (below) in a configuration of its own.
``local_mean``
    local mean solar time, :math:`t_\text{UTC} + 4\,\text{min} \cdot \lambda_b`, as Frame et al.
    shift the NWM (jmframe/nwm-reanalysis-model-data-processing, ``average_streamflow_local_day``,
    from which their ``nwm_chrt_v2_1d_local.p`` comes). On whole-hour samples its day is
    :math:`\Delta_b = \lfloor \lambda_b / 15° \rfloor`: up to one hour later than ``longitude``.
    Differences to theirs: every basin uses its own longitude (their notebook computes the shift once,
    from the first basin's), and incomplete days are NaN (theirs are means of the hours present).
``utc``
    :math:`\Delta_b = 0`, the UTC day (what a plain daily resample of the NWM gives).
a fixed offset, e.g. ``-6`` or ``UTC-6``
    the same :math:`\Delta_b` for every basin (a single-zone basin set, or checking the sensitivity).

References
----------
Frame, J. M., Kratzert, F., Raney, A., Rahman, M., Salas, F. R. and Nearing, G. S. (2021):
Post-processing the National Water Model with long short-term memory networks for streamflow
predictions and model diagnostics, J. Am. Water Resour. Assoc., 57, 885-905, doi:10.1111/1752-1688.12964.

Frame, J. M., Kratzert, F., Klotz, D., Gauch, M., Shalev, G., Gilon, O., Qualls, L. M., Gupta, H. V. and
Nearing, G. S. (2022): Deep learning rainfall-runoff predictions of extreme events, Hydrol. Earth Syst.
Sci., 26, 3377-3392, doi:10.5194/hess-26-3377-2022.

Frame, J. M., Kratzert, F., Gupta, H. V., Ullrich, P. and Nearing, G. S. (2023): On strictly enforced
mass conservation constraints for modelling the rainfall-runoff process, Hydrol. Process., 37, e14847,
doi:10.1002/hyp.14847.

Sci. Data, 10, 725 (2023), doi:10.1038/s41597-023-02316-7: the NWM retrospectives (v1.2, 2.0, 2.1) restructured
for time-series access per reach (OPeNDAP).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.periods import Period

log = logging.getLogger(__name__)

FORMAT = "nwm_retrospective"
VARIABLE = "streamflow"
#: named ``timezone`` choices (besides a fixed offset such as ``-6`` or ``UTC-6``)
TIMEZONES = ("longitude", "local_mean", "utc")
HOURS_PER_DAY = 24
GAUGE_COLUMNS = ("gauge", "gauge_id", "basin", "site_no", "usgs_site_code", "gages")
REACH_COLUMNS = ("link", "feature_id", "comid", "nwm_feature_id")  # in order of preference
M3S_UNITS = {"m3 s-1", "m3/s", "m^3/s", "m3 s**-1", "m**3 s**-1", "cms"}
_FIXED_OFFSET = re.compile(r"^(?:UTC)?\s*([+-]?\d{1,2})$", re.IGNORECASE)
_FILE_TIME = re.compile(r"(\d{12})")  # YYYYMMDDHHMM at the start of a CHRTOUT file name
_BLOCK = 64  # reaches read at a time from one time series (memory: block x hours)


# --------------------------------------------------------------------------------------------- time zones
def utc_offsets(timezone: str | int, lon: pd.Series) -> pd.Series:
    """Whole-hour offset (local standard time = UTC + offset) per basin of ``lon`` (degrees east)."""
    text = str(timezone).strip()
    if text.lower() in ("longitude", "local_mean"):
        lon = lon.astype(float)
        if lon.isna().any():
            raise DataError(f"timezone {text!r} needs the gauge longitude; the cache has none for "
                            f"{list(lon.index[lon.isna()])[:10]}")
        hours = lon / 15.0
        offsets = np.floor(hours + 0.5) if text.lower() == "longitude" else np.floor(hours)
        return offsets.astype(int)
    if text.lower() == "utc":
        return pd.Series(0, index=lon.index)
    match = _FIXED_OFFSET.match(text)
    if not match or not -12 <= int(match.group(1)) <= 14:
        raise ConfigError(f"unknown timezone {timezone!r}: use one of {', '.join(TIMEZONES)} or a whole-hour "
                          f"offset from UTC such as -6 or UTC-6")
    return pd.Series(int(match.group(1)), index=lon.index)


def daily_means(hourly: pd.DataFrame, offsets: Mapping[str, int] | pd.Series,
                source: str | Path = "NWM") -> pd.DataFrame:
    """Daily means (date x basin) of ``hourly`` (UTC hours x basin) over each basin's local day.

    Day ``d`` of basin ``b`` averages the values valid at local times ``d 00:00 .. d 23:00`` (UTC =
    local - ``offsets[b]`` hours); it is NaN unless all 24 are there and finite. The dates run without
    gaps from the first to the last day any basin touches.
    """
    index = pd.DatetimeIndex(hourly.index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    if len(index) == 0:
        raise DataError(f"{source}: no hourly values")
    if index.has_duplicates:
        raise DataError(f"{source}: {int(index.duplicated().sum())} duplicate hour(s), first "
                        f"{index[index.duplicated()][0]}")
    if (index != index.floor("h")).any():
        raise DataError(f"{source}: times are not whole UTC hours (first {index[index != index.floor('h')][0]})")
    hourly = hourly.set_axis(index).sort_index()
    offsets = pd.Series(offsets)
    first_day = (hourly.index[0] + pd.Timedelta(hours=int(offsets.min()))).floor("D")
    last_day = (hourly.index[-1] + pd.Timedelta(hours=int(offsets.max()))).floor("D")
    days = pd.date_range(first_day, last_day, name="date")
    daily = pd.DataFrame(np.nan, index=days, columns=hourly.columns)
    for offset in sorted(set(offsets.reindex(hourly.columns).astype(int))):
        basins = [b for b in hourly.columns if int(offsets[b]) == offset]
        values = hourly[basins]
        local_day = (values.index + pd.Timedelta(hours=offset)).floor("D")
        grouped = values.groupby(local_day)
        mean = grouped.mean().where(grouped.count() == HOURS_PER_DAY)
        daily.loc[mean.index, basins] = mean.to_numpy()
    return daily


# ---------------------------------------------------------------------------------------------- crosswalk
def read_crosswalk(path: str | Path) -> pd.DataFrame:
    """The gauge <-> reach table of a RouteLink NetCDF or a CSV: columns ``gauge`` (str), ``feature_id`` (int)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"NWM crosswalk {path} does not exist (a RouteLink NetCDF or a CSV gauge,feature_id)")
    if path.suffix.lower() == ".csv":
        table = _read_crosswalk_csv(path)
    else:
        table = _read_routelink(path)
    table = table.assign(gauge=[_gauge_id(g) for g in table["gauge"]])
    return table[table["gauge"] != ""].reset_index(drop=True)


def resolve_reaches(crosswalk: pd.DataFrame, basins: Iterable[str], source: str | Path) -> dict[str, int]:
    """Basin -> feature id; DataError naming the gauges without one reach (missing or several)."""
    basins = list(basins)
    wanted = crosswalk[crosswalk["gauge"].isin(basins)].drop_duplicates()
    reaches = wanted.groupby("gauge")["feature_id"].unique()
    missing = [b for b in basins if b not in reaches.index]
    if missing:
        raise DataError(f"NWM crosswalk {source} has no reach (feature_id) for {len(missing)} gauge(s) of the "
                        f"forcing cache: {missing[:10]}{' ...' if len(missing) > 10 else ''}; add them to a "
                        f"CSV crosswalk (gauge,feature_id) or use a basin list without them")
    several = {b: sorted(int(f) for f in reaches[b]) for b in basins if len(reaches[b]) > 1}
    if several:
        raise DataError(f"NWM crosswalk {source} gives several reaches for gauge(s) {dict(list(several.items())[:5])}; "
                        f"keep one per gauge in a CSV crosswalk")
    return {b: int(reaches[b][0]) for b in basins}


def _read_routelink(path: Path) -> pd.DataFrame:
    try:
        with xr.open_dataset(path, mask_and_scale=False) as routelink:
            if "link" not in routelink or "gages" not in routelink:
                raise DataError(f"NWM crosswalk {path} is not a RouteLink file: it needs the variables 'link' "
                                f"and 'gages' (has {sorted(routelink.data_vars)})")
            links = routelink["link"].values
            gages = routelink["gages"].values
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"NWM crosswalk {path}: cannot read it as NetCDF ({error}); a CSV needs the suffix "
                        f".csv") from None
    if gages.ndim == 2:  # characters not joined by the decoder
        gages = np.array([b"".join(row) for row in gages.astype("S1")])
    text = [g.decode("utf-8", "ignore") if isinstance(g, bytes) else str(g) for g in gages]
    return pd.DataFrame({"gauge": text, "feature_id": np.asarray(links).astype("int64")})


def _read_crosswalk_csv(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, comment="#", skipinitialspace=True)
    columns = {c.strip().lower(): c for c in table.columns}
    gauge = next((columns[c] for c in GAUGE_COLUMNS if c in columns), None)
    reach = next((columns[c] for c in REACH_COLUMNS if c in columns), None)
    if gauge is None or reach is None:
        raise DataError(f"NWM crosswalk {path}: needs a gauge column ({', '.join(GAUGE_COLUMNS)}) and a reach "
                        f"column ({', '.join(REACH_COLUMNS)}); has {list(table.columns)}")
    table = table[[gauge, reach]].dropna()
    try:
        ids = table[reach].astype(float).astype("int64")
    except ValueError as error:
        raise DataError(f"NWM crosswalk {path}: column {reach!r} holds non-numeric reach ids ({error})") from None
    return pd.DataFrame({"gauge": table[gauge].to_numpy(), "feature_id": ids.to_numpy()})


def _gauge_id(value) -> str:
    text = str(value).replace("\x00", "").strip()
    return text.zfill(8) if text.isdigit() and len(text) < 8 else text


# --------------------------------------------------------------------------------------------- flow data
def read_daily_flow(path: str | Path, reaches: Mapping[str, int], offsets: Mapping[str, int] | pd.Series,
                    variable: str = VARIABLE) -> pd.DataFrame:
    """Daily mean flow [m³/s] (date x basin) of the basins in ``reaches`` (basin -> feature id) from the
    CHRTOUT directory or time-series file/store ``path``, over each basin's local day (:func:`daily_means`)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"NWM retrospective {path} does not exist (a directory of CHRTOUT files, or a NetCDF "
                        f"file / Zarr store with {variable}(time, feature_id))")
    offsets = pd.Series(offsets)
    if path.is_dir() and not _is_zarr(path):
        hourly = _read_chrtout_directory(path, sorted(set(reaches.values())), variable)
        return daily_means(_by_basin(hourly, reaches), offsets, path)
    dataset = _open_timeseries(path)
    try:
        flow = _flow_variable(dataset, variable, path)
        _check_reaches_present(flow["feature_id"].values, reaches, path)
        basins = list(reaches)
        blocks = []
        for start in range(0, len(basins), _BLOCK):
            block = basins[start:start + _BLOCK]
            ids = sorted({reaches[b] for b in block})
            values = flow.sel(feature_id=ids).transpose("time", "feature_id")
            hourly = pd.DataFrame(values.values.astype("float64"), index=pd.DatetimeIndex(values["time"].values),
                                  columns=ids)
            blocks.append(daily_means(_by_basin(hourly, {b: reaches[b] for b in block}), offsets, path))
    finally:
        dataset.close()
    return pd.concat(blocks, axis=1)


def _by_basin(hourly: pd.DataFrame, reaches: Mapping[str, int]) -> pd.DataFrame:
    """Columns feature id -> columns basin (two gauges on one reach share its series)."""
    return pd.DataFrame({basin: hourly[reach].to_numpy() for basin, reach in reaches.items()}, index=hourly.index)


def _is_zarr(path: Path) -> bool:
    return path.suffix.lower() == ".zarr" or any((path / f).exists() for f in (".zgroup", ".zmetadata", "zarr.json"))


def _open_timeseries(path: Path) -> xr.Dataset:
    if _is_zarr(path):
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise DataError(f"NWM retrospective {path} is a Zarr store: reading it needs the zarr package "
                            f"(pip install zarr), or export its streamflow to NetCDF") from None
        return xr.open_zarr(path)
    try:
        return xr.open_dataset(path)
    except (OSError, ValueError) as error:
        raise DataError(f"NWM retrospective {path}: cannot open it as NetCDF ({error})") from None


def _flow_variable(dataset: xr.Dataset, variable: str, source: Path) -> xr.DataArray:
    if variable not in dataset:
        raise DataError(f"NWM retrospective {source} has no variable {variable!r} "
                        f"(variables: {sorted(dataset.data_vars)})")
    flow = dataset[variable]
    if "feature_id" not in flow.dims or "feature_id" not in dataset.coords:
        raise DataError(f"NWM retrospective {source}: {variable} has dims {flow.dims}; expected feature_id (with "
                        f"a feature_id coordinate) and time")
    units = str(flow.attrs.get("units", "m3 s-1")).strip()
    if units.lower() not in M3S_UNITS:
        raise DataError(f"NWM retrospective {source}: {variable} is in {units!r}, expected m3 s-1")
    if "time" not in flow.dims:
        if "time" not in dataset.variables or dataset["time"].size != 1:
            raise DataError(f"NWM retrospective {source}: {variable} has no time dimension and the file no single time")
        flow = flow.expand_dims(time=np.atleast_1d(dataset["time"].values))
    if set(flow.dims) != {"time", "feature_id"}:
        raise DataError(f"NWM retrospective {source}: {variable} has dims {flow.dims}, expected time and feature_id")
    return flow


def _check_reaches_present(available, reaches: Mapping[str, int], source: Path) -> None:
    present = set(np.asarray(available).astype("int64").tolist())
    absent = {b: f for b, f in reaches.items() if f not in present}
    if absent:
        raise DataError(f"NWM retrospective {source} has no {VARIABLE} for the reach(es) of {len(absent)} gauge(s) "
                        f"(gauge: feature_id) {dict(list(absent.items())[:10])}")


def _chrtout_files(directory: Path) -> list[Path]:
    return sorted((p for p in directory.rglob("*CHRTOUT*") if p.is_file()), key=lambda p: (p.name, str(p)))


def _read_chrtout_directory(directory: Path, reaches: list[int], variable: str) -> pd.DataFrame:
    """Hourly flow (UTC time x feature id) of ``reaches`` from every CHRTOUT file under ``directory``;
    a reach absent from a file is NaN at that hour, a reach absent from every file a DataError."""
    files = _chrtout_files(directory)
    if not files:
        raise DataError(f"NWM retrospective {directory}: no CHRTOUT files (YYYYMMDDHH00.CHRTOUT_DOMAIN1.comp) in it "
                        f"or below it")
    wanted = pd.Index(np.asarray(reaches, dtype="int64"))
    times, rows, seen = [], [], np.zeros(len(wanted), dtype=bool)
    cached_ids, positions = None, None
    for file in files:
        try:
            with xr.open_dataset(file, engine="netcdf4") as dataset:
                flow = _flow_variable(dataset, variable, file)
                ids = np.asarray(dataset["feature_id"].values).astype("int64")
                if cached_ids is None or not np.array_equal(ids, cached_ids):
                    cached_ids, positions = ids, pd.Index(ids).get_indexer(wanted)
                values = flow.transpose("time", "feature_id").values.astype("float64")
                file_times = _file_times(flow, file)
        except OSError as error:
            raise DataError(f"NWM retrospective {file}: cannot read it ({error}); download it again") from None
        found = positions >= 0
        block = np.full((values.shape[0], len(wanted)), np.nan)
        block[:, found] = values[:, positions[found]]
        seen |= found
        times.extend(file_times)
        rows.append(block)
    if not seen.all():
        absent = [int(f) for f in wanted[~seen]]
        raise DataError(f"NWM retrospective {directory}: the reach(es) (feature_id) {absent[:10]} are in none of its "
                        f"{len(files)} CHRTOUT files")
    log.info("read %d CHRTOUT files (%d reaches) from %s", len(files), len(wanted), directory)
    return pd.DataFrame(np.concatenate(rows), index=pd.DatetimeIndex(times), columns=list(wanted))


def _file_times(flow: xr.DataArray, file: Path) -> list[pd.Timestamp]:
    values = flow["time"].values if "time" in flow.coords else None
    if values is not None and np.issubdtype(np.asarray(values).dtype, np.datetime64):
        return list(pd.DatetimeIndex(values))
    match = _FILE_TIME.match(file.name)
    if match and flow.sizes["time"] == 1:
        return [pd.Timestamp(pd.to_datetime(match.group(1), format="%Y%m%d%H%M"))]
    raise DataError(f"NWM retrospective {file}: no decodable time variable and no YYYYMMDDHHMM in the file name")


# ------------------------------------------------------------------------------------------------ import
def read_nwm_retrospective(path: str | Path, crosswalk: str | Path, basins: Iterable[str], lon: pd.Series,
                           timezone: str | int = "longitude", variable: str = VARIABLE) -> pd.DataFrame:
    """Daily NWM flow [m³/s] (date x basin) at the gauges ``basins`` (``lon``: their longitude, degrees east)."""
    basins = list(basins)
    reaches = resolve_reaches(read_crosswalk(crosswalk), basins, crosswalk)
    offsets = utc_offsets(timezone, lon.reindex(basins))
    daily = read_daily_flow(path, reaches, offsets, variable)
    incomplete = daily.isna().sum()
    log.info("NWM retrospective %s: %d basins, %s..%s (timezone %s); incomplete days per basin: median %d, max %d",
             path, len(basins), daily.index[0].date(), daily.index[-1].date(), timezone,
             int(incomplete.median()), int(incomplete.max()))
    return daily[basins]


def import_nwm_retrospective(
    path: str | Path,
    cache: xr.Dataset,
    test: Period,
    *,
    crosswalk: str | Path,
    model: str,
    forcing: str,
    split: str,
    member: str | int = 0,
    timezone: str | int = "longitude",
    variable: str = VARIABLE,
) -> xr.Dataset:
    """The prediction dataset (contract 2) of the NWM retrospective at every basin of ``cache`` over ``test``."""
    from runoffbench.models.external import simulation_predictions

    basins = [str(b) for b in cache["basin"].values]
    lon = cache["lon"].to_series() if "lon" in cache.coords else pd.Series(np.nan, index=basins)
    lon.index = lon.index.astype(str)
    table = read_nwm_retrospective(path, crosswalk, basins, lon, timezone, variable)
    return simulation_predictions(table, path, cache, test, model=model, forcing=forcing, split=split, member=member,
                                  units="m3/s", attrs={"source_format": FORMAT, "crosswalk": str(crosswalk),
                                                       "timezone": str(timezone)})
