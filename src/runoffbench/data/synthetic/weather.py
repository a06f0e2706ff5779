"""Stochastic daily weather generator, vectorised across basins.

Per basin and day (doy = day of year, ω = 2π/365.25):

- Occurrence: two-state Markov chain with seasonal wet-day fraction
  π(doy) = π̄ (1 + ½ a_p cos(ω (doy − d_p))) and lag-1 persistence r = 0.35, i.e.
  p₁₁ = π + r (1 − π) and p₀₁ = π (1 − p₁₁)/(1 − π), so that π is the stationary wet fraction
  (Richardson, 1981; Wilks, 1998).
- Amounts on wet days: mixed exponential (weight 0.7 on mean μ, 0.3 on mean 4μ) with μ chosen so
  that the seasonal mean P(doy) = P̄ (1 + a_p cos(ω (doy − d_p))) is met (Wilks, 1998).
- Temperature: T(doy) = T̄ − Γ (z − z_region) − A cos(ω (doy − 20)) plus an AR(1) anomaly
  (φ = 0.7, σ = 2.5 °C); the diurnal range shrinks on wet days (T_max − 2 °C, T_min + 1 °C).
- Shortwave: R_s = τ R_a (FAO-56 extraterrestrial radiation) with transmissivity τ ≈ 0.72 on dry and
  0.42 on wet days, reported as the daylight-mean flux R_s / dayl [W m⁻²] like Daymet.
- Vapour pressure: e(T_d) with dew point T_d = T_min − δ, δ larger in dry climates [Pa].
- Day length: astronomical, from latitude and day of year [s].

References
----------
Richardson, C. W. (1981): Stochastic simulation of daily precipitation, temperature, and solar
    radiation. Water Resour. Res. 17, 182–190.
Wilks, D. S. (1998): Multisite generalization of a daily stochastic precipitation generation model.
    J. Hydrol. 210, 178–191.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from runoffbench.data.synthetic.basins import LAPSE_RATE, REGIONS
from runoffbench.models.conceptual.pet import day_length, extraterrestrial_radiation, saturation_vapour_pressure

_PERSISTENCE = 0.35
_SMALL_WEIGHT = 0.7
_LARGE_FACTOR = 4.0


def _region_values(basins: pd.DataFrame, name: str) -> np.ndarray:
    return np.array([getattr(REGIONS[k], name) for k in basins["region"]], dtype=float)[:, None]


def generate_weather(basins: pd.DataFrame, dates: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Daily weather for every basin (rows) and date (columns).

    Returns a dict of (basins, days) arrays: prcp [mm/day], tmax, tmin [°C], srad [W m⁻²], vp [Pa],
    dayl [s].
    """
    nb, nt = len(basins), len(dates)
    doy = np.asarray(dates.day_of_year, dtype=float)[None, :]
    omega = 2.0 * np.pi / 365.25
    lat = basins["lat"].to_numpy()[:, None]
    cycle = np.cos(omega * (doy - _region_values(basins, "p_peak_doy")))
    p_amp = _region_values(basins, "p_amp")
    basin_factor = np.exp(rng.normal(0.0, 0.15, (nb, 1)))
    p_mean = _region_values(basins, "p_mean") * basin_factor * (1.0 + p_amp * cycle)
    wet_frac = np.clip(_region_values(basins, "wet_frac") * (1.0 + 0.5 * p_amp * cycle), 0.05, 0.8)
    wet = _markov_occurrence(wet_frac, rng)
    prcp = np.where(wet, _mixed_exponential(p_mean / wet_frac, rng), 0.0)

    tmean = _temperature(basins, doy, rng)
    dtr = _region_values(basins, "dtr") + rng.normal(0.0, 1.5, (nb, nt))
    dtr = np.clip(dtr, 3.0, None)
    tmax = tmean + 0.5 * dtr - 2.0 * wet
    tmin = tmean - 0.5 * dtr + 1.0 * wet

    dayl = day_length(lat, doy)
    tau = np.where(wet, 0.42, 0.72) + rng.normal(0.0, 0.05, (nb, nt))
    srad = np.clip(tau, 0.15, 0.8) * extraterrestrial_radiation(lat, doy) * 1.0e6 / np.maximum(dayl, 1.0)
    dryness = np.clip(4.0 - _region_values(basins, "p_mean"), 0.5, 4.0)
    vp = 1000.0 * saturation_vapour_pressure(tmin - dryness)
    return {"prcp": prcp, "tmax": tmax, "tmin": tmin, "srad": srad, "vp": vp,
            "dayl": np.broadcast_to(dayl, (nb, nt)).copy()}


def _markov_occurrence(wet_frac: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Wet-day indicator from a two-state Markov chain with stationary probability ``wet_frac``."""
    p11 = wet_frac + _PERSISTENCE * (1.0 - wet_frac)
    p01 = wet_frac * (1.0 - p11) / (1.0 - wet_frac)
    u = rng.random(wet_frac.shape)
    wet = np.empty(wet_frac.shape, dtype=bool)
    wet[:, 0] = u[:, 0] < wet_frac[:, 0]
    for t in range(1, wet_frac.shape[1]):
        wet[:, t] = u[:, t] < np.where(wet[:, t - 1], p11[:, t], p01[:, t])
    return wet


def _mixed_exponential(mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mixed-exponential amounts with the given mean (weight 0.7 on μ, 0.3 on 4μ)."""
    mu = mean / (_SMALL_WEIGHT + (1.0 - _SMALL_WEIGHT) * _LARGE_FACTOR)
    scale = np.where(rng.random(mean.shape) < _SMALL_WEIGHT, mu, _LARGE_FACTOR * mu)
    return rng.exponential(1.0, mean.shape) * scale


def _temperature(basins: pd.DataFrame, doy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Daily mean temperature: seasonal climatology with lapse rate plus an AR(1) anomaly."""
    nb, nt = len(basins), doy.shape[1]
    elev = basins["elev"].to_numpy()[:, None]
    lat = basins["lat"].to_numpy()[:, None]
    base = (_region_values(basins, "t_mean") - LAPSE_RATE * (elev - _region_values(basins, "elev"))
            - 0.6 * (lat - _region_values(basins, "lat")))
    clim = base - _region_values(basins, "t_amp") * np.cos(2.0 * np.pi / 365.25 * (doy - 20.0))
    noise = rng.normal(0.0, 2.5 * np.sqrt(1.0 - 0.7**2), (nb, nt))
    anomaly = np.empty((nb, nt))
    anomaly[:, 0] = noise[:, 0] / np.sqrt(1.0 - 0.7**2)
    for t in range(1, nt):
        anomaly[:, t] = 0.7 * anomaly[:, t - 1] + noise[:, t]
    return clim + anomaly
