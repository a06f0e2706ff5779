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
        values = "".join(f"  {_m(observed.iloc[i][b]):15.7f}  {_m(flows_m3s.iloc[i][b]):15.7f}"
                         for b in flows_m3s.columns)
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


def write_smoke_mhm(workdir: Path) -> list[Path]:
    """mHM runs for the synthetic basins (the feng2022 twin's dashed benchmark): one output folder per basin,
    ``data/raw/mhm_smoke/<basin>/output/daily_discharge.out``, over 1995-09-01..2010-10-31 in m3/s — the
    generator's noise-free flow, smoothed over 5 days, 10 % high and with a lognormal error (a model, not the
    truth)."""
    truth = xr.open_dataset(workdir / "data" / "raw" / "synthetic" / "truth.nc")
    with xr.open_dataset(workdir / "data" / "cache" / "synthetic" / "daymet.nc") as cache:
        area = cache["area"].to_series().reindex(truth["basin"].values).astype(float)
    days = pd.date_range("1995-09-01", "2010-10-31")
    flow = truth["q"].sel(date=days).transpose("date", "basin").to_pandas()
    truth.close()
    rng = np.random.default_rng(22)
    smooth = flow.rolling(5, min_periods=1).mean() * 1.1 * rng.lognormal(-0.02, 0.2, flow.shape)
    m3s = smooth * area.to_numpy() / 86.4
    return [write_mhm_text(workdir / "data" / "raw" / "mhm_smoke" / str(b) / "output", m3s[[b]]) for b in m3s.columns]


def write_smoke_modis(workdir: Path) -> list[Path]:
    """MOD16A2 basin means for the synthetic basins (the feng2022 twin's ET reference), 2001-01-01..2011-12-31
    in the modiset4camels layout: the generator's actual ET per 8-day composite with a lognormal error."""
    truth = xr.open_dataset(workdir / "data" / "raw" / "synthetic" / "truth.nc")
    with xr.open_dataset(workdir / "data" / "cache" / "synthetic" / "attributes.nc") as attributes:
        hucs = {str(b): str(h) for b, h in zip(attributes["basin"].values, attributes["huc_02"].values)}
    days = pd.date_range("2001-01-01", "2011-12-31")
    et = truth["et"].sel(date=days).transpose("date", "basin").to_pandas()
    truth.close()
    rng = np.random.default_rng(23)
    noisy = et * rng.lognormal(-0.045, 0.3, et.shape)
    noisy.columns = [str(b) for b in noisy.columns]
    return write_modis_from_daily(workdir / "data" / "raw" / "modis_smoke", noisy, hucs, "2001-01-01", "2011-12-31")
