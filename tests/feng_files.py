"""Small files in the formats of the Feng et al. 2022 / Nearing et al. 2020 inputs, as a user downloads
them: MOD16A2 8-day basin-mean ET per CAMELS basin (runoffbench.data.modis_et) and mHM's discharge
outputs (runoffbench.models.mhm). Used by the importer tests and the smoke twins (tests/smoke_inputs.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.data.modis_et import composite_days

MODIS_HEADER = "Year,Mnth,Day,Hr,ET(kg/m^2/8day),LE(J/m^2/day),PET(kg/m^2/8day),PLE(J/m^2/day),ET_QC"


def modis_starts(start: str, end: str) -> pd.DatetimeIndex:
    """MOD16A2 composite starts (day of year 1, 9, …, 361) from ``start`` to ``end``."""
    days = pd.date_range(start, end)
    return days[(days.day_of_year - 1) % 8 == 0]


def write_modis_file(folder: Path, basin: str, huc: str, starts: pd.DatetimeIndex, daily_mm: np.ndarray,
                     header: str = MODIS_HEADER) -> Path:
    """``<folder>/basin_mean_forcing/MOD16A2_006_CAMELS/<huc>/<basin>_lump_modis16a2v006_et.txt``: the
    composites' ET as stored (0.1 mm per composite, so composite mean × length × 10), the rest filler."""
    path = folder / "basin_mean_forcing" / "MOD16A2_006_CAMELS" / huc / f"{basin}_lump_modis16a2v006_et.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = np.asarray(daily_mm, float) * composite_days(starts) * 10.0
    lines = [header]
    for day, value in zip(starts, stored):
        et = "" if np.isnan(value) else f"{value:.4f}"
        lines.append(f"{day.year},{day.month},{day.day},0,{et},{value * 2.45e5:.1f},{value * 2.5:.4f},0.0,0.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_modis_from_daily(folder: Path, daily: pd.DataFrame, hucs: dict[str, str], start: str, end: str) -> list[Path]:
    """MODIS-style basin files from daily ET (date × basin, mm/day): the composite means."""
    starts = modis_starts(start, end)
    paths = []
    for basin in daily.columns:
        means = [daily[basin].loc[s : s + pd.Timedelta(days=int(n) - 1)].mean()
                 for s, n in zip(starts, composite_days(starts))]
        paths.append(write_modis_file(folder, basin, hucs[basin], starts, np.asarray(means)))
    return paths


def write_mhm_text(folder: Path, flows_m3s: pd.DataFrame, observed_m3s: pd.DataFrame | None = None) -> Path:
    """mHM's ``daily_discharge.out`` (No Day Mon Year Qobs_<10 digits> Qsim_<10 digits> …, m3/s, -9999 nodata)."""
    folder.mkdir(parents=True, exist_ok=True)
    dates = flows_m3s.index
    header = f"{'No':>8}{'Day':>8}{'Mon':>8}{'Year':>8}" + "".join(
        f"  Qobs_{int(b):010d}  Qsim_{int(b):010d}" for b in flows_m3s.columns)
    rows = [header]
    observed = observed_m3s if observed_m3s is not None else flows_m3s * 0 - 9999.0
    for i, day in enumerate(dates):
        values = "".join(f"  {_m(observed.iloc[i][b]):15.7f}  {_m(flows_m3s.iloc[i][b]):15.7f}" for b in flows_m3s.columns)
        rows.append(f"{i + 1:8d}{day.day:8d}{day.month:8d}{day.year:8d}{values}")
    path = folder / "daily_discharge.out"
    path.write_text("\n".join(rows) + "\n")
    return path


def write_mhm_netcdf(folder: Path, flows_m3s: pd.DataFrame, units: str = "m3 s-1") -> Path:
    """mHM's ``discharge.nc``: time in hours since the first day (24 t - 1), Qsim_/Qobs_<10 digits> in m3 s-1."""
    folder.mkdir(parents=True, exist_ok=True)
    first = flows_m3s.index[0]
    hours = np.arange(1, len(flows_m3s) + 1) * 24 - 1
    variables = {}
    for basin in flows_m3s.columns:
        values = np.where(np.isnan(flows_m3s[basin].to_numpy(float)), -9999.0, flows_m3s[basin].to_numpy(float))
        for prefix in ("Qsim", "Qobs"):
            variables[f"{prefix}_{int(basin):010d}"] = ("time", values, {"units": units, "missing_value": -9999.0})
    dataset = xr.Dataset(variables, coords={"time": ("time", hours, {
        "units": f"hours since {first:%Y-%m-%d} 00:00:00", "long_name": "time in hours"})})
    path = folder / "discharge.nc"
    dataset.to_netcdf(path)
    return path


def _m(value: float) -> float:
    return -9999.0 if np.isnan(value) else float(value)
