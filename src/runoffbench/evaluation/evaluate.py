"""Metrics of one prediction file against the observations of the forcing cache (contract 2 -> 3).

Before any metric is computed the prediction file is checked against the cache: its basins must be
cache basins, its dates cache dates covering exactly the test period (when given), and its ``qobs``
must equal the cache's (a file built from other observations would be scored against the wrong
truth). Each problem raises a DataError naming the file and what differs. Metrics are then computed
per basin with :func:`runoffbench.evaluation.metrics.calculate_metrics` on the cache's observations;
a basin whose metrics cannot be computed gets NaN and the reason is logged, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import DataError, RunoffbenchError
from runoffbench.evaluation.metrics import calculate_metrics, resolve_metric_names
from runoffbench.evaluation.series import LOGGER
from runoffbench.periods import Period

#: relative tolerance between the file's qobs and the cache's (the file stores float32)
QOBS_RTOL = 1e-5


def check_against_observations(predictions: xr.Dataset, cache: xr.Dataset, source: str | Path,
                               period: Period | None = None) -> None:
    """Raise DataError naming ``source`` if its basins, dates or qobs differ from the cache's."""
    cache_basins = pd.Index([str(b) for b in cache["basin"].values])
    basins = pd.Index([str(b) for b in predictions["basin"].values])
    unknown = basins.difference(cache_basins)
    if len(unknown):
        raise DataError(f"{source}: basins {list(unknown[:10])} are not in the forcing cache "
                        f"({len(unknown)} of {len(basins)})")
    dates = pd.DatetimeIndex(predictions["date"].values)
    cache_dates = pd.DatetimeIndex(cache["date"].values)
    if period is not None:
        expected = cache_dates[(cache_dates >= period.start) & (cache_dates <= period.end)]
        _same_dates(dates, expected, source, f"the test period {period}")
    outside = dates.difference(cache_dates)
    if len(outside):
        raise DataError(f"{source}: {len(outside)} date(s) lie outside the forcing cache "
                        f"({cache_dates[0].date()}..{cache_dates[-1].date()}), first {outside[0].date()}")
    expected_obs = cache["qobs"].sel(basin=list(basins), date=dates).values.astype(float)
    given_obs = predictions["qobs"].values.astype(float)
    same = np.isclose(given_obs, expected_obs, rtol=QOBS_RTOL, atol=1e-6, equal_nan=True)
    if not same.all():
        wrong = [str(b) for b in basins[~same.all(axis=1)]]
        raise DataError(f"{source}: qobs differs from the forcing cache's observations for basins {wrong[:10]} "
                        f"({int((~same).sum())} values); was the file built from another dataset?")


#: metrics-table column: 1 where every day of the evaluated period has an observation
COMPLETE_RECORD = "complete_record"


def evaluate_predictions(predictions: xr.Dataset, cache: xr.Dataset, metrics: Sequence[str] | str = "all",
                         source: str | Path = "predictions", period: Period | None = None) -> pd.DataFrame:
    """One row per basin (index ``basin``), one column per metric; NaN where a metric is undefined.
    The column :data:`COMPLETE_RECORD` is 1 for a basin observed on every day of the period.

    Raises ConfigError for an unknown metric name and DataError when the file does not match the
    cache (:func:`check_against_observations`).
    """
    names = resolve_metric_names(metrics)
    check_against_observations(predictions, cache, source, period)
    dates = pd.DatetimeIndex(predictions["date"].values)
    rows = {}
    for basin in (str(b) for b in predictions["basin"].values):
        obs = cache["qobs"].sel(basin=basin, date=dates).values
        sim = predictions["qsim"].sel(basin=basin).values
        try:
            rows[basin] = calculate_metrics(obs, sim, names, dates=dates, basin=basin)
        except RunoffbenchError as error:
            LOGGER.warning("all metrics are NaN for basin %s of %s: %s", basin, source, error)
            rows[basin] = {name: np.nan for name in names}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=names)
    table.index.name = "basin"
    observed = np.isfinite(cache["qobs"].sel(basin=list(table.index), date=dates).values)
    table[COMPLETE_RECORD] = observed.all(axis=1).astype(int)  # Frame et al. 2023 score these basins only
    return table


def _same_dates(dates: pd.DatetimeIndex, expected: pd.DatetimeIndex, source, what: str) -> None:
    missing, extra = expected.difference(dates), dates.difference(expected)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} day(s) of {what} missing ({missing[0].date()}..{missing[-1].date()})")
        if len(extra):
            parts.append(f"{len(extra)} day(s) outside {what} ({extra[0].date()}..{extra[-1].date()})")
        raise DataError(f"{source}: dates do not match the observations: " + "; ".join(parts))
