r"""Benchmark models that need no forcing: the floor every rainfall-runoff model must beat.

Both are fitted per basin on the observed streamflow of the training period and predict the test
period, written as the prediction contract (:mod:`runoffbench.predictions`).

``mean_flow``
    :math:`Q_s(t) = \overline{Q_o}^{\,\text{train}}`. Over the period it was fitted on it has
    :math:`\beta = 1`, :math:`\alpha = 0` and (by convention, a constant) :math:`r = 0`, hence
    :math:`\text{KGE} = 1 - \sqrt{2} \approx -0.41` and :math:`\text{NSE} = 0`: the inherent
    benchmark of Knoben et al. (2019).
``climatology``
    :math:`Q_s(t) = \widetilde{Q}_o(d(t))`, the mean observed flow on calendar day :math:`d` of the
    training years, smoothed with a circular moving average of ``window`` days (Schaefli and Gupta,
    2007, "benchmark model"). Days are counted on a 365-day calendar; 29 February takes the value
    of 28 February.

Basins without training data: the rule every model kind applies (:mod:`runoffbench.failures`) — a
basin with too few observed days in the training period is left out of the predictions and returned
with its reason (``failures.csv`` of the run, stage ``baseline``); the others are fitted as usual.

Members: a deterministic baseline has one member. With ``bootstrap_years`` each member (a seed)
fits on a bootstrap resample of the training water years instead (a basin whose observed years the
resample misses: on a resample of those years), so the baseline has a seed
ensemble whose spread shows the sampling uncertainty of the benchmark.

References
----------
Knoben, W. J. M., Freer, J. E. and Woods, R. A. (2019): Technical note: Inherent benchmark or not?
Comparing Nash-Sutcliffe and Kling-Gupta efficiency scores, Hydrol. Earth Syst. Sci., 23, 4323-4331,
doi:10.5194/hess-23-4323-2019.
Schaefli, B. and Gupta, H. V. (2007): Do Nash values have value?, Hydrol. Process., 21, 2075-2080,
doi:10.1002/hyp.6825.
"""

from __future__ import annotations

import logging
import warnings
import zlib

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.failures import screen_training_record
from runoffbench.periods import Period
from runoffbench.predictions import make_predictions

log = logging.getLogger(__name__)

#: baseline method -> one-line description (``models.<name>.method`` in the config)
METHODS = {
    "mean_flow": "training-period mean flow of each basin (Knoben et al. 2019)",
    "climatology": "smoothed day-of-year mean flow of the training period",
}

DAYS_PER_YEAR = 365


def calendar_day(dates: pd.DatetimeIndex) -> np.ndarray:
    """Day of a 365-day year, 0..364; 29 February maps to 28 February (day 58)."""
    dates = pd.DatetimeIndex(dates)
    day = dates.day_of_year.to_numpy() - 1
    from_29_february = dates.is_leap_year & ((dates.month > 2) | ((dates.month == 2) & (dates.day == 29)))
    day = np.where(from_29_february, day - 1, day)
    return day


def water_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """US water year of each date (1 October of year N-1 starts water year N)."""
    dates = pd.DatetimeIndex(dates)
    return dates.year.to_numpy() + (dates.month >= 10)


def bootstrap_days(dates: pd.DatetimeIndex, seed: int) -> np.ndarray:
    """Indices of ``dates`` after resampling their water years with replacement (seeded)."""
    years = water_year(dates)
    unique = np.unique(years)
    drawn = np.random.default_rng(seed).choice(unique, size=unique.size, replace=True)
    return np.concatenate([np.flatnonzero(years == year) for year in drawn])


def _observed_years_resample(dates: pd.DatetimeIndex, flow: np.ndarray, member: int, basin: str) -> np.ndarray:
    """Indices of ``dates`` after resampling (seeded by ``member`` and ``basin``) only the water years in
    which ``flow`` has observations, as many as there are water years: for a basin whose record the
    member's common resample misses, so that every member covers the same basins."""
    years = water_year(dates)
    observed = np.unique(years[np.isfinite(flow)])
    drawn = np.random.default_rng([int(member), zlib.crc32(basin.encode())]).choice(
        observed, size=np.unique(years).size, replace=True)
    return np.concatenate([np.flatnonzero(years == year) for year in drawn])


