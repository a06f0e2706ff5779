"""The forcing cache: one NetCDF4 file per dataset and forcing product (docs/architecture.md, contract 1).

``data/cache/<dataset>/<forcing>.nc`` holds dims ``(basin, date)``, one float32 variable per forcing
variable plus ``qobs`` [mm/day] and its USGS quality flag, each with ``units`` and ``long_name``;
basin coordinates ``lat``/``lon`` (gauge location), ``elev`` (basin mean, m, forcing header),
``area`` (km², forcing header — the area the cfs→mm/day conversion used) and ``huc_02``.
``attributes.nc`` holds every CAMELS attribute along ``basin``. Built once, read by every model.

Every basin is read and checked before anything is written (:func:`camels_us.read_forcing`: field
counts, numbers, dates strictly increasing without a missing day, no -999 sentinel, physical ranges,
Tmin <= Tmax up to rounding; :func:`camels_us.read_streamflow`: no negative flow but -999); all
problems are reported together and the file is written to a temporary name and renamed, so a failed
build leaves nothing behind. Streamflow days that are -999 (flag M) or not listed in the file are
CAMELS's real gaps: they become NaN, and the build log warns with their count per basin.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from runoffbench.data import camels_us
from runoffbench.data.variables import FORCING_VARIABLES, VARIABLES
from runoffbench.errors import DataError
from runoffbench.io import atomic_output, load_netcdf
from runoffbench.periods import Period

log = logging.getLogger(__name__)

_COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}


def _basin_series(root: Path, forcing: str, basin: str) -> tuple[pd.DataFrame, camels_us.ForcingHeader]:
    """Forcing and observed streamflow of one basin on the forcing's dates."""
    forcing_file = camels_us.forcing_path(root, forcing, basin)
    table, header = camels_us.read_forcing(forcing_file, forcing, basin)
    missing = [v for v in FORCING_VARIABLES if v not in table]
    if missing:
        raise DataError(f"basin {basin}: {forcing_file} lacks variable(s) {missing}")
    flow_file = camels_us.streamflow_path(root, basin)
    flow = camels_us.read_streamflow(flow_file, header.area_m2, basin)
    missing_days = _missing_streamflow(basin, flow, table.index)
    overlap = flow.index.intersection(table.index)
    if overlap.empty:
        raise DataError(
            f"basin {basin}: streamflow dates of {flow_file} ({flow.index[0].date()}..{flow.index[-1].date()}) "
            f"lie outside the forcing period of {forcing_file} ({table.index[0].date()}..{table.index[-1].date()})"
        )
    if flow["qobs"].reindex(table.index).isna().all():
        raise DataError(f"basin {basin}: {flow_file} has no valid streamflow in the forcing period")
    table = table.join(flow.rename(columns={"flag": "qobs_flag"}), how="left")
    table.attrs["missing_flow_days"] = missing_days
    return table, header


def _missing_streamflow(basin: str, flow: pd.DataFrame, dates: pd.DatetimeIndex) -> int:
    """Log (INFO) and return the count of the forcing period's days without streamflow: -999
    (flag M) in the file, or not listed in it. Both are CAMELS's real gaps and become NaN (flag
    ``no_record`` for the unlisted days) in the cache; :func:`_collect` warns with the total."""
    listed = dates.isin(flow.index)
    sentinel = int(flow["qobs"].reindex(dates[listed]).isna().sum())
    unlisted = dates[~listed]
    if not sentinel and unlisted.empty:
        return 0
    parts = [f"{sentinel} -999/M"]
    if not unlisted.empty:
        parts.append(f"{len(unlisted)} not listed in the file, first {unlisted[0].date()}")
    log.info(
        "basin %s: streamflow missing on %d of %d days (%s); NaN in the cache",
        basin, sentinel + len(unlisted), len(dates), ", ".join(parts),
    )
    return sentinel + len(unlisted)


