r"""Mutual information between observed and simulated streamflow from 2-D histograms.

.. math:: I(Q_o; Q_s) = \sum_{i,j} p_{ij} \ln \frac{p_{ij}}{p_{i\cdot}\, p_{\cdot j}}

in nats, with :math:`p_{ij}` the fraction of days whose observed flow falls in bin i and simulated flow in
bin j of a ``numpy.histogram2d`` with 100 equal-width bins spanning each series' range. This is Frame et
al. (2023)'s estimator (``histogram2d`` contingency table passed to ``sklearn.metrics.mutual_info_score``).
Identical series give the entropy of the 100-bin histogram; independent series give a small positive
value (the plug-in estimator's bias, about (bins - 1)^2 / 2T nats).

Reference
---------
Frame, J. M., Kratzert, F., Gupta, H. V., Ullrich, P. and Nearing, G. S. (2023): On strictly enforced
mass conservation constraints for modelling the rainfall-runoff process, Hydrol. Process., 37(3),
e14847, doi:10.1002/hyp.14847.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.evaluation.series import PairedSeries, pair_series, per_basin_metric, require_points

HISTOGRAM_BINS = 100


@per_basin_metric("MI")
def mutual_information(pair: PairedSeries, bins: int = HISTOGRAM_BINS) -> float:
    """Mutual information (nats) of observed and simulated flow of one basin.

    Call as ``mutual_information(obs, sim, dates=None, *, basin=None, bins=100)``. NaN with fewer than 2
    valid days.
    """
    require_points(pair, 2)
    return histogram_mutual_information(pair.obs, pair.sim, bins)


def mutual_information_pooled(obs, sim, bins: int = HISTOGRAM_BINS) -> float:
    """Mutual information (nats) of observed and simulated flow pooled over many basins.

    The days of all basins (each masked like the per-basin metrics) enter one histogram.

    Parameters
    ----------
    obs, sim : 2-D array-like (basin, time), xarray.DataArray with a ``basin`` dimension, or sequences of
        1-D arrays, one per basin (the lengths may differ between basins but not between obs and sim).
    bins : int
        Number of histogram bins per axis.
    """
    obs_rows, sim_rows = _basin_rows(obs), _basin_rows(sim)
    if len(obs_rows) != len(sim_rows):
        raise DataError(f"mutual_information_pooled: {len(obs_rows)} observed and {len(sim_rows)} "
                        "simulated basins")
    pairs = [pair_series(o, s, basin=f"#{i}") for i, (o, s) in enumerate(zip(obs_rows, sim_rows))]
    pooled_obs = np.concatenate([pair.obs for pair in pairs])
    pooled_sim = np.concatenate([pair.sim for pair in pairs])
    if pooled_obs.size < 2:
        return np.nan
    return histogram_mutual_information(pooled_obs, pooled_sim, bins)


def histogram_mutual_information(x: np.ndarray, y: np.ndarray, bins: int = HISTOGRAM_BINS) -> float:
    """Plug-in mutual information (nats) of two equally long samples from a `bins` x `bins` histogram."""
    counts, _, _ = np.histogram2d(x, y, bins=bins)
    joint = counts / counts.sum()
    independent = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    occupied = joint > 0
    return float(np.sum(joint[occupied] * np.log(joint[occupied] / independent[occupied])))


def _basin_rows(values) -> list:
    if isinstance(values, xr.DataArray) and "basin" in values.dims:
        return [values.sel(basin=basin).values for basin in values["basin"].values]
    return list(values)
