r"""Long-term mass bias of simulated streamflow over a complete record (Frame et al., 2023, eqs. 3-5).

With the relative total bias over the T days of the evaluation period

.. math::
    B = \frac{\sum_t Q_s^t - \sum_t Q_o^t}{\sum_t Q_o^t},

the total absolute mass bias is :math:`|B|`, the positive mass bias :math:`\max(B, 0)` and the
negative mass bias :math:`\min(B, 0)`: a basin contributes to exactly one of the two signed
distributions and zero to the other. This is how the authors computed the values behind their
figures (their analysis script ``results/calculate_mass_balance.py`` in
github.com/jmframe/mclstm_2021_mass_balance), so the CDFs of Fig. 1 are reproduced; a per-day split
(:math:`\sum \max(d_t, 0)/\sum Q_o`) would instead count compensating errors on different days.

A mass balance is only meaningful over a complete record: with any missing day (observation or
simulation) the value is NaN and the reason logged, as the authors skipped basins with missing
observations; :func:`runoffbench.evaluation.across_basins.basins_with_gaps` lists those basins.

Reference
---------
Frame, J. M., Kratzert, F., Gupta, H. V., Ullrich, P. and Nearing, G. S. (2023): On strictly enforced
mass conservation constraints for modelling the rainfall-runoff process, Hydrol. Process., 37(3),
e14847, doi:10.1002/hyp.14847.
"""
from __future__ import annotations

import numpy as np

from runoffbench.evaluation.series import MetricUndefined, PairedSeries, per_basin_metric


@per_basin_metric("Mass-Bias-Absolute")
def mass_bias_absolute(pair: PairedSeries) -> float:
    r"""Total absolute mass bias :math:`|\sum Q_s - \sum Q_o| / \sum Q_o` (Frame et al., 2023, eq. 3).

    Call as ``mass_bias_absolute(obs, sim, dates=None, *, basin=None)``; NaN if the record has gaps.
    """
    return abs(_relative_total_bias(pair))


@per_basin_metric("Mass-Bias-Positive")
def mass_bias_positive(pair: PairedSeries) -> float:
    r"""Positive mass bias :math:`\max(B, 0)` (Frame et al., 2023, eq. 4).

    Call as ``mass_bias_positive(obs, sim, dates=None, *, basin=None)``; NaN if the record has gaps.
    """
    return max(_relative_total_bias(pair), 0.0)


@per_basin_metric("Mass-Bias-Negative")
def mass_bias_negative(pair: PairedSeries) -> float:
    r"""Negative mass bias :math:`\min(B, 0)` (<= 0; Frame et al., 2023, eq. 5).

    Call as ``mass_bias_negative(obs, sim, dates=None, *, basin=None)``; NaN if the record has gaps.
    """
    return min(_relative_total_bias(pair), 0.0)


def _relative_total_bias(pair: PairedSeries) -> float:
    if pair.n_missing:
        raise MetricUndefined(f"record has {pair.n_missing} missing days; mass bias needs a complete record")
    total_obs = float(np.sum(pair.obs))
    if total_obs <= 0:
        raise MetricUndefined("total observed flow is zero")
    return (float(np.sum(pair.sim)) - total_obs) / total_obs
