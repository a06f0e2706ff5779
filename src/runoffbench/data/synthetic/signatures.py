"""Climate indices and hydrological signatures of CAMELS (Addor et al., 2017), from daily series.

All functions take 1-d daily arrays plus their dates; NaN marks missing streamflow and is left out
(annual quantities use only complete water years, which start on 1 October).

References
----------
Addor, N., Newman, A. J., Mizukami, N., Clark, M. P. (2017): The CAMELS data set: catchment
    attributes and meteorology for large-sample studies. Hydrol. Earth Syst. Sci. 21, 5293–5313.
Ladson, A. R. et al. (2013): A standard approach to baseflow separation using the Lyne and Hollick
    filter. Australas. J. Water Resour. 17, 25–34.
Sankarasubramanian, A., Vogel, R. M., Limbrunner, J. F. (2001): Climate elasticity of streamflow in the
    United States. Water Resour. Res. 37, 1771–1781.
Sawicz, K. et al. (2011): Catchment classification: empirical analysis of hydrologic similarity based
    on catchment function in the eastern USA. Hydrol. Earth Syst. Sci. 15, 2895–2911.
Woods, R. A. (2009): Analytical model of seasonal climate impacts on snow hydrology: continuous
    snowpacks. Adv. Water Resour. 32, 1465–1481.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

_SEASONS = {12: "djf", 1: "djf", 2: "djf", 3: "mam", 4: "mam", 5: "mam",
            6: "jja", 7: "jja", 8: "jja", 9: "son", 10: "son", 11: "son"}
_DAYS_PER_YEAR = 365.25


def event_durations(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive True values in ``mask``."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[1::2] - edges[::2]


def _frequency_duration_timing(mask: np.ndarray, dates: pd.DatetimeIndex) -> tuple[float, float, str]:
    """(days per year, mean event duration [days], season with most event days)."""
    durations = event_durations(mask)
    freq = mask.sum() / len(mask) * _DAYS_PER_YEAR
    dur = float(durations.mean()) if len(durations) else 0.0
    seasons = pd.Series(np.asarray(dates.month)[mask]).map(_SEASONS)
    timing = seasons.value_counts().idxmax() if len(seasons) else "NA"
    return float(freq), dur, timing


def seasonality_index(prcp: np.ndarray, temp: np.ndarray, dates: pd.DatetimeIndex) -> float:
    """Precipitation seasonality of Woods (2009) as used in CAMELS (``p_seasonality``).

    Fits P(t) = P̄ [1 + δ_p sin(2π(t − s_p)/τ)] and T(t) = T̄ + Δ_T sin(2π(t − s_T)/τ) (τ = 1 yr) by least
    squares and returns δ_p · sign(Δ_T) · cos(2π(s_p − s_T)/τ): positive for summer-peaking, negative for
    winter-peaking precipitation.
    """
    phase = 2.0 * np.pi * np.asarray(dates.day_of_year, dtype=float) / _DAYS_PER_YEAR
    design = np.column_stack([np.ones_like(phase), np.sin(phase), np.cos(phase)])
    (p0, ps, pc), *_ = np.linalg.lstsq(design, prcp, rcond=None)
    (_, ts, tc), *_ = np.linalg.lstsq(design, temp, rcond=None)
    # a sin(x) + b cos(x) = A sin(x + θ), θ = atan2(b, a)
    delta_p = np.hypot(ps, pc) / p0
    theta_p, theta_t = np.arctan2(pc, ps), np.arctan2(tc, ts)
    return float(delta_p * np.cos(theta_p - theta_t))


def climate_indices(prcp: np.ndarray, temp: np.ndarray, pet: np.ndarray, dates: pd.DatetimeIndex) -> dict:
    """The camels_clim indices (Addor et al., 2017, Table 2) over the whole series.

    p_mean, pet_mean [mm/day]; aridity = pet_mean/p_mean; p_seasonality (Woods, 2009);
    frac_snow: fraction of precipitation on days with mean temperature < 0 °C;
    high_prec_*: days with P ≥ 5 × p_mean (frequency [days/yr], mean duration [days], season);
    low_prec_*: dry days with P < 1 mm/day (same three quantities).
    """
    p_mean = float(prcp.mean())
    pet_mean = float(pet.mean())
    high = _frequency_duration_timing(prcp >= 5.0 * p_mean, dates)
    low = _frequency_duration_timing(prcp < 1.0, dates)
    return {
        "p_mean": p_mean,
        "pet_mean": pet_mean,
        "p_seasonality": seasonality_index(prcp, temp, dates),
        "frac_snow": float(prcp[temp < 0.0].sum() / prcp.sum()),
        "aridity": pet_mean / p_mean,
        "high_prec_freq": high[0], "high_prec_dur": high[1], "high_prec_timing": high[2],
        "low_prec_freq": low[0], "low_prec_dur": low[1], "low_prec_timing": low[2],
    }


def ladson_baseflow(q: np.ndarray, alpha: float = 0.925, passes: int = 3, reflect: int = 30) -> np.ndarray:
    """Baseflow from the Lyne–Hollick filter in the standard form of Ladson et al. (2013).

    Quickflow f_k = α f_{k−1} + (1 + α)/2 (q_k − q_{k−1}), clipped to [0, q_k]; baseflow = q − f.
    The filter runs forward, backward, forward (``passes``), each pass filtering the previous
    baseflow, on the series padded at both ends with ``reflect`` mirrored values.
    """
    n_reflect = min(reflect, len(q) - 1)
    padded = np.concatenate([q[n_reflect:0:-1], q, q[-2:-n_reflect - 2:-1]])
    base = padded.astype(float)
    for k in range(passes):
        base = _filter_pass(base, alpha) if k % 2 == 0 else _filter_pass(base[::-1].copy(), alpha)[::-1]
    return base[n_reflect:n_reflect + len(q)]


@njit(cache=True)
def _filter_pass(series: np.ndarray, alpha: float) -> np.ndarray:
    """One Lyne–Hollick pass; returns the baseflow (series minus clipped quickflow)."""
    base = np.empty_like(series)
    quick = 0.0
    base[0] = series[0]
    for i in range(1, len(series)):
        quick = alpha * quick + 0.5 * (1.0 + alpha) * (series[i] - series[i - 1])
        quick = min(max(quick, 0.0), series[i])
        base[i] = series[i] - quick
    return base


def _water_years(dates: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(dates.year + (dates.month >= 10), dtype=int)


def _complete_water_years(q: np.ndarray, dates: pd.DatetimeIndex):
    """Yield (index array) for each water year with 365+ days and no missing streamflow."""
    wy = _water_years(dates)
    for year in np.unique(wy):
        idx = np.flatnonzero(wy == year)
        if len(idx) >= 365 and not np.isnan(q[idx]).any():
            yield idx


def stream_elasticity(q: np.ndarray, prcp: np.ndarray, dates: pd.DatetimeIndex) -> float:
    """Streamflow–precipitation elasticity (Sankarasubramanian et al., 2001), median over water years of
    (Q_y − Q̄)/(P_y − P̄) · P̄/Q̄ with annual means Q_y, P_y and long-term means Q̄, P̄."""
    years = list(_complete_water_years(q, dates))
    q_y = np.array([q[idx].mean() for idx in years])
    p_y = np.array([prcp[idx].mean() for idx in years])
    if len(years) < 2 or q_y.mean() == 0.0:
        return float("nan")
    dp = p_y - p_y.mean()
    valid = dp != 0.0
    ratio = (q_y[valid] - q_y.mean()) / dp[valid] * p_y.mean() / q_y.mean()
    return float(np.median(ratio))


def half_flow_date(q: np.ndarray, dates: pd.DatetimeIndex) -> float:
    """Mean over complete water years of the day (counted from 1 October) on which the cumulative
    discharge first reaches half of the year's total."""
    days = []
    for idx in _complete_water_years(q, dates):
        cumulative = np.cumsum(q[idx])
        if cumulative[-1] > 0.0:
            days.append(int(np.argmax(cumulative >= 0.5 * cumulative[-1])) + 1)
    return float(np.mean(days)) if days else float("nan")


