"""Pairing of observed and simulated series, and the contract every per-basin metric follows.

Every per-basin metric sees the same :class:`PairedSeries`: the time steps where both the observation and
the simulation are finite, in time order, with the day number of each kept step. Masking in one place is
what guarantees that all metrics of a basin are computed on the same time steps.

A metric that is undefined for a series (constant observations, too few points, gaps where a complete
record is needed, ...) raises :class:`MetricUndefined` internally; the :func:`per_basin_metric` wrapper
turns this into NaN and logs the reason with the metric and basin name, so one bad basin never stops an
evaluation run.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import DataError

LOGGER = logging.getLogger("runoffbench.evaluation")

ONE_DAY = pd.Timedelta(days=1)


class MetricUndefined(Exception):
    """Raised inside a metric when its value is undefined for the given series; the message is the reason."""


@dataclass(frozen=True)
class PairedSeries:
    """Observed and simulated flow at the time steps where both are finite.

    Attributes
    ----------
    obs, sim : np.ndarray
        Observed and simulated flow (mm/day) at the kept time steps, in time order.
    days : np.ndarray
        Day number (int64) of each kept step, counted from the first date of the record.
    n_missing : int
        Days between the first and the last date of the record without a valid pair (missing
        observation, missing simulation, or a date absent from the record).
    """

    obs: np.ndarray
    sim: np.ndarray
    days: np.ndarray
    n_missing: int

    def __len__(self) -> int:
        return int(self.obs.size)


def pair_series(obs, sim, dates=None, basin: str | None = None) -> PairedSeries:
    """Mask time steps where the observation or the simulation is missing (NaN or infinite).

    Parameters
    ----------
    obs, sim : array-like, pandas.Series or xarray.DataArray
        1-D daily series of equal length (a trailing dimension of size 1 is accepted).
    dates : array-like of datetimes, optional
        Date of every time step. Defaults to the datetime coordinate of `obs` (DataArray) or its
        DatetimeIndex (Series); without either, consecutive days are assumed.
    basin : str, optional
        Basin id, used in error messages only.

    Raises
    ------
    DataError
        If the series are not 1-D, differ in length, or the dates are not strictly increasing whole days.
    """
    obs_values = _as_1d(obs, "obs", basin)
    sim_values = _as_1d(sim, "sim", basin)
    if obs_values.shape != sim_values.shape:
        raise DataError(f"basin {_label(basin)}: obs has {obs_values.size} time steps but sim has "
                        f"{sim_values.size}")
    if dates is None:
        dates = _infer_dates(obs)
    days = _day_numbers(dates, obs_values.size, basin)
    valid = np.isfinite(obs_values) & np.isfinite(sim_values)
    span = int(days[-1] - days[0] + 1) if days.size else 0
    return PairedSeries(obs_values[valid], sim_values[valid], days[valid], span - int(valid.sum()))


def per_basin_metric(name: str) -> Callable:
    """Turn ``compute(pair, **options) -> float`` into the public metric ``f(obs, sim, dates=None, *, basin=None,
    **options) -> float``.

    The public function pairs the series with :func:`pair_series`, and returns NaN (logging the reason with
    the metric `name` and the basin) when ``compute`` raises :class:`MetricUndefined` or no time step has
    both an observation and a simulation.
    """

    def decorate(compute: Callable[..., float]) -> Callable[..., float]:
        @functools.wraps(compute)
        def metric(obs, sim, dates=None, *, basin: str | None = None, **options) -> float:
            pair = pair_series(obs, sim, dates, basin)
            try:
                if len(pair) == 0:
                    raise MetricUndefined("no time step has both an observation and a simulation")
                return float(compute(pair, **options))
            except MetricUndefined as reason:
                LOGGER.warning("%s is NaN for basin %s: %s", name, _label(basin), reason)
                return np.nan

        del metric.__wrapped__  # show the public signature, not the one of `compute`
        metric.metric_name = name
        return metric

    return decorate


def require_points(pair: PairedSeries, minimum: int) -> None:
    """Raise :class:`MetricUndefined` unless `pair` holds at least `minimum` time steps."""
    if len(pair) < minimum:
        raise MetricUndefined(f"{len(pair)} valid time steps, at least {minimum} needed")


def require_varying(values: np.ndarray, what: str) -> None:
    """Raise :class:`MetricUndefined` if `values` is constant (zero variance)."""
    if np.ptp(values) == 0:
        raise MetricUndefined(f"{what} is constant")


def _as_1d(values, what: str, basin: str | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(f"basin {_label(basin)}: {what} must be a 1-D time series, got shape {array.shape}")
    return array


def _infer_dates(values):
    if isinstance(values, pd.Series) and isinstance(values.index, pd.DatetimeIndex):
        return values.index
    if isinstance(values, xr.DataArray):
        for dim in values.dims:
            if dim in values.coords and np.issubdtype(values[dim].dtype, np.datetime64):
                return values[dim].values
    return None


def _day_numbers(dates, n_steps: int, basin: str | None) -> np.ndarray:
    if dates is None:
        return np.arange(n_steps, dtype=np.int64)
    index = pd.DatetimeIndex(np.asarray(dates))
    if index.size != n_steps:
        raise DataError(f"basin {_label(basin)}: {index.size} dates for {n_steps} time steps")
    if index.size == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.asarray((index - index[0]) / ONE_DAY, dtype=float)
    if np.any(offsets != np.round(offsets)) or np.any(np.diff(offsets) <= 0):
        raise DataError(f"basin {_label(basin)}: dates must be strictly increasing whole days")
    return offsets.astype(np.int64)


def _label(basin: str | None) -> str:
    return basin if basin is not None else "<unnamed>"
