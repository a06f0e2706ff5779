r"""Mutual information between observed and simulated streamflow.

.. math:: I(Q_o; Q_s) = \iint p(q_o, q_s) \ln \frac{p(q_o, q_s)}{p(q_o)\, p(q_s)}\, dq_o\, dq_s

in nats. Two estimators:

* ``ksg`` (the per-basin metric ``MI``, default): the k-nearest-neighbour estimator of Kraskov, Stögbauer
  and Grassberger (2004, their estimator 1) with k = :data:`KSG_NEIGHBOURS` = 3,

  .. math:: \hat I = \psi(N) + \psi(k) - \langle \psi(n_o + 1) + \psi(n_s + 1) \rangle,

  where, after scaling each series to unit standard deviation, :math:`\epsilon_t` is the max-norm
  distance of day t's point :math:`(q_o, q_s)` to its k-th nearest neighbour and :math:`n_o`
  (:math:`n_s`) counts the other days whose observed (simulated) flow lies within :math:`\epsilon_t`;
  negative estimates are set to 0. It is nearly unbiased on a few hundred days: independent series give
  ≈ 0 on one water year. Ties (e.g. zero-flow days) are broken by noise of 1e-10 of the scale with a fixed
  seed, as in ``sklearn.feature_selection.mutual_info_regression``, whose value it reproduces.
* ``histogram``: Frame et al. (2023)'s plug-in estimator,
  :math:`\sum_{i,j} p_{ij} \ln (p_{ij} / p_{i\cdot} p_{\cdot j})` from a ``numpy.histogram2d`` with 100
  equal-width bins spanning each series' range (their contingency table passed to
  ``sklearn.metrics.mutual_info_score``). Identical series give the entropy of the 100-bin histogram.
  Its bias grows with the number of occupied cells over twice the number of days (about
  :math:`(B - 1)^2 / 2N` nats for B occupied bins per axis): on one water year (N = 365) two independent
  series score > 1 nat and a day-of-year climatology scores more than a good model, so per-basin values on
  short test periods are dominated by the bias. It stays the estimator of the pooled MI
  (:func:`mutual_information_pooled`), where N is the days of all basins together.

References
----------
Frame, J. M., Kratzert, F., Gupta, H. V., Ullrich, P. and Nearing, G. S. (2023): On strictly enforced
mass conservation constraints for modelling the rainfall-runoff process, Hydrol. Process., 37(3),
e14847, doi:10.1002/hyp.14847.
Kraskov, A., Stögbauer, H. and Grassberger, P. (2004): Estimating mutual information, Phys. Rev. E, 69,
066138, doi:10.1103/PhysRevE.69.066138.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.spatial import cKDTree
from scipy.special import digamma

from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.series import PairedSeries, pair_series, per_basin_metric, require_points

HISTOGRAM_BINS = 100
#: k of the Kraskov-Stögbauer-Grassberger estimator (the value of sklearn and of Kraskov et al.'s tests)
KSG_NEIGHBOURS = 3
#: estimator of the per-basin metric ``MI``
ESTIMATORS = ("ksg", "histogram")
_TIE_NOISE = 1e-10
_TIE_SEED = 0


@per_basin_metric("MI")
def mutual_information(pair: PairedSeries, estimator: str = "ksg", bins: int = HISTOGRAM_BINS,
                       neighbours: int = KSG_NEIGHBOURS) -> float:
    """Mutual information (nats) of observed and simulated flow of one basin.

    Call as ``mutual_information(obs, sim, dates=None, *, basin=None, estimator="ksg", bins=100,
    neighbours=3)``: ``estimator="ksg"`` the bias-corrected k-nearest-neighbour estimator (default),
    ``"histogram"`` Frame et al. (2023)'s 100-bin plug-in estimator (see the module docstring). 0 when
    either series is constant; NaN with fewer than ``neighbours`` + 1 (KSG) or 2 (histogram) valid days.
    """
    if estimator not in ESTIMATORS:
        raise ConfigError(f"mutual information: unknown estimator {estimator!r}; estimators: {', '.join(ESTIMATORS)}")
    if estimator == "histogram":
        require_points(pair, 2)
        return histogram_mutual_information(pair.obs, pair.sim, bins)
    require_points(pair, neighbours + 1)
    return ksg_mutual_information(pair.obs, pair.sim, neighbours)


def mutual_information_pooled(obs, sim, bins: int = HISTOGRAM_BINS) -> float:
    """Mutual information (nats) of observed and simulated flow pooled over many basins.

    The days of all basins (each masked like the per-basin metrics) enter one 100-bin histogram (Frame et
    al. 2023's plug-in estimator; its bias is small here, N being the days of all basins together).

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


def ksg_mutual_information(x: np.ndarray, y: np.ndarray, neighbours: int = KSG_NEIGHBOURS) -> float:
    """Kraskov-Stögbauer-Grassberger (2004) estimate (nats, >= 0) of two equally long finite samples.

    0 when either sample is constant (it carries no information).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size != y.size:
        raise DataError(f"mutual information: samples of {x.size} and {y.size} values")
    if x.size <= neighbours:
        return np.nan
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    rng = np.random.default_rng(_TIE_SEED)
    x, y = x / x.std(), y / y.std()
    x = x + _TIE_NOISE * max(1.0, float(np.mean(np.abs(x)))) * rng.standard_normal(x.size)
    y = y + _TIE_NOISE * max(1.0, float(np.mean(np.abs(y)))) * rng.standard_normal(y.size)
    # distance (max norm) of each point to its k-th neighbour; column 0 is the point itself
    radius = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=neighbours + 1, p=np.inf)[0][:, -1]
    estimate = (digamma(x.size) + digamma(neighbours)
                - np.mean(digamma(_neighbours_within(x, radius) + 1))
                - np.mean(digamma(_neighbours_within(y, radius) + 1)))
    return max(0.0, float(estimate))


def _neighbours_within(values: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Per value, how many other values lie strictly closer than its ``radius``."""
    ordered = np.sort(values)
    inside = np.searchsorted(ordered, values + radius, side="left") - np.searchsorted(ordered, values - radius,
                                                                                      side="right")
    return inside - 1


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
