"""Peak-flow metrics: Peak-Timing, Missed-Peaks and Peak-MAPE, as defined in neuralhydrology 1.13.

Observed peaks are found with ``scipy.signal.find_peaks`` on the masked series (missing days removed),
exactly as neuralhydrology does. A peak is only evaluated if its window of ±`window` days is complete (no
missing day inside), which is checked with the day numbers of :class:`PairedSeries`; without dates the
record is taken as consecutive days.

Deliberate difference: Missed-Peaks is NaN (not 0) when the observations have no peak above the
percentile, consistent with Peak-Timing and Peak-MAPE, which neuralhydrology also make NaN without peaks.

Reference
---------
Kratzert, F., Klotz, D., Hochreiter, S. and Nearing, G. S. (2021): A note on leveraging synergy in
multiple meteorological data sets with deep learning for rainfall-runoff modeling, Hydrol. Earth Syst.
Sci., 25, 2685-2703, doi:10.5194/hess-25-2685-2021 (appendix: peak timing).
"""
from __future__ import annotations

import numpy as np
from scipy import signal

from runoffbench.errors import ConfigError
from runoffbench.evaluation.series import MetricUndefined, PairedSeries, per_basin_metric


@per_basin_metric("Peak-Timing")
def mean_peak_timing(pair: PairedSeries, window: int = 3) -> float:
    r"""Mean absolute timing error of the observed peaks, in days.

    Observed peaks: ``find_peaks`` with a minimum distance of 100 days and a prominence of at least the
    standard deviation of the observed flow. For each peak at day :math:`t_o` the simulated peak
    :math:`t_s` is :math:`t_o` itself if the simulation has a local maximum there, else the day of the
    simulated maximum within :math:`t_o \pm` `window` (3 days, neuralhydrology's daily default).

    .. math:: \text{Peak-Timing} = \frac{1}{P}\sum_{p=1}^{P} |t_{o,p} - t_{s,p}|

    Peaks whose window runs past the record or over a missing day are skipped. Call as
    ``mean_peak_timing(obs, sim, dates=None, *, basin=None, window=3)``.
    """
    _check_window("Peak-Timing", window)
    errors = [_timing_error(pair, idx, window) for idx in _prominent_peaks(pair.obs)
              if _window_is_complete(pair.days, idx, window)]
    if not errors:
        raise MetricUndefined(f"no observed peak with a complete ±{window}-day window")
    return float(np.mean(errors))


@per_basin_metric("Missed-Peaks")
def missed_peaks(pair: PairedSeries, window: int = 1, percentile: float = 80) -> float:
    """Fraction of observed peaks without a simulated peak within ±`window` days (1, neuralhydrology's
    daily default).

    Peaks of each series: ``find_peaks`` with a minimum distance of 30 days and a height of at least the
    `percentile` of that series. Observed peaks whose window runs past the record or over a missing day
    are never counted as missed but stay in the denominator, as in neuralhydrology. Call as
    ``missed_peaks(obs, sim, dates=None, *, basin=None, window=1, percentile=80)``.
    """
    _check_window("Missed-Peaks", window)
    if not 0 < percentile < 100:
        raise ConfigError(f"Missed-Peaks: percentile must lie in ]0, 100[, got {percentile}")
    obs_peaks, _ = signal.find_peaks(pair.obs, distance=30, height=np.percentile(pair.obs, percentile))
    sim_peaks, _ = signal.find_peaks(pair.sim, distance=30, height=np.percentile(pair.sim, percentile))
    if obs_peaks.size == 0:
        raise MetricUndefined(f"no observed peak above the {percentile:g}th percentile")
    missed = sum(1 for idx in obs_peaks
                 if _window_is_complete(pair.days, idx, window) and not np.any(np.abs(sim_peaks - idx) <= window))
    return missed / obs_peaks.size


@per_basin_metric("Peak-MAPE")
def peak_mape(pair: PairedSeries) -> float:
    r"""Mean absolute percentage error of the simulated flow on the days of the observed peaks.

    .. math:: \text{MAPE}_\text{peak} = \frac{100}{P}\sum_{p=1}^{P}\left|\frac{Q_{s,p} - Q_{o,p}}{Q_{o,p}}\right|

    with the peaks of :func:`mean_peak_timing` (no window check, as in neuralhydrology). Call as
    ``peak_mape(obs, sim, dates=None, *, basin=None)``.
    """
    peaks = _prominent_peaks(pair.obs)
    if peaks.size == 0:
        raise MetricUndefined("no observed peak")
    obs, sim = pair.obs[peaks], pair.sim[peaks]
    return np.sum(np.abs((sim - obs) / obs)) / peaks.size * 100


def _prominent_peaks(obs: np.ndarray) -> np.ndarray:
    peaks, _ = signal.find_peaks(obs, distance=100, prominence=np.std(obs))
    return peaks


def _window_is_complete(days: np.ndarray, idx: int, window: int) -> bool:
    if idx - window < 0 or idx + window >= days.size:
        return False
    return days[idx + window] - days[idx - window] == 2 * window


def _timing_error(pair: PairedSeries, idx: int, window: int) -> int:
    sim = pair.sim
    if sim[idx] > sim[idx - 1] and sim[idx] > sim[idx + 1]:
        return 0
    peak = idx - window + int(np.argmax(sim[idx - window:idx + window + 1]))
    return abs(int(pair.days[idx] - pair.days[peak]))


def _check_window(metric: str, window: int) -> None:
    if int(window) != window or window < 1:
        raise ConfigError(f"{metric}: window must be a positive whole number of days, got {window}")
