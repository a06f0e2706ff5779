"""The prediction contract (docs/architecture.md, contract 2): what every model writes and evaluation reads.

``results/<experiment>/runs/<model>/<forcing>/<split>/<member>/predictions.nc`` holds dims
``(basin, date)`` over the test period: ``qsim`` and ``qobs`` in mm/day, optional internal fluxes and
states (``et``, ``baseflow``, ``swe``, ...; each with ``units``), optional variables with dims
``(basin, date, component)`` (one series per model component: the dynamic parameters ``beta_t``,
``gamma_t`` of the δ models; coordinate ``component`` = 0 … C−1), and the attributes ``model``,
``forcing``, ``split`` and ``member`` (a seed, or ``ensemble``). An external model joins the benchmark
by writing this file; :func:`validate_predictions` says precisely what a file lacks.

Negative flow: ``qsim`` of the trained networks is never below 0 by default — their negative outputs
are set to 0 as in Kratzert et al. (2019)'s evaluation, and the attribute ``qsim_negative_days``
counts the basin-days concerned (``qsim_negative_clipped`` 1; a run with ``clip_negative_flow:
false`` keeps them and says 0). Conceptual and process models cannot produce negative flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.io import atomic_output, load_netcdf

REQUIRED_ATTRS = ("model", "forcing", "split", "member")
ENSEMBLE_MEMBER = "ensemble"


def make_predictions(
    qsim: np.ndarray,
    qobs: np.ndarray,
    basins: Iterable[str],
    dates: pd.DatetimeIndex,
    *,
    model: str,
    forcing: str,
    split: str,
    member: str | int,
    fluxes: Mapping[str, tuple[np.ndarray, str]] | None = None,
    attrs: Mapping[str, object] | None = None,
    components: Mapping[str, tuple[np.ndarray, str, str]] | None = None,
) -> xr.Dataset:
    """Assemble a prediction dataset; ``fluxes`` maps a name to ``(values (basin, date), units)``,
    ``components`` a name to ``(values (basin, date, component), units, long name)``."""
    coords = {"basin": np.array(list(basins), dtype=object), "date": pd.DatetimeIndex(dates, name="date")}
    variables = {
        "qsim": (("basin", "date"), np.asarray(qsim, "float32"),
                 {"units": "mm/day", "long_name": "simulated streamflow"}),
        "qobs": (("basin", "date"), np.asarray(qobs, "float32"),
                 {"units": "mm/day", "long_name": "observed streamflow"}),
    }
    for name, (values, units) in (fluxes or {}).items():
        variables[name] = (("basin", "date"), np.asarray(values, "float32"), {"units": units})
    for name, (values, units, long_name) in (components or {}).items():
        variables[name] = (("basin", "date", "component"), np.asarray(values, "float32"),
                           {"units": units, "long_name": long_name})
    if components:
        coords["component"] = np.arange(next(iter(components.values()))[0].shape[2])
    dataset = xr.Dataset(variables, coords=coords)
    dataset.attrs.update({"model": model, "forcing": forcing, "split": split, "member": str(member)})
    dataset.attrs.update(attrs or {})
    return dataset


def validate_predictions(dataset: xr.Dataset, source: str | Path = "predictions") -> xr.Dataset:
    """Check ``dataset`` against the contract; raise :class:`DataError` naming ``source`` and the gap."""
    problems = []
    missing_attrs = [a for a in REQUIRED_ATTRS if a not in dataset.attrs]
    if missing_attrs:
        problems.append(f"attributes {missing_attrs} missing")
    for name in ("qsim", "qobs"):
        if name not in dataset:
            problems.append(f"variable {name!r} missing")
        elif dataset[name].dims != ("basin", "date"):
            problems.append(f"{name} has dims {dataset[name].dims}, expected ('basin', 'date')")
        elif dataset[name].attrs.get("units") != "mm/day":
            problems.append(f"{name} has units {dataset[name].attrs.get('units')!r}, expected 'mm/day'")
    if "date" in dataset.coords and not pd.DatetimeIndex(dataset["date"].values).is_monotonic_increasing:
        problems.append("dates are not increasing")
    if "basin" in dataset.coords:
        bad = [str(b) for b in dataset["basin"].values if not (len(str(b)) == 8 and str(b).isdigit())]
        if bad:
            problems.append(f"basin ids {bad[:5]} are not 8-digit USGS ids")
    if problems:
        raise DataError(f"{source} does not follow the prediction contract: " + "; ".join(problems))
    return dataset


def write_predictions(dataset: xr.Dataset, path: str | Path) -> Path:
    """Validate and write ``dataset`` atomically (compressed NetCDF4)."""
    validate_predictions(dataset, path)
    encoding = {name: {"zlib": True, "complevel": 4} for name in dataset.data_vars}
    with atomic_output(path) as temporary:
        dataset.to_netcdf(temporary, engine="netcdf4", encoding=encoding)
    return Path(path)


def read_predictions(path: str | Path) -> xr.Dataset:
    """Read a prediction file into memory and validate it."""
    dataset = load_netcdf(path, "prediction file", "the rule of its model writes it")
    dataset = dataset.assign_coords(basin=dataset["basin"].astype(str).astype(object))
    return validate_predictions(dataset, path)


def merge_predictions(parts: Iterable[xr.Dataset], source: str = "prediction chunks") -> xr.Dataset:
    """Concatenate predictions of disjoint basin sets (e.g. calibration chunks) of one run."""
    parts = list(parts)
    if not parts:
        raise DataError(f"{source}: nothing to merge")
    keys = {tuple(str(p.attrs.get(a)) for a in REQUIRED_ATTRS) for p in parts}
    if len(keys) > 1:
        raise DataError(f"{source}: parts belong to different runs {sorted(keys)}")
    basins = np.concatenate([p["basin"].values for p in parts])
    duplicated = sorted({str(b) for b in basins if (basins == b).sum() > 1})
    if duplicated:
        raise DataError(f"{source}: basins {duplicated[:5]} appear in more than one part")
    merged = xr.concat(parts, dim="basin", join="outer", combine_attrs="override")
    return merged.sortby("basin")
