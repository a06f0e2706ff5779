"""The per-basin metric suite: a registry of metrics and one entry point to compute them.

Every metric in :data:`METRICS` is called as ``metric(obs, sim, dates=None, *, basin=None) -> float`` on
1-D daily series (numpy arrays, pandas Series or xarray DataArrays, in mm/day). Time steps where the
observation or the simulation is missing are masked in one place (:func:`pair_series`), so all metrics
of a basin see the same days. A metric that cannot be computed for a basin (constant or all-zero
observations, too few days, gaps where a complete record is needed, no peaks, ...) is NaN and the reason
is logged on the ``runoffbench.evaluation`` logger; bad configuration raises :class:`ConfigError` and
malformed input :class:`DataError`.

The metrics shared with neuralhydrology 1.13 (NSE, KGE, Pearson-r, Alpha-NSE, Beta-NSE, Beta-KGE, RMSE,
FHV, FMS, FLV, Peak-Timing, Missed-Peaks, Peak-MAPE) reproduce its values (checked to 1e-8 in
``tests/test_metrics_neuralhydrology.py``); the deliberate differences are NaN instead of ±inf or of
values dominated by numerical guards, and NaN instead of an exception for all-missing series. Each is
documented in the module of the metric. Metrics across basins (pooled mutual information, KGE skill
score, baseflow-index correlation) are in :mod:`runoffbench.evaluation.information` and
:mod:`runoffbench.evaluation.across_basins`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from runoffbench.errors import ConfigError
from runoffbench.evaluation.efficiency import alpha_nse, beta_kge, beta_nse, kge, nse, pearson_r, rmse
from runoffbench.evaluation.flow_duration import fdc_fhv, fdc_flv, fdc_fms
from runoffbench.evaluation.information import mutual_information
from runoffbench.evaluation.mass_bias import mass_bias_absolute, mass_bias_negative, mass_bias_positive
from runoffbench.evaluation.peaks import mean_peak_timing, missed_peaks, peak_mape
from runoffbench.evaluation.series import LOGGER, pair_series

MetricFunction = Callable[..., float]

METRICS: dict[str, MetricFunction] = {
    metric.metric_name: metric
    for metric in (nse, kge, pearson_r, alpha_nse, beta_nse, beta_kge, rmse, fdc_fhv, fdc_fms, fdc_flv,
                   mean_peak_timing, missed_peaks, peak_mape, mass_bias_absolute, mass_bias_positive,
                   mass_bias_negative, mutual_information)
}
"""Metric name -> function ``f(obs, sim, dates=None, *, basin=None) -> float``."""


def calculate_metrics(obs, sim, metrics: Sequence[str] | str = "all", dates=None,
                      basin: str | None = None) -> dict[str, float]:
    """Compute metrics of one basin with their default options.

    Parameters
    ----------
    obs, sim : array-like, pandas.Series or xarray.DataArray
        Observed and simulated daily flow (mm/day), 1-D and of equal length.
    metrics : list of str or "all"
        Metric names from :data:`METRICS` (case-insensitive), or ``"all"``.
    dates : array-like of datetimes, optional
        Date of each time step (needed by the peak metrics to detect gaps); defaults to the datetime
        coordinate of `obs`, else consecutive days.
    basin : str, optional
        Basin id, used in log and error messages.

    Returns
    -------
    dict[str, float]
        Metric name (as in :data:`METRICS`) -> value, NaN where undefined.

    Raises
    ------
    ConfigError
        If a metric name is unknown (the message lists the valid names).
    DataError
        If the series are malformed (see :func:`pair_series`).
    """
    names = resolve_metric_names(metrics)
    if len(pair_series(obs, sim, dates, basin)) == 0:
        LOGGER.warning("all metrics are NaN for basin %s: no time step has both an observation and a "
                       "simulation", basin if basin is not None else "<unnamed>")
        return {name: np.nan for name in names}
    return {name: METRICS[name](obs, sim, dates, basin=basin) for name in names}


def resolve_metric_names(metrics: Sequence[str] | str) -> list[str]:
    """Canonical names of the requested metrics; ``"all"`` expands to every registered metric.

    Raises
    ------
    ConfigError
        Naming the first unknown metric and listing the valid ones.
    """
    if isinstance(metrics, str):
        metrics = list(METRICS) if metrics.lower() == "all" else [metrics]
    canonical = {name.lower(): name for name in METRICS}
    names = []
    for metric in metrics:
        if metric.lower() not in canonical:
            raise ConfigError(f"unknown metric {metric!r}; valid metrics: {', '.join(METRICS)} (or 'all')")
        names.append(canonical[metric.lower()])
    return names
