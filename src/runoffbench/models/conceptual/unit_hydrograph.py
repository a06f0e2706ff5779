"""Two-parameter gamma unit hydrograph, discretised as in the NWS/NCAR ``DUAMEL`` routine.

The channel inflow of a lumped conceptual model (SAC-SMA's total channel inflow, TCI) is routed to
the basin outlet by convolution with a unit hydrograph whose ordinates sample the gamma density

.. math::

    u(t) = \\frac{t^{\\alpha - 1} e^{-t/\\theta}}{\\Gamma(\\alpha)\\,\\theta^{\\alpha}},

with shape :math:`\\alpha` (``unit_shape``) and scale :math:`\\theta` (``unit_scale``, days).
Following the NCAR CAMELS code (Newman et al., 2015) the ordinates are the density *evaluated* (not
integrated) at the ends of the time steps, :math:`t_i = i\\,\\Delta t` for :math:`i = 1, 2, \\ldots`;
the hydrograph is cut at the first :math:`i > 1` with :math:`\\ln(u(t_i)\\,\\theta) \\le -8` (or at
1000 ordinates) and normalised to unit sum. Ordinate :math:`i` applies to lag :math:`i - 1`, so the
routed flow is

.. math::

    Q_t = \\sum_{k=0}^{m-1} u_{k+1}\\, I_{t-k}.

Where the NCAR code routes no water at all, this one departs from it (the ordinates are otherwise
the same): the NCAR loop also stops at :math:`t_2` when :math:`t_1` and :math:`t_2` both lie below
the threshold on the *rising* limb (a slow hydrograph, e.g. shape 5 and scale 5 days), and when
every ordinate is below the threshold it divides the zero ordinates by :math:`10^{-5}`. Here the
cut applies only past the mode :math:`t = (\\alpha - 1)\\,\\theta`, and a hydrograph whose whole
density lies within the first step (e.g. ``unit_scale`` near its lower bound) routes the inflow
immediately (one ordinate of 1), so that every parameter set conserves water.

References
----------
- Newman, A. J., et al. (2015): Development of a large-sample watershed-scale hydrometeorological
  data set for the contiguous USA. HESS 19, 209-223.
- Nash, J. E. (1957): The form of the instantaneous unit hydrograph. IAHS Publ. 45, 114-121.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Calibration bounds of the gamma parameters (shape [-], scale [days]).
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "unit_shape": (1.0, 5.0),
    "unit_scale": (0.001, 5.0),
}

#: Maximum number of ordinates, as the NCAR code (``unit_hydro(1000)``).
MAX_ORDINATES = 1000

#: Log-density threshold below which the NCAR code truncates the hydrograph tail.
LOG_TRUNCATION = -8.0


@njit(cache=True, error_model="numpy")
def gamma_unit_hydrograph(shape: float, scale: float, dt: float = 1.0) -> np.ndarray:
    """Ordinates of the truncated, normalised gamma unit hydrograph (sum 1).

    Parameters
    ----------
    shape, scale : float
        Gamma shape :math:`\\alpha > 0` and scale :math:`\\theta > 0` (days).
    dt : float
        Time step in days.
    """
    log_norm = math.lgamma(shape) + math.log(scale)
    mode = shape - 1.0  # the density peaks at t / scale = shape - 1 (shape >= 1)
    ordinates = np.zeros(MAX_ORDINATES)
    length = MAX_ORDINATES
    for i in range(MAX_ORDINATES):
        t = (i + 1) * dt / scale
        log_u = (shape - 1.0) * math.log(t) - t - log_norm
        if log_u > LOG_TRUNCATION:
            ordinates[i] = math.exp(log_u)
        elif i > 0 and t > mode:
            length = i + 1
            break
    total = ordinates[:length].sum()
    if total == 0.0:
        # no ordinate above the threshold: the density lies within the first step
        return np.ones(1)
    return ordinates[:length] / total


@njit(cache=True, error_model="numpy")
def route_into(
    inflow: np.ndarray, ordinates: np.ndarray, routed: np.ndarray, in_flight: np.ndarray,
) -> None:
    """:func:`route` writing into preallocated ``routed`` and ``in_flight`` (length n)."""
    n = inflow.shape[0]
    m = ordinates.shape[0]
    tail = np.empty(m)
    remaining = 1.0
    for k in range(m):
        remaining -= ordinates[k]
        tail[k] = remaining
    tail[m - 1] = 0.0
    for t in range(n):
        q = 0.0
        s = 0.0
        for k in range(min(m, t + 1)):
            q += ordinates[k] * inflow[t - k]
            s += tail[k] * inflow[t - k]
        routed[t] = q
        in_flight[t] = s


@njit(cache=True, error_model="numpy")
def route(inflow: np.ndarray, ordinates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convolve channel inflow with the unit hydrograph.

    Returns
    -------
    routed : ndarray
        Outflow :math:`Q_t` of each step (mm/day).
    in_flight : ndarray
        Water that has entered the channel but not yet left it at the end of each step,
        :math:`S_t = \\sum_{j \\le t} I_j (1 - \\sum_{k=0}^{t-j} u_{k+1})` (mm), so that
        :math:`S_t - S_{t-1} = I_t - Q_t`.
    """
    n = inflow.shape[0]
    routed = np.zeros(n)
    in_flight = np.zeros(n)
    route_into(inflow, ordinates, routed, in_flight)
    return routed, in_flight
