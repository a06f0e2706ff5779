"""Potential evapotranspiration (PET) formulas and the solar geometry they need.

All functions are vectorised over numpy arrays (scalars broadcast) and return mm/day.

Solar geometry follows FAO-56 (Allen et al., 1998), with ``J`` the day of the year:

    solar declination          δ   = 0.409 sin(2πJ/365 − 1.39)                        (eq. 24)
    inverse Earth–Sun distance d_r = 1 + 0.033 cos(2πJ/365)                           (eq. 23)
    sunset hour angle          ω_s = arccos(−tan φ tan δ)                             (eq. 25)
    day length                 N   = 24 ω_s / π  [h]                                  (eq. 34)
    extraterrestrial radiation R_a = (24·60/π) G_sc d_r (ω_s sin φ sin δ + cos φ cos δ sin ω_s)
                               [MJ m⁻² d⁻¹], G_sc = 0.0820 MJ m⁻² min⁻¹               (eq. 21)

References
----------
Allen, R. G., Pereira, L. S., Raes, D., Smith, M. (1998): Crop evapotranspiration. FAO Irrigation and
    drainage paper 56, Rome.
Hamon, W. R. (1961): Estimating potential evapotranspiration. J. Hydraul. Div. ASCE 87, 107–120.
Hargreaves, G. H., Samani, Z. A. (1985): Reference crop evapotranspiration from temperature. Appl. Eng.
    Agric. 1(2), 96–99.
Newman, A. J. et al. (2015): Development of a large-sample watershed-scale hydrometeorological data set
    for the contiguous USA. Hydrol. Earth Syst. Sci. 19, 209–223.
Patil, S., Stieglitz, M. (2014): Modelling daily streamflow at ungauged catchments: what information is
    necessary? Hydrol. Process. 28, 1159–1169.
Priestley, C. H. B., Taylor, R. J. (1972): On the assessment of surface heat flux and evaporation using
    large-scale parameters. Mon. Weather Rev. 100, 81–92.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: latent heat of vaporisation [MJ kg⁻¹]; 1/λ = 0.408 converts MJ m⁻² d⁻¹ to mm/day
LATENT_HEAT = 2.45
#: solar constant [MJ m⁻² min⁻¹]
SOLAR_CONSTANT = 0.0820
#: Stefan–Boltzmann constant [MJ K⁻⁴ m⁻² d⁻¹]
STEFAN_BOLTZMANN = 4.903e-9


def solar_declination(doy: ArrayLike) -> np.ndarray:
    """Solar declination δ [rad] for day of year ``doy`` (FAO-56 eq. 24)."""
    return 0.409 * np.sin(2.0 * np.pi / 365.0 * np.asarray(doy, dtype=float) - 1.39)


def sunset_hour_angle(lat_deg: ArrayLike, doy: ArrayLike) -> np.ndarray:
    """Sunset hour angle ω_s = arccos(−tan φ tan δ) [rad] (FAO-56 eq. 25), clipped for polar day/night."""
    phi = np.deg2rad(np.asarray(lat_deg, dtype=float))
    return np.arccos(np.clip(-np.tan(phi) * np.tan(solar_declination(doy)), -1.0, 1.0))


def day_length(lat_deg: ArrayLike, doy: ArrayLike) -> np.ndarray:
    """Astronomical day length N = 24 ω_s / π, returned in seconds (the unit of Daymet's ``dayl``)."""
    return 24.0 / np.pi * sunset_hour_angle(lat_deg, doy) * 3600.0


def extraterrestrial_radiation(lat_deg: ArrayLike, doy: ArrayLike) -> np.ndarray:
    """Daily extraterrestrial radiation R_a [MJ m⁻² d⁻¹] (FAO-56 eq. 21)."""
    phi = np.deg2rad(np.asarray(lat_deg, dtype=float))
    doy = np.asarray(doy, dtype=float)
    delta = solar_declination(doy)
    omega = sunset_hour_angle(lat_deg, doy)
    dr = 1.0 + 0.033 * np.cos(2.0 * np.pi / 365.0 * doy)
    geometry = omega * np.sin(phi) * np.sin(delta) + np.cos(phi) * np.cos(delta) * np.sin(omega)
    return 24.0 * 60.0 / np.pi * SOLAR_CONSTANT * dr * geometry


def saturation_vapour_pressure(temp: ArrayLike) -> np.ndarray:
    """Saturation vapour pressure e°(T) = 0.6108 exp(17.27 T / (T + 237.3)) [kPa] (FAO-56 eq. 11)."""
    temp = np.asarray(temp, dtype=float)
    return 0.6108 * np.exp(17.27 * temp / (temp + 237.3))


def hamon(tmean: ArrayLike, dayl: ArrayLike) -> np.ndarray:
    """Hamon PET as used by EXP-HYDRO (Patil & Stieglitz, 2014).

    PET = 29.8 · L · e_s(T) / (T + 273.2),   e_s(T) = 0.611 exp(17.3 T / (T + 237.3)) [kPa]

    with ``L`` the day length in hours and ``T`` the daily mean air temperature [°C].

    Args:
        tmean: daily mean air temperature [°C].
        dayl: day length [s] (Daymet's ``dayl`` column).
    """
    tmean = np.asarray(tmean, dtype=float)
    hours = np.asarray(dayl, dtype=float) / 3600.0
    es = 0.611 * np.exp(17.3 * tmean / (tmean + 237.3))
    return 29.8 * hours * es / (tmean + 273.2)


def priestley_taylor(
    tmin: ArrayLike,
    tmax: ArrayLike,
    srad: ArrayLike,
    dayl: ArrayLike,
    lat_deg: ArrayLike,
    elev: ArrayLike,
    doy: ArrayLike,
    alpha: float | ArrayLike = 1.26,
    albedo: float = 0.23,
) -> np.ndarray:
    """Priestley–Taylor PET as in the NCAR CAMELS model runs (Newman et al., 2015).

    PET = α/λ · Δ (R_n − G) / (Δ + γ),  G = 0 at the daily step, λ = 2.45 MJ kg⁻¹

    - incoming shortwave R_s = srad · dayl / 10⁶ [MJ m⁻² d⁻¹] (Daymet's srad is the daylight-mean flux,
      i.e. srad·dayl/86400 is the 24-h mean in W m⁻²),
    - R_n = (1 − a) R_s − R_nl with the FAO-56 net long-wave loss (eq. 39)
      R_nl = σ (T_max,K⁴ + T_min,K⁴)/2 · (0.34 − 0.14 √e_a) · (1.35 R_s/R_so − 0.35),
      e_a = e°(T_min) (eq. 48), R_so = (0.75 + 2·10⁻⁵ z) R_a (eq. 37), R_s/R_so capped at 1,
    - Δ = 4098 e°(T)/(T + 237.3)² at T = (T_max + T_min)/2 (eq. 13),
    - γ = 0.665·10⁻³ P, P = 101.3 ((293 − 0.0065 z)/293)^5.26 [kPa] (eqs. 7–8).

    Negative values (net radiation loss) are returned as 0.

    Args:
        tmin, tmax: daily min/max air temperature [°C].
        srad: daylight-average shortwave radiation [W m⁻²].
        dayl: day length [s].
        lat_deg: latitude [°N].
        elev: elevation [m].
        doy: day of year.
        alpha: Priestley–Taylor coefficient (calibrated per basin in CAMELS; 1.26 by default).
        albedo: surface albedo for the net shortwave.
    """
    tmin = np.asarray(tmin, dtype=float)
    tmax = np.asarray(tmax, dtype=float)
    elev = np.asarray(elev, dtype=float)
    rs = np.asarray(srad, dtype=float) * np.asarray(dayl, dtype=float) / 1.0e6
    rso = (0.75 + 2.0e-5 * elev) * extraterrestrial_radiation(lat_deg, doy)
    ratio = np.minimum(np.divide(rs, rso, out=np.ones_like(rs * rso), where=rso > 0), 1.0)
    ea = saturation_vapour_pressure(tmin)
    t4 = ((tmax + 273.16) ** 4 + (tmin + 273.16) ** 4) / 2.0
    rnl = STEFAN_BOLTZMANN * t4 * (0.34 - 0.14 * np.sqrt(ea)) * (1.35 * ratio - 0.35)
    rn = (1.0 - albedo) * rs - rnl
    tmean = 0.5 * (tmin + tmax)
    delta = 4098.0 * saturation_vapour_pressure(tmean) / (tmean + 237.3) ** 2
    pressure = 101.3 * ((293.0 - 0.0065 * elev) / 293.0) ** 5.26
    gamma = 0.665e-3 * pressure
    pet = np.asarray(alpha, dtype=float) / LATENT_HEAT * delta * rn / (delta + gamma)
    return np.maximum(pet, 0.0)


def hargreaves(tmin: ArrayLike, tmax: ArrayLike, lat_deg: ArrayLike, doy: ArrayLike) -> np.ndarray:
    """Hargreaves–Samani (1985) PET as used by the δ models of Feng et al. (2022).

    PET = 0.0023 · R_a/λ · (T_mean + 17.8) · √(T_max − T_min)

    with R_a the extraterrestrial radiation [MJ m⁻² d⁻¹] from latitude and day of year, R_a/λ its
    evaporation equivalent [mm/day] and T_mean = (T_max + T_min)/2. A negative temperature range is
    treated as zero, and negative PET (T_mean < −17.8 °C) as 0.
    """
    tmin = np.asarray(tmin, dtype=float)
    tmax = np.asarray(tmax, dtype=float)
    ra_mm = extraterrestrial_radiation(lat_deg, doy) / LATENT_HEAT
    tmean = 0.5 * (tmin + tmax)
    pet = 0.0023 * ra_mm * (tmean + 17.8) * np.sqrt(np.maximum(tmax - tmin, 0.0))
    return np.maximum(pet, 0.0)
