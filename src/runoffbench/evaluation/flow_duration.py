"""Flow-duration-curve signatures: high-flow bias FHV, mid-segment slope bias FMS, low-flow bias FLV.

The flow duration curve (FDC) is the flow sorted in descending order. Indices into it follow
neuralhydrology 1.13 exactly (``np.round`` of fraction x length, i.e. round-half-to-even), as do its
numerical guards: zero flows are replaced by 1e-6 (simulated flows <= 0 too) before taking logarithms, and
1e-6 is added to the FMS and FLV denominators. Values are in percent.

Deliberate differences from neuralhydrology (each returns NaN and logs the reason):

* FMS when the observed mid-segment is flat (:math:`Q_{o,l} = Q_{o,u}`) and FLV when the observed low-flow
  segment is flat (e.g. the bottom 30 % of days are all zero flow, common in arid CAMELS basins):
  neuralhydrology divides by its 1e-6 guard and returns values of order 1e8 %.
* FLV when round(l x T) = 0, where neuralhydrology's ``fdc[-0:]`` silently uses the whole FDC, and FMS when
  round(u x T) = T, where neuralhydrology raises IndexError.
* FMS and FLV with negative observed flows (neuralhydrology takes the log of them).

Reference
---------
Yilmaz, K. K., Gupta, H. V. and Wagener, T. (2008): A process-based diagnostic approach to model
evaluation: Application to the NWS distributed hydrologic model, Water Resour. Res., 44, W09417,
doi:10.1029/2007WR006716.
"""
from __future__ import annotations

import numpy as np

from runoffbench.errors import ConfigError
from runoffbench.evaluation.series import MetricUndefined, PairedSeries, per_basin_metric

ZERO_FLOW_GUARD = 1e-6  # neuralhydrology's replacement for zero flows before log and its denominator guard


@per_basin_metric("FHV")
def fdc_fhv(pair: PairedSeries, h: float = 0.02) -> float:
    r"""Percent bias of the high-flow segment (top `h` fraction) of the FDC.

    .. math:: \%\text{BiasFHV} = \frac{\sum_{i=1}^{H}(Q_{s,i} - Q_{o,i})}{\sum_{i=1}^{H}Q_{o,i}} \times 100,
        \quad H = \text{round}(h\,T)

    Call as ``fdc_fhv(obs, sim, dates=None, *, basin=None, h=0.02)``. NaN if H = 0 or the observed high
    flows sum to zero.
    """
    _check_fraction("FHV", "h", h)
    n_high = int(np.round(h * len(pair)))
    if n_high == 0:
        raise MetricUndefined(f"{len(pair)} time steps hold no top-{h:g} flows")
    obs = _fdc(pair.obs)[:n_high]
    sim = _fdc(pair.sim)[:n_high]
    if obs.sum() == 0:
        raise MetricUndefined("observed high flows are all zero")
    return np.sum(sim - obs) / np.sum(obs) * 100


@per_basin_metric("FMS")
def fdc_fms(pair: PairedSeries, lower: float = 0.2, upper: float = 0.7) -> float:
    r"""Percent bias of the slope of the mid-segment (exceedance `lower` to `upper`) of the FDC.

    .. math:: \%\text{BiasFMS} = \frac{[\log Q_{s,l} - \log Q_{s,u}] - [\log Q_{o,l} - \log Q_{o,u}]}
        {\log Q_{o,l} - \log Q_{o,u} + 10^{-6}} \times 100

    with :math:`Q_{\cdot,l}` the FDC at index round(lower x T) and :math:`Q_{\cdot,u}` at round(upper x T).
    Call as ``fdc_fms(obs, sim, dates=None, *, basin=None, lower=0.2, upper=0.7)``.
    """
    _check_fraction("FMS", "lower", lower)
    _check_fraction("FMS", "upper", upper)
    if lower >= upper:
        raise ConfigError(f"FMS: lower ({lower}) must be smaller than upper ({upper})")
    i_lower, i_upper = int(np.round(lower * len(pair))), int(np.round(upper * len(pair)))
    if i_upper >= len(pair):
        raise MetricUndefined(f"{len(pair)} time steps are too few for the {lower:g}-{upper:g} FDC segment")
    obs = _log_fdc(pair.obs, observed=True)
    sim = _log_fdc(pair.sim, observed=False)
    obs_slope = obs[i_lower] - obs[i_upper]
    if obs_slope == 0:
        raise MetricUndefined("observed FDC mid-segment is flat")
    return ((sim[i_lower] - sim[i_upper]) - obs_slope) / (obs_slope + ZERO_FLOW_GUARD) * 100


@per_basin_metric("FLV")
def fdc_flv(pair: PairedSeries, l: float = 0.3) -> float:  # noqa: E741 (the name used by Yilmaz et al.)
    r"""Percent bias of the low-flow segment (bottom `l` fraction) of the FDC, in log space.

    .. math:: \%\text{BiasFLV} = -\frac{\sum_{i=1}^{L}[\log Q_{s,i} - \log Q_{s,L}]
        - \sum_{i=1}^{L}[\log Q_{o,i} - \log Q_{o,L}]}{\sum_{i=1}^{L}[\log Q_{o,i} - \log Q_{o,L}] + 10^{-6}}
        \times 100

    over the L = round(l x T) lowest flows, :math:`Q_{\cdot,L}` being the minimum. Call as
    ``fdc_flv(obs, sim, dates=None, *, basin=None, l=0.3)``.
    """
    _check_fraction("FLV", "l", l)
    n_low = int(np.round(l * len(pair)))
    if n_low == 0:
        raise MetricUndefined(f"{len(pair)} time steps hold no bottom-{l:g} flows")
    obs = _log_fdc(pair.obs, observed=True)[-n_low:]
    sim = _log_fdc(pair.sim, observed=False)[-n_low:]
    obs_sum = np.sum(obs - obs.min())
    if obs_sum == 0:
        raise MetricUndefined("observed low-flow segment of the FDC is flat (e.g. all zero flow)")
    sim_sum = np.sum(sim - sim.min())
    return -1 * (sim_sum - obs_sum) / (obs_sum + ZERO_FLOW_GUARD) * 100


def _fdc(values: np.ndarray) -> np.ndarray:
    return np.sort(values)[::-1]


def _log_fdc(values: np.ndarray, observed: bool) -> np.ndarray:
    """Log of the FDC with neuralhydrology's guards: obs == 0 and sim <= 0 become 1e-6."""
    fdc = _fdc(values)
    if observed:
        if np.any(fdc < 0):
            raise MetricUndefined("negative observed flow")
        return np.log(np.where(fdc == 0, ZERO_FLOW_GUARD, fdc))
    return np.log(np.where(fdc <= 0, ZERO_FLOW_GUARD, fdc))


def _check_fraction(metric: str, name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ConfigError(f"{metric}: {name} must lie in ]0, 1[, got {value}")