def hydro_signatures(q: np.ndarray, prcp: np.ndarray, dates: pd.DatetimeIndex) -> dict:
    """The camels_hydro signatures (Addor et al., 2017, Table 3) from daily streamflow [mm/day].

    q_mean; runoff_ratio = q_mean/p_mean (same days); stream_elas; slope_fdc = (ln Q₃₃ − ln Q₆₆)/(0.66 −
    0.33) with Q_x the flow exceeded x % of the time (Sawicz et al., 2011; NaN when Q₆₆ = 0);
    baseflow_index = Σ baseflow / Σ q (Ladson et al., 2013); q5, q95 (5 % and 95 % quantiles);
    high_q_freq/dur: days > 9 × median flow; low_q_freq/dur: days < 0.2 × mean flow; zero_q_freq:
    fraction of days with q = 0; hfd_mean: mean half-flow date.
    """
    valid = ~np.isnan(q)
    qv, pv = q[valid], prcp[valid]
    q_mean = float(qv.mean())
    q33, q66 = np.quantile(qv, [1.0 - 0.33, 1.0 - 0.66])
    slope = (np.log(q33) - np.log(q66)) / (0.66 - 0.33) if q66 > 0.0 else float("nan")
    high = qv > 9.0 * np.median(qv)
    low = qv < 0.2 * q_mean
    high_dur = event_durations(high)
    low_dur = event_durations(low)
    return {
        "q_mean": q_mean,
        "runoff_ratio": q_mean / float(pv.mean()),
        "slope_fdc": float(slope),
        "baseflow_index": float(ladson_baseflow(qv).sum() / qv.sum()) if qv.sum() > 0 else float("nan"),
        "stream_elas": stream_elasticity(q, prcp, dates),
        "q5": float(np.quantile(qv, 0.05)),
        "q95": float(np.quantile(qv, 0.95)),
        "high_q_freq": float(high.mean() * _DAYS_PER_YEAR),
        "high_q_dur": float(high_dur.mean()) if len(high_dur) else 0.0,
        "low_q_freq": float(low.mean() * _DAYS_PER_YEAR),
        "low_q_dur": float(low_dur.mean()) if len(low_dur) else 0.0,
        "zero_q_freq": float((qv == 0.0).mean()),
        "hfd_mean": half_flow_date(q, dates),
    }
