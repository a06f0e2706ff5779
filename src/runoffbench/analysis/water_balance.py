"""Long-term water balance of every basin under every forcing product.

The table compares forcing products the way the CAMELS papers do: mean precipitation and
streamflow, the runoff ratio Q/P, and the precipitation of each product relative to a reference
product (Daymet in the papers), the quantity behind the NLDAS/Maurer-vs-Daymet bias figures.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.regions import normalise_code, region_name

#: column -> unit of the water-balance table
COLUMNS: dict[str, str] = {
    "basin": "",
    "forcing": "",
    "huc_02": "",
    "region": "",
    "lat": "deg",
    "lon": "deg",
    "area": "km2",
    "prcp_mean": "mm/day",
    "qobs_mean": "mm/day",
    "runoff_ratio": "-",
    "prcp_ratio": "-",
    "n_qobs_days": "days",
}

_ACCEPTED_UNITS = {"mm/day", "mm/d", "mm d-1", "mm day-1"}
_BASIN_COORDS = ("lat", "lon", "area", "huc_02")


def water_balance(
    caches: Mapping[str, xr.Dataset],
    reference_forcing: str,
    period: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """One row per basin and forcing with the columns of :data:`COLUMNS`.

    ``caches`` maps a forcing name to its forcing cache (docs/architecture.md, contract 1); ``period`` is an
    inclusive (start, end) date pair, or None for each cache's whole record. Means skip missing
    days; the runoff ratio is sum(Q)/sum(P) over the days where both are present; the
    precipitation ratio is sum(P)/sum(P_reference) over the days both products cover (1 for the
    reference itself). Raises DataError if the reference is missing, a cache lacks ``prcp``,
    ``qobs`` or a basin coordinate, or a forcing's basins differ from the reference's.
    """
    if reference_forcing not in caches:
        raise DataError(
            f"reference forcing {reference_forcing!r} is not among the caches {sorted(caches)}"
        )
    selected = {name: _select_period(name, ds, period) for name, ds in caches.items()}
    reference = selected[reference_forcing]
    for name, ds in selected.items():
        _check_cache(name, ds)
        _check_same_basins(name, ds, reference_forcing, reference)
    rows = [_forcing_rows(name, ds, reference, name == reference_forcing)
            for name, ds in selected.items()]
    return pd.concat(rows, ignore_index=True)[list(COLUMNS)]


def _select_period(name: str, ds: xr.Dataset, period: tuple[str, str] | None) -> xr.Dataset:
    """The days of ``period`` in ``ds``; DataError if it holds none."""
    if period is None:
        return ds
    selected = ds.sel(date=slice(*period))
    if selected.sizes["date"] == 0:
        raise DataError(
            f"forcing {name!r} has no days in the period {period[0]} to {period[1]}"
        )
    return selected


def _check_cache(name: str, ds: xr.Dataset) -> None:
    """DataError naming the forcing and variable if ``ds`` lacks what the table needs."""
    for variable in ("prcp", "qobs"):
        if variable not in ds.data_vars:
            raise DataError(f"forcing cache {name!r} has no variable {variable!r}")
        units = ds[variable].attrs.get("units")
        if units is not None and units not in _ACCEPTED_UNITS:
            raise DataError(
                f"forcing cache {name!r}: variable {variable!r} is in {units!r}, expected mm/day"
            )
    for coord in _BASIN_COORDS:
        if coord not in ds.coords and coord not in ds.data_vars:
            raise DataError(f"forcing cache {name!r} has no basin coordinate {coord!r}")


def _check_same_basins(name: str, ds: xr.Dataset, reference_name: str, reference: xr.Dataset):
    """DataError listing the basins that ``ds`` and the reference cache do not share."""
    basins, reference_basins = set(ds["basin"].values), set(reference["basin"].values)
    if basins == reference_basins:
        return
    missing = sorted(reference_basins - basins)
    extra = sorted(basins - reference_basins)
    raise DataError(
        f"forcing {name!r} and reference forcing {reference_name!r} hold different basins: "
        f"missing from {name!r}: {_preview(missing)}; not in {reference_name!r}: {_preview(extra)}"
    )


def _preview(basins: list[str], limit: int = 5) -> str:
    """At most ``limit`` basin ids, and how many more there are."""
    if not basins:
        return "none"
    more = f" and {len(basins) - limit} more" if len(basins) > limit else ""
    return ", ".join(basins[:limit]) + more


def _forcing_rows(
    name: str, ds: xr.Dataset, reference: xr.Dataset, is_reference: bool
) -> pd.DataFrame:
    """The table rows of one forcing, in the reference's basin order."""
    ds = ds.sel(basin=reference["basin"].values)
    prcp = ds["prcp"].astype("float64")
    qobs = ds["qobs"].astype("float64")
    both = prcp.notnull() & qobs.notnull()
    return pd.DataFrame({
        "basin": reference["basin"].values.astype(str),
        "forcing": name,
        "huc_02": [normalise_code(code) for code in ds["huc_02"].values],
        "region": [region_name(code) for code in ds["huc_02"].values],
        "lat": ds["lat"].values.astype(float),
        "lon": ds["lon"].values.astype(float),
        "area": ds["area"].values.astype(float),
        "prcp_mean": prcp.mean("date").values,
        "qobs_mean": qobs.mean("date").values,
        "runoff_ratio": _ratio_of_sums(qobs.where(both), prcp.where(both)),
        "prcp_ratio": 1.0 if is_reference else _precipitation_ratio(prcp, reference),
        "n_qobs_days": qobs.notnull().sum("date").values.astype(int),
    })


def _precipitation_ratio(prcp: xr.DataArray, reference: xr.Dataset) -> np.ndarray:
    """sum(P) / sum(P_reference) per basin over the days both products cover."""
    reference_prcp = reference["prcp"].astype("float64")
    prcp, reference_prcp = xr.align(prcp, reference_prcp, join="inner")
    both = prcp.notnull() & reference_prcp.notnull()
    return _ratio_of_sums(prcp.where(both), reference_prcp.where(both))


def _ratio_of_sums(numerator: xr.DataArray, denominator: xr.DataArray) -> np.ndarray:
    """sum(numerator) / sum(denominator) over dates per basin; NaN where the denominator is 0."""
    top = numerator.sum("date").values
    bottom = denominator.sum("date").values
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = top / bottom
    return np.where(bottom > 0, ratio, np.nan)