def _collect(root: Path, forcing: str, basins: list[str]) -> tuple[dict, dict, list[str]]:
    tables, headers, problems = {}, {}, []
    with warnings.catch_warnings():
        # the Tmax == Tmin warning would repeat for every basin: report it once below
        warnings.simplefilter("ignore", camels_us.ForcingWarning)
        for basin in tqdm(basins, desc=f"reading {forcing}", unit="basin", mininterval=2):
            try:
                tables[basin], headers[basin] = _basin_series(root, forcing, basin)
            except DataError as error:
                problems.append(str(error))
    missing = {b: t.attrs.get("missing_flow_days", 0) for b, t in tables.items()}
    if any(missing.values()):
        days = sum(len(t) for t in tables.values())
        log.warning(
            "%s: streamflow missing (-999/M or not listed) on %d of %d basin-days in %d of %d basins "
            "(up to %d days in basin %s); NaN in the cache, per-basin counts in the INFO lines",
            forcing, sum(missing.values()), days, sum(n > 0 for n in missing.values()), len(tables),
            max(missing.values()), max(missing, key=missing.get),
        )
    return tables, headers, problems


def _flag_codes(flags: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Encode USGS quality flags as int8 codes with CF ``flag_values``/``flag_meanings``.

    Code 0 (``no_record``) marks days the streamflow file does not list at all.
    """
    text = flags.fillna("").astype(str).to_numpy()
    meanings = ["no_record"] + sorted(set(np.unique(text)) - {"", "nan"})
    codes, uniques = pd.factorize(text.ravel())
    lookup = {meaning: code for code, meaning in enumerate(meanings) if code}
    code_of_unique = np.array([lookup.get(flag, 0) for flag in uniques], dtype="int8")  # "" -> 0
    return code_of_unique[codes].reshape(text.shape), meanings


def _to_dataset(tables: dict, headers: dict, attributes: pd.DataFrame, period: Period | None) -> xr.Dataset:
    basins = list(tables)
    start = min(t.index[0] for t in tables.values())
    end = max(t.index[-1] for t in tables.values())
    if period is not None:
        start, end = max(start, period.start), min(end, period.end)
    dates = pd.date_range(start, end, freq="D", name="date")
    variables = {}
    for name in (*FORCING_VARIABLES, "qobs"):
        values = np.stack([tables[b][name].reindex(dates).to_numpy("float32") for b in basins])
        units, long_name = VARIABLES[name]
        variables[name] = (("basin", "date"), values, {"units": units, "long_name": long_name})
    flags = pd.DataFrame({b: tables[b]["qobs_flag"].reindex(dates) for b in basins})
    codes, meanings = _flag_codes(flags)
    variables["qobs_flag"] = (
        ("basin", "date"),
        codes.T,
        {
            "long_name": "USGS streamflow quality flag",
            "flag_values": np.arange(len(meanings), dtype="int8"),
            "flag_meanings": " ".join(m.replace(" ", "_") for m in meanings),
        },
    )
    coords = {
        "basin": ("basin", np.array(basins, dtype=object)),
        "date": dates,
        "lat": ("basin", attributes["gauge_lat"].to_numpy("float64"),
                {"units": "degrees_north", "long_name": "gauge latitude"}),
        "lon": ("basin", attributes["gauge_lon"].to_numpy("float64"),
                {"units": "degrees_east", "long_name": "gauge longitude"}),
        "elev": ("basin", np.array([headers[b].elev for b in basins]),
                 {"units": "m", "long_name": "basin mean elevation (forcing header)"}),
        "area": ("basin", np.array([headers[b].area_m2 / 1e6 for b in basins]),
                 {"units": "km2", "long_name": "basin area (forcing header)"}),
        "huc_02": ("basin", attributes["huc_02"].astype(str).to_numpy(dtype=object),
                   {"long_name": "USGS water-resources region (HUC-02)"}),
    }
    return xr.Dataset(variables, coords=coords)


def write_netcdf_atomic(dataset: xr.Dataset, output: str | Path, chunk_by_basin: bool = True) -> Path:
    """Write ``dataset`` as compressed NetCDF4 to a temporary name, then rename it into place."""
    encoding = {}
    for name, variable in dataset.data_vars.items():
        if variable.dtype.kind in "fiu":
            encoding[name] = dict(_COMPRESSION)
            if chunk_by_basin and variable.dims == ("basin", "date"):
                encoding[name]["chunksizes"] = (1, dataset.sizes["date"])
    with atomic_output(output) as temporary:
        dataset.to_netcdf(temporary, engine="netcdf4", format="NETCDF4", encoding=encoding)
    return output


def build_forcing_cache(
    camels_root: str | Path,
    forcing: str,
    basins: list[str],
    output: str | Path,
    dataset_name: str = "camels_us",
    period: Period | None = None,
) -> Path:
    """Read ``basins``' forcing and streamflow of product ``forcing`` and write the cache file.

    Raises :class:`DataError` listing every basin that failed, before anything is written.
    """
    root = Path(camels_root)
    camels_us.forcing_product(forcing)
    basins = [camels_us.check_basin_id(b) for b in basins]
    tables, headers, problems = _collect(root, forcing, basins)
    if problems:
        raise DataError(f"cannot build the {forcing} cache, {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    product = camels_us.FORCING_PRODUCTS[forcing]
    if product.daily_mean_temperature and all(np.allclose(t["tmax"], t["tmin"]) for t in tables.values()):
        log.warning(
            "%s: Tmax equals Tmin in every basin (daily means); use %s for daily extremes",
            forcing,
            product.replacement,
        )
    attributes = camels_us.read_attributes(root, basins)
    dataset = _to_dataset(tables, headers, attributes, period)
    dataset.attrs.update(
        {
            "title": f"CAMELS-US {forcing} forcing cache",
            "dataset": dataset_name,
            "forcing": forcing,
            "source": str(root.resolve()),
            "Conventions": "CF-1.8",
            "created_by": "runoffbench build-cache",
        }
    )
    log.info("writing %s (%d basins x %d days)", output, dataset.sizes["basin"], dataset.sizes["date"])
    return write_netcdf_atomic(dataset, output)


def build_attributes_cache(camels_root: str | Path, basins: list[str], output: str | Path) -> Path:
    """Write every CAMELS attribute of ``basins`` to ``output`` (dim ``basin``)."""
    attributes = camels_us.read_attributes(camels_root, basins)
    text_columns = [c for c in attributes if not pd.api.types.is_numeric_dtype(attributes[c])]
    attributes[text_columns] = attributes[text_columns].fillna("").astype(str).astype(object)
    dataset = xr.Dataset.from_dataframe(attributes.rename_axis("basin"))
    dataset = dataset.assign_coords(basin=np.array(dataset["basin"].values, dtype=object))
    dataset.attrs.update({"title": "CAMELS-US catchment attributes", "source": str(Path(camels_root).resolve())})
    return write_netcdf_atomic(dataset, output, chunk_by_basin=False)


def open_cache(path: str | Path) -> xr.Dataset:
    """Open a forcing cache (loaded into memory) and check it against the contract."""
    dataset = load_netcdf(path, "forcing cache", "run the build_cache rule first")
    missing = [v for v in (*FORCING_VARIABLES, "qobs") if v not in dataset]
    if missing or set(dataset.dims) != {"basin", "date"}:
        raise DataError(f"{path} is not a forcing cache: dims {dict(dataset.sizes)}, missing {missing}")
    return dataset


def open_attributes(path: str | Path) -> xr.Dataset:
    """Open an attribute cache (``attributes.nc``, loaded into memory): one variable per attribute along ``basin``."""
    dataset = load_netcdf(path, "attribute cache", "run the build_attributes_cache rule first")
    if set(dataset.dims) != {"basin"}:
        raise DataError(f"{path} is not an attribute cache: dims {dict(dataset.sizes)}, expected only 'basin'")
    return dataset.assign_coords(basin=dataset["basin"].astype(str).astype(object))
