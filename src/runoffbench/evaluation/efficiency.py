"""Efficiency criteria: NSE, KGE and their decompositions, RMSE.

All functions follow neuralhydrology 1.13 (``neuralhydrology.evaluation.metrics``) numerically, with the
population standard deviation (ddof = 0). Deliberate differences: where neuralhydrology returns ±inf or
emits a division warning (constant or all-zero observations) these return NaN and log why; the KGE of a
constant simulation (e.g. the mean-flow benchmark) takes :math:`r = 0` as Knoben et al. (2019) do, so
the mean-flow benchmark scores :math:`1 - \\sqrt{2} \\approx -0.41` where neuralhydrology gives NaN
(``Pearson-r`` itself stays NaN).

References
----------
Nash, J. E. and Sutcliffe, J. V. (1970): River flow forecasting through conceptual models part I - A
discussion of principles, J. Hydrol., 10(3), 282-290, doi:10.1016/0022-1694(70)90255-6.
Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009): Decomposition of the mean squared
error and NSE performance criteria: Implications for improving hydrological modelling, J. Hydrol.,
377(1-2), 80-91, doi:10.1016/j.jhydrol.2009.08.003.
Knoben, W. J. M., Freer, J. E. and Woods, R. A. (2019): Technical note: Inherent benchmark or not?
Comparing Nash-Sutcliffe and Kling-Gupta efficiency scores, Hydrol. Earth Syst. Sci., 23, 4323-4331,
doi:10.5194/hess-23-4323-2019.
"""
from __future__ import annotations

import numpy as np

from runoffbench.evaluation.series import (
    MetricUndefined,
    PairedSeries,
    per_basin_metric,
    require_points,
    require_varying,
)


@per_basin_metric("NSE")
def nse(pair: PairedSeries) -> float:
    r"""Nash-Sutcliffe efficiency (Nash and Sutcliffe, 1970).

    .. math:: \text{NSE} = 1 - \frac{\sum_t (Q_s^t - Q_o^t)^2}{\sum_t (Q_o^t - \overline{Q_o})^2}

    Call as ``nse(obs, sim, dates=None, *, basin=None)``. NaN if the observations are constant
    (neuralhydrology returns -inf or NaN there).
    """
    require_varying(pair.obs, "observed flow")
    return 1 - np.sum((pair.sim - pair.obs) ** 2) / np.sum((pair.obs - pair.obs.mean()) ** 2)


@per_basin_metric("RMSE")
def rmse(pair: PairedSeries) -> float:
    r"""Root mean squared error, in the unit of the flow (mm/day).

    .. math:: \text{RMSE} = \sqrt{\frac{1}{T}\sum_t (Q_s^t - Q_o^t)^2}

    Call as ``rmse(obs, sim, dates=None, *, basin=None)``.
    """
    return np.sqrt(np.mean((pair.sim - pair.obs) ** 2))


@per_basin_metric("Pearson-r")
def pearson_r(pair: PairedSeries) -> float:
    r"""Pearson correlation coefficient :math:`r` of observed and simulated flow (the KGE's `r`).

    .. math:: r = \frac{\sum_t (Q_o^t - \overline{Q_o})(Q_s^t - \overline{Q_s})}
                       {\sqrt{\sum_t (Q_o^t - \overline{Q_o})^2 \sum_t (Q_s^t - \overline{Q_s})^2}}

    Call as ``pearson_r(obs, sim, dates=None, *, basin=None)``. NaN with fewer than 2 points or a constant
    series (as scipy.stats.pearsonr, which neuralhydrology uses, but without its warning).
    """
    return _correlation(pair)


@per_basin_metric("Alpha-NSE")
def alpha_nse(pair: PairedSeries) -> float:
    r"""Ratio of standard deviations, the :math:`\alpha` of NSE and KGE (Gupta et al., 2009).

    .. math:: \alpha = \sigma_s / \sigma_o

    Call as ``alpha_nse(obs, sim, dates=None, *, basin=None)``. NaN for constant observations.
    """
    return _variability_ratio(pair)


@per_basin_metric("Beta-NSE")
def beta_nse(pair: PairedSeries) -> float:
    r"""Bias normalised by the observed standard deviation, the :math:`\beta` of the NSE decomposition
    (Gupta et al., 2009).

    .. math:: \beta_\text{NSE} = (\mu_s - \mu_o) / \sigma_o

    Call as ``beta_nse(obs, sim, dates=None, *, basin=None)``. NaN for constant observations.
    """
    require_varying(pair.obs, "observed flow")
    return (pair.sim.mean() - pair.obs.mean()) / pair.obs.std()


@per_basin_metric("Beta-KGE")
def beta_kge(pair: PairedSeries) -> float:
    r"""Ratio of means, the :math:`\beta` of KGE (Gupta et al., 2009).

    .. math:: \beta_\text{KGE} = \mu_s / \mu_o

    Call as ``beta_kge(obs, sim, dates=None, *, basin=None)``. NaN if the mean observed flow is zero.
    """
    return _bias_ratio(pair)


@per_basin_metric("KGE")
def kge(pair: PairedSeries) -> float:
    r"""Kling-Gupta efficiency (Gupta et al., 2009).

    .. math:: \text{KGE} = 1 - \sqrt{(r - 1)^2 + (\alpha - 1)^2 + (\beta_\text{KGE} - 1)^2}

    with :math:`r` = ``Pearson-r``, :math:`\alpha` = ``Alpha-NSE`` and :math:`\beta_\text{KGE}` =
    ``Beta-KGE`` (the components are registered under those names). Call as
    ``kge(obs, sim, dates=None, *, basin=None)``. NaN whenever a component is undefined, except that a
    constant simulation gets :math:`r = 0` (Knoben et al., 2019): it reproduces none of the observed
    variability, and the mean-flow benchmark then scores :math:`1 - \sqrt{2}`.
    """
    r = 0.0 if len(pair) >= 2 and np.ptp(pair.sim) == 0 else _correlation(pair)
    alpha = _variability_ratio(pair)
    beta = _bias_ratio(pair)
    return 1 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2)


def _correlation(pair: PairedSeries) -> float:
    require_points(pair, 2)
    require_varying(pair.obs, "observed flow")
    require_varying(pair.sim, "simulated flow")
    obs_anomaly = pair.obs - pair.obs.mean()
    sim_anomaly = pair.sim - pair.sim.mean()
    r = np.sum(obs_anomaly * sim_anomaly) / np.sqrt(np.sum(obs_anomaly ** 2) * np.sum(sim_anomaly ** 2))
    return float(np.clip(r, -1.0, 1.0))


def _variability_ratio(pair: PairedSeries) -> float:
    require_varying(pair.obs, "observed flow")
    return float(pair.sim.std() / pair.obs.std())


def _bias_ratio(pair: PairedSeries) -> float:
    mean_obs = pair.obs.mean()
    if mean_obs == 0:
        raise MetricUndefined("mean observed flow is zero")
    return float(pair.sim.mean() / mean_obs)
