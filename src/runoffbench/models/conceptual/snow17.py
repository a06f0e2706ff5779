"""Snow-17 temperature-index snow accumulation and ablation model (daily step).

Follows the NWS operational code (``PACK19``/``MELT19``/``AESC19``/``ROUT19``) as used by the NCAR
CAMELS benchmark (Newman et al., 2015), run once per day (``IDT = 24`` h, one precipitation
interval). Per day, with air temperature :math:`T_a` (deg C) and precipitation :math:`P` (mm):

- **Form of precipitation**: snow if :math:`T_a \\le` ``pxtemp``; snowfall is
  :math:`P_s = \\mathrm{scf}\\,P` (gauge-catch correction), rain :math:`P_r = P` is not corrected.
- **Seasonal melt factor** (lower 48, latitude < 54 N), with :math:`d` the day number counted from
  21 March: :math:`M_f = \\tfrac{M_{max}+M_{min}}{2} + \\tfrac{M_{max}-M_{min}}{2}\\sin(2\\pi d/366)`;
  north of 54 N the Alaska variant ramps the seasonal amplitude in between March and October.
  ``mfmax``, ``mfmin``, ``nmf`` and ``uadj`` are per 6 h and are scaled by 4 for the daily step.
- **Non-rain melt**: :math:`M = M_f\\,\\max(T_a - \\mathrm{mbase}, 0)` plus rain melt
  :math:`0.0125\\,P_r\\,\\max(T_a, 0)`.
- **Rain-on-snow melt** (rain > 0.25 mm/h): energy balance with 90 % humidity,
  :math:`M = \\sigma\\Delta t [(T_a+273)^4 - 273^4] + 8.5\\,U_{adj}(e_a - 6.11)
  + 7.5\\cdot 6.46\\times10^{-4} P_a U_{adj} T_a + 0.0125 P_r T_a` with the atmospheric pressure
  :math:`P_a` (hPa) from the basin elevation.
- **Heat deficit** (``nmf``, ``tipm``): the antecedent temperature index
  :math:`T_i \\leftarrow T_i + \\mathrm{tipm}_{24}(T_a - T_i)` drives the change of the pack's
  negative heat storage; new snow adds :math:`-\\min(T_a,0) P_s / 160`.
- **Areal depletion** (``si``, ``adc``): the snow-covered fraction follows the 11-point areal
  depletion curve of :math:`W/A_i`, with :math:`A_i = \\min(W_{max}, \\mathrm{si})`.
- **Liquid water** (``plwhc``): retained up to ``plwhc`` times the ice content, the excess is lagged
  and attenuated through the pack (``ROUT19``); ``daygm`` melts the pack bottom every day.

Three quirks of the NCAR build are kept so that its output is reproduced: the new-snowfall
threshold ``SNOF`` of the depletion-curve logic is zero (the common block is never set); the
depletion curve is re-entered only when the pack is strictly below its last reference value
(``TWE <= SB + tiny`` with an uninitialised ``tiny``: the Fortran output shows full cover on days
with ``TWE == SB``); and the day number uses ``year % 4 == 0`` for leap years.

The NCAR Fortran run of basin 03049800 is reproduced to 3.3e-6 mm SWE on every day of 1980-2014
(float64 here, single precision there; ``tests/test_sacsma_reference.py``). To get that, the test
gives the model the two settings that run had. The depletion curve is all zero: its parameter file
has no ``adc1`` .. ``adc11`` lines, and the NCAR reader leaves the array at zero. The surface
pressure is zero, so the rain-on-snow balance has no sensible heat.

References
----------
- Anderson, E. A. (1973): National Weather Service River Forecast System - Snow accumulation and
  ablation model. NOAA Tech. Memo. NWS HYDRO-17.
- Anderson, E. A. (2006): Snow accumulation and ablation model - SNOW-17. NWS user manual.
- Newman, A. J., et al. (2015): HESS 19, 209-223.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Parameter order of the compiled kernel.
PARAMETER_NAMES: tuple[str, ...] = (
    "scf", "mfmax", "mfmin", "uadj", "si", "pxtemp", "nmf", "tipm", "mbase", "plwhc", "daygm",
)

#: Calibration bounds (Newman et al., 2015 / NCAR calibration namelist) for the calibrated
#: parameters, physically valid ranges for the fixed ones.
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "scf": (0.1, 5.0),
    "mfmax": (0.8, 3.0),
    "mfmin": (0.01, 0.79),
    "uadj": (0.01, 0.4),
    "si": (1.0, 3500.0),
    "pxtemp": (-2.0, 2.0),
    "nmf": (0.05, 0.5),
    "tipm": (0.01, 1.0),
    "mbase": (0.0, 1.0),
    "plwhc": (0.01, 0.4),
    "daygm": (0.0, 0.5),
}

#: Parameters calibrated in the CAMELS set-up.
CALIBRATED_PARAMETERS: tuple[str, ...] = ("scf", "mfmax", "mfmin", "uadj", "si", "pxtemp")

#: NCAR values of the parameters that are not calibrated.
DEFAULT_PARAMETERS: dict[str, float] = {
    "nmf": 0.15, "tipm": 0.2, "mbase": 0.0, "plwhc": 0.25, "daygm": 0.2,
}

#: Areal depletion curve of the NCAR namelist: snow-covered fraction at W/A_i = 0, 0.1, ..., 1.
DEFAULT_ADC = np.array([0.05, 0.15, 0.26, 0.45, 0.5, 0.56, 0.61, 0.65, 0.69, 0.82, 1.0])

#: Output columns of one Snow-17 day (:func:`snow17_step`).
OUTPUT_NAMES: tuple[str, ...] = ("swe", "rain_plus_melt", "snowfall", "rainfall", "snow_cover")

# Parameter vector layout (same order as PARAMETER_NAMES).
(P_SCF, P_MFMAX, P_MFMIN, P_UADJ, P_SI, P_PXTEMP,
 P_NMF, P_TIPM, P_MBASE, P_PLWHC, P_DAYGM) = range(11)

# State vector layout (water equivalents in mm, heat deficit in mm of water equivalent).
WE, NEGHS, LIQW, TINDEX, ACCMAX, SB, SBAESC, SBWS, STORGE, AEADJ, EXLAG1, EXLAG2 = range(12)
N_STATES = 12

HOURS = 24.0            # computational interval (h)
SNOW_NEW = 1.5 * HOURS  # snowfall (mm) above which the temperature index resets to T_a
RAIN_MIN = 0.25 * HOURS  # rain (mm) above which the rain-on-snow energy balance is used
STEFAN_BOLTZMANN = 0.0612 * HOURS  # mm / ((K/100)^4 interval)
LAG_COEFF = 0.03 * HOURS / 6.0
NEW_SNOW_THRESHOLD = 0.0  # SNOF: zero in the NCAR build (never initialised common block)


def surface_pressure(elev: float) -> float:
    """Standard-atmosphere surface pressure (hPa) at elevation ``elev`` (m), as the NCAR code:

    :math:`P_a = 33.86\\,[29.9 - 0.335\\,z + 0.00022\\,z^{2.4}]` with :math:`z` in hundreds of m.
    """
    z = elev / 100.0
    return 33.86 * (29.9 - 0.335 * z + 0.00022 * z**2.4)


def melt_day_number(dates: np.ndarray) -> np.ndarray:
    """Day number counted from 21 March used by the seasonal melt factor (``EXSNOW19``).

    Reproduces the NWS computation including its leap-year rule (``year % 4``) and its offsets.
    """
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    return _day_numbers(days)


_FIRST_OF_MONTH = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)


@njit(cache=True, error_model="numpy")
def _day_numbers(days_since_epoch: np.ndarray) -> np.ndarray:
    """:func:`melt_day_number` of days since 1970-01-01 (Hinnant's civil-from-days algorithm)."""
    first_of_month = _FIRST_OF_MONTH
    march21 = 59 + 21
    out = np.empty(days_since_epoch.shape[0])
    for i in range(days_since_epoch.shape[0]):
        z = days_since_epoch[i] + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        day_of_year = first_of_month[month - 1] + day
        leap = 1 if year % 4 == 0 and month >= 3 else 0
        if day_of_year + leap >= march21:
            out[i] = day_of_year - march21
        else:
            out[i] = 365 + leap - (march21 - day_of_year)
    return out


@njit(cache=True, error_model="numpy", inline="always")
def _melt_factor(day_number: float, lat: float, mfmax: float, mfmin: float) -> float:
    """Seasonal melt factor (mm/degC/day), ``MELT19``."""
    diff = mfmax - mfmin
    if lat < 54.0:
        return math.sin(day_number * 2.0 * 3.1416 / 366.0) * diff * 0.5 + (mfmax + mfmin) * 0.5
    if day_number >= 275:
        x = (day_number - 275.0) / (458.0 - 275.0)
    elif day_number >= 92:
        x = (275.0 - day_number) / (275.0 - 92.0)
    else:
        x = (91.0 + day_number) / 183.0
    xx = math.sin(day_number * 2.0 * 3.1416 / 366.0) * 0.5 + 0.5
    adjust = min(max((x - 0.48) / (0.70 - 0.48), 0.0), 1.0)
    return xx * adjust * diff + mfmin


@njit(cache=True, error_model="numpy", inline="always")
def _areal_extent(st: np.ndarray, si: float, adc: np.ndarray) -> float:
    """Snow-covered fraction from the areal depletion curve; updates its memory (``AESC19``)."""
    twe = st[WE] + st[LIQW]
    if twe > st[ACCMAX]:
        st[ACCMAX] = twe
    if twe >= st[AEADJ]:
        st[AEADJ] = 0.0
    ai = min(st[ACCMAX], si)
    if st[AEADJ] > 0.0:
        ai = st[AEADJ]
    if twe >= ai:
        st[SB] = twe
        st[SBWS] = twe
        aesc = 1.0
    elif twe < st[SB]:
        r = twe / ai * 10.0 + 1.0
        n = int(r)
        r -= n
        aesc = min(adc[n - 1] + (adc[n] - adc[n - 1]) * r, 1.0)
        st[SB] = twe + NEW_SNOW_THRESHOLD
        st[SBWS] = twe
        st[SBAESC] = aesc
    elif twe >= st[SBWS]:
        aesc = 1.0
    else:
        aesc = st[SBAESC] + (1.0 - st[SBAESC]) * (twe - st[SB]) / (st[SBWS] - st[SB])
    return min(max(aesc, 0.05), 1.0)


@njit(cache=True, error_model="numpy", inline="always")
def _route_excess(st: np.ndarray, excess: float, aesc: float) -> float:
    """Lag and attenuate excess liquid water through the pack, return outflow (``ROUT19``)."""
    we = st[WE]
    if excess != 0.0:
        if excess < 0.1 or we < 1.0:
            st[EXLAG1] += excess
        else:
            n = max(int((excess * 4.0) ** 0.3 + 0.5), 1)
            for i in range(1, n + 1):
                term = min(LAG_COEFF * we * n / (excess * (i - 0.5)), 150.0)
                lag_hours = 5.33 * (1.0 - math.exp(-term))
                second = lag_hours / HOURS  # lag < 24 h: this share reaches tomorrow
                st[EXLAG2] += second * excess / n
                st[EXLAG1] += (1.0 - second) * excess / n
    outflow = 0.0
    lagged = st[STORGE] + st[EXLAG1]
    if lagged != 0.0:
        if lagged < 0.1:
            outflow = lagged
            st[STORGE] = 0.0
        else:
            hourly = st[EXLAG1] / HOURS
            term = min(500.0 * (hourly / (25.4 * aesc)) / (we / (25.4 * aesc)) ** 1.3, 150.0)
            r1 = 1.0 / (5.0 * math.exp(-term) + 1.0)
            storge = st[STORGE]  # hourly loop on a local: stays in a register
            for _ in range(int(HOURS)):
                out = (storge + hourly) * r1
                outflow += out
                storge += hourly - out
            if storge <= 0.001:
                outflow += storge
                storge = 0.0
            st[STORGE] = storge
    st[EXLAG1] = st[EXLAG2]
    st[EXLAG2] = 0.0
    return outflow


@njit(cache=True, error_model="numpy", inline="always")
def _pack_water(st: np.ndarray) -> float:
    """Total water equivalent of the pack: ice, liquid, lagged and attenuated water (mm)."""
    return st[WE] + st[LIQW] + st[EXLAG1] + st[EXLAG2] + st[STORGE]


@njit(cache=True, error_model="numpy", inline="always")
def _heat_and_water_balance(st: np.ndarray, water: float, heat: float, plwhc: float) -> float:
    """Refreeze water against the heat deficit, retain liquid water, return the excess (mm)."""
    liqwmx = plwhc * st[WE]
    st[NEGHS] = min(max(st[NEGHS] + heat, 0.0), 0.33 * st[WE])
    neghs = st[NEGHS]
    excess = 0.0
    if water + st[LIQW] >= liqwmx + neghs + plwhc * neghs:
        excess = water + st[LIQW] - liqwmx - neghs - plwhc * neghs
        st[LIQW] = liqwmx + plwhc * neghs
        st[WE] += neghs
        st[NEGHS] = 0.0
    elif water >= neghs:
        st[LIQW] += water - neghs
        st[WE] += neghs
        st[NEGHS] = 0.0
    else:
        st[WE] += water
        st[NEGHS] = neghs - water
    if st[NEGHS] == 0.0:
        st[TINDEX] = 0.0
    return excess


@njit(cache=True, error_model="numpy", inline="always")
def _accumulate(st: np.ndarray, snowfall: float, tsnow: float) -> float:
    """Add snowfall to the pack and update the depletion-curve memory; return its heat deficit."""
    swe = st[WE] + st[LIQW]
    if swe >= st[SBWS]:
        st[SBWS] += 0.75 * snowfall
        if snowfall >= NEW_SNOW_THRESHOLD and st[SB] > swe:
            st[SB] = swe
    elif snowfall >= NEW_SNOW_THRESHOLD:
        st[SBWS] = swe + 0.75 * snowfall
    st[WE] += snowfall
    if st[WE] + st[LIQW] >= 3.0 * st[SB]:
        st[ACCMAX] = st[WE] + st[LIQW]
        st[AEADJ] = 0.0
    if snowfall > SNOW_NEW:
        st[TINDEX] = tsnow
    return -tsnow * snowfall / 160.0


@njit(cache=True, error_model="numpy", inline="always")
def snow17_step(
    prcp: float, tair: float, day_number: float, p: np.ndarray, adc: np.ndarray, lat: float,
    pressure: float, st: np.ndarray, out: np.ndarray,
) -> None:
    """Advance the pack state ``st`` by one day and write :data:`OUTPUT_NAMES` into ``out``."""
    snowfall = 0.0
    rain = 0.0
    heat_new_snow = 0.0
    aesc = 0.0
    if prcp > 0.0 and tair <= p[P_PXTEMP]:
        snowfall = prcp * p[P_SCF]
        heat_new_snow = _accumulate(st, snowfall, min(tair, 0.0))
    elif prcp > 0.0:
        rain = prcp
    out[2] = snowfall
    out[3] = rain
    if st[WE] == 0.0:  # no pack and no new snow: precipitation passes through
        out[0] = _pack_water(st)
        out[1] = rain
        out[4] = 0.0
        return
    rain_melt = 0.0125 * rain * max(tair, 0.0)
    if st[WE] <= p[P_DAYGM]:  # ground melt removes the whole pack
        outflow = _pack_water(st) + rain
        st[:] = 0.0
    else:
        outflow, aesc = _ablate(tair, day_number, rain, rain_melt, heat_new_snow, p, adc, lat,
                                pressure, st)
    if _pack_water(st) > 0.0:
        aesc = _areal_extent(st, p[P_SI], adc)
    out[0] = _pack_water(st)
    out[1] = outflow
    out[4] = aesc


@njit(cache=True, error_model="numpy", inline="always")
def _ablate(
    tair: float, day_number: float, rain: float, rain_melt: float, heat_new_snow: float,
    p: np.ndarray, adc: np.ndarray, lat: float, pressure: float, st: np.ndarray,
) -> tuple[float, float]:
    """Melt, heat and water balance of an existing pack; return (outflow mm, cover fraction).

    The 6-hourly rates ``mfmax``, ``mfmin``, ``nmf``, ``uadj`` are scaled by 4 and ``tipm`` to
    :math:`1 - (1 - \\mathrm{tipm})^4` for the daily step, as ``EXSNOW19`` does.
    """
    ground_liquid = p[P_DAYGM] / st[WE] * st[LIQW]
    ground_ice = p[P_DAYGM]
    mfmax = 4.0 * p[P_MFMAX]
    melt_factor = _melt_factor(day_number, lat, mfmax, 4.0 * p[P_MFMIN])
    heat = melt_factor / mfmax * 4.0 * p[P_NMF] * (st[TINDEX] - min(tair, 0.0))
    tipm = 1.0 - (1.0 - p[P_TIPM]) ** 4
    st[TINDEX] = min(st[TINDEX] + tipm * (tair - st[TINDEX]), 0.0)
    if rain > RAIN_MIN:
        melt = max(_rain_on_snow_melt(tair, 4.0 * p[P_UADJ], pressure) + rain_melt, 0.0)
    else:
        melt = melt_factor * max(tair - p[P_MBASE], 0.0) + rain_melt
    aesc = _areal_extent(st, p[P_SI], adc)
    bare_rain = (1.0 - aesc) * rain
    melt *= aesc
    heat *= aesc
    ground_liquid *= aesc
    ground_ice *= aesc
    rain -= bare_rain
    if heat + st[NEGHS] < 0.0:
        heat = -st[NEGHS]
    st[WE] -= ground_ice
    st[LIQW] -= ground_liquid
    ground_melt = ground_ice + ground_liquid
    if melt > 0.0 and melt >= st[WE]:  # surface melt removes the whole pack
        outflow = ground_melt + _pack_water(st) + rain + bare_rain
        st[:] = 0.0
        return outflow, 0.0
    if melt > 0.0:
        st[WE] -= melt
    excess = _heat_and_water_balance(st, melt + rain, heat + heat_new_snow, p[P_PLWHC])
    return _route_excess(st, excess, aesc) + ground_melt + bare_rain, aesc


@njit(cache=True, error_model="numpy", inline="always")
def _rain_on_snow_melt(tair: float, uadj: float, pressure: float) -> float:
    """Energy-balance melt (mm/day) during rain: long-wave, latent and sensible heat terms."""
    vapour_pressure = 0.90 * 2.7489e8 * math.exp(-4278.63 / (tair + 242.792))
    tak = (tair + 273.0) * 0.01
    longwave = STEFAN_BOLTZMANN * (tak**4 - 55.55)
    latent = 8.5 * (vapour_pressure - 6.11) * uadj
    sensible = 7.5 * 0.000646 * pressure * uadj * tair
    return longwave + latent + sensible