def fit_mean_flow(qobs: np.ndarray) -> np.ndarray:
    """Mean of each row of ``qobs`` (basin, day), ignoring missing days."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows: checked by the caller
        return np.nanmean(qobs, axis=1)


def fit_climatology(qobs: np.ndarray, dates: pd.DatetimeIndex, window: int) -> np.ndarray:
    """Smoothed mean flow per basin and calendar day, shape (basin, 365).

    The raw mean of each calendar day (missing days skipped) is smoothed by a centred circular
    moving average over ``window`` days (odd), which also fills calendar days without data.
    """
    if window < 1 or window % 2 == 0:
        raise ConfigError(f"climatology window must be a positive odd number of days, got {window}")
    days = calendar_day(dates)
    valid = np.isfinite(qobs)
    sums = np.zeros((qobs.shape[0], DAYS_PER_YEAR))
    counts = np.zeros((qobs.shape[0], DAYS_PER_YEAR))
    np.add.at(sums.T, days, np.where(valid, qobs, 0.0).T)
    np.add.at(counts.T, days, valid.T.astype(float))
    half = window // 2
    kernel = np.ones(window)
    wrapped_sums = np.concatenate([sums[:, -half:], sums, sums[:, :half]], axis=1) if half else sums
    wrapped_counts = np.concatenate([counts[:, -half:], counts, counts[:, :half]], axis=1) if half else counts
    smooth_sums = np.apply_along_axis(np.convolve, 1, wrapped_sums, kernel, mode="valid")
    smooth_counts = np.apply_along_axis(np.convolve, 1, wrapped_counts, kernel, mode="valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(smooth_counts > 0, smooth_sums / smooth_counts, np.nan)


def baseline_predictions(cache: xr.Dataset, method: str, train: Period, test: Period, **options) -> xr.Dataset:
    """The predictions of :func:`baseline_run` (the basins it leaves out are only logged)."""
    return baseline_run(cache, method, train, test, **options)[0]


def baseline_run(
    cache: xr.Dataset,
    method: str,
    train: Period,
    test: Period,
    *,
    model: str,
    forcing: str,
    split: str,
    member: int = 0,
    bootstrap_years: bool = False,
    window: int = 31,
) -> tuple[xr.Dataset, dict[str, str]]:
    """Fit baseline ``method`` on ``train`` and predict ``test`` for every basin of ``cache`` that
    passes the screening rule (:func:`runoffbench.failures.screen_training_record`).

    ``cache`` is a forcing cache (contract 1); only its ``qobs`` is used. The prediction covers the
    test days the cache holds. Returns the predictions and ``{basin: reason}`` of the basins left out
    (too little training flow). With ``bootstrap_years``, a basin whose observed years the member's
    resample misses is fitted on a resample of its own observed water years (so every member keeps
    the same basins). Raises
    ConfigError for an unknown method and DataError if the cache has no training or test days or no
    basin is left.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown baseline method {method!r}; known: {', '.join(METHODS)}")
    train_flow = _period(cache, train, "training")
    test_flow = _period(cache, test, "test")
    basins = [str(b) for b in train_flow["basin"].values]
    excluded = screen_training_record(basins, np.isfinite(train_flow.values).sum(axis=1), train)
    for basin, reason in excluded.items():
        log.warning("baseline %s: basin %s left out: %s", model, basin, reason)
    kept = np.array([b not in excluded for b in basins])
    if not kept.any():
        raise DataError(f"baseline {model}: no basin has enough observed streamflow in the training period {train}: "
                        + "; ".join(f"{b}: {r}" for b, r in list(excluded.items())[:3]))
    train_dates = pd.DatetimeIndex(train_flow["date"].values)
    values = train_flow.values.astype(float)[kept]
    test_dates = pd.DatetimeIndex(test_flow["date"].values)

    def fit(flow: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
        if method == "mean_flow":
            return np.repeat(fit_mean_flow(flow)[:, None], test_dates.size, axis=1)
        return fit_climatology(flow, dates, window)[:, calendar_day(test_dates)]

    if bootstrap_years:
        days = bootstrap_days(train_dates, member)
        qsim = fit(values[:, days], train_dates[days])
        fitted = [b for b in basins if b not in excluded]
        for row in np.flatnonzero(~np.isfinite(values[:, days]).any(axis=1)):
            own = _observed_years_resample(train_dates, values[row], member, fitted[row])
            qsim[row] = fit(values[row : row + 1, own], train_dates[own])[0]
    else:
        qsim = fit(values, train_dates)
    log.info("%s (%s): %d basins (%d left out), trained on %s, predicting %s", model, method, qsim.shape[0],
             len(excluded), train, test)
    attrs = {"baseline_method": method, "train_period": str(train), "bootstrap_years": int(bootstrap_years)}
    if method == "climatology":
        attrs["window_days"] = window
    test_flow = test_flow.sel(basin=[b for b, k in zip(basins, kept) if k])
    predictions = make_predictions(qsim, test_flow.values, [str(b) for b in test_flow["basin"].values], test_dates,
                                   model=model, forcing=forcing, split=split, member=member, attrs=attrs)
    return predictions, excluded


def _period(cache: xr.Dataset, period: Period, what: str) -> xr.DataArray:
    if "qobs" not in cache:
        raise DataError("forcing cache has no 'qobs' variable")
    selected = cache["qobs"].sel(date=slice(period.start, period.end))
    if selected.sizes["date"] == 0:
        dates = pd.DatetimeIndex(cache["date"].values)
        raise DataError(f"the forcing cache ({dates[0].date()}..{dates[-1].date()}) has no day of the "
                        f"{what} period {period}")
    return selected

