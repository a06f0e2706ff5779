"""numba kernels of the synthetic truth that no benchmarked model shares.

- :func:`run_gr4j_snow`: GR4J (Perrin et al., 2003) below a CemaNeige-like degree-day snow pack
  (Valéry et al., 2014): a linear rain/snow transition around ``t_snow`` (±1.5 °C), a cold-content
  state eTg ← min(0, θ eTg + (1 − θ) T) that must reach 0 °C before the pack melts at
  M = min(SWE, ddf · max(T, 0)). Rain + melt enter GR4J's interception, production store
  (capacity x1, percolation), the two unit hydrographs (90 %/10 %, time base x4 and 2 x4 days), the
  routing store (capacity x3) and the groundwater exchange F = x2 (R/x3)^3.5 (a loss where x2 < 0).
- :func:`route_slow_store`: a nonlinear (quadratic) groundwater reservoir, Q_g = G²/c, through which a
  fraction φ of a structure's runoff passes (a valley-fill aquifer, wetlands or lakes): the slow
  recession no benchmarked model has. Implicit daily step, so the mass balance is exact:
  G' = c/2 (√(1 + 4 (G + I)/c) − 1), Q_g = G + I − G'.

Both close the water balance to rounding: for GR4J, P = ET + Q − exchange + Δ(SWE + S + R + UH
contents) (``storage`` holds the sum); for the slow store, I = Q_g + ΔG.

References
----------
Perrin, C., Michel, C., Andréassian, V. (2003): Improvement of a parsimonious model for streamflow
    simulation. J. Hydrol. 279, 275–289.
Valéry, A., Andréassian, V., Perrin, C. (2014): 'As simple as possible but not simpler': what is useful
    in a temperature-based snow-accounting routine? J. Hydrol. 517, 1166–1175.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: parameter order of :func:`run_gr4j_snow`
GR4J_PARAMETER_NAMES: tuple[str, ...] = ("x1", "x2", "x3", "x4", "ddf", "t_snow", "theta")
#: rows of the output of :func:`run_gr4j_snow`
GR4J_OUTPUT_NAMES: tuple[str, ...] = ("q", "et", "swe", "soil", "routing", "exchange", "storage")
_MAX_UH = 64


@njit(cache=True, error_model="numpy")
def _s_curve_1(t: float, x4: float) -> float:
    if t <= 0.0:
        return 0.0
    if t < x4:
        return (t / x4) ** 2.5
    return 1.0


@njit(cache=True, error_model="numpy")
def _s_curve_2(t: float, x4: float) -> float:
    if t <= 0.0:
        return 0.0
    if t < x4:
        return 0.5 * (t / x4) ** 2.5
    if t < 2.0 * x4:
        return 1.0 - 0.5 * (2.0 - t / x4) ** 2.5
    return 1.0


@njit(cache=True, error_model="numpy")
def run_gr4j_snow(params: np.ndarray, prcp: np.ndarray, tmean: np.ndarray, pet: np.ndarray,
                  out: np.ndarray) -> None:
    """GR4J + degree-day snow for one basin from empty snow, half-full stores; rows of
    :data:`GR4J_OUTPUT_NAMES` into ``out`` (7, n). ``params`` in :data:`GR4J_PARAMETER_NAMES` order."""
    x1, x2, x3, x4, ddf, t_snow, theta = (params[0], params[1], params[2], params[3], params[4],
                                          params[5], params[6])
    n1 = min(int(np.ceil(x4)), _MAX_UH)
    n2 = min(int(np.ceil(2.0 * x4)), _MAX_UH)
    uh1 = np.zeros(n1)
    uh2 = np.zeros(n2)
    for j in range(n1):
        uh1[j] = _s_curve_1(j + 1.0, x4) - _s_curve_1(float(j), x4)
    for j in range(n2):
        uh2[j] = _s_curve_2(j + 1.0, x4) - _s_curve_2(float(j), x4)
    pending1 = np.zeros(n1)
    pending2 = np.zeros(n2)
    swe, etg, s, r = 0.0, 0.0, 0.5 * x1, 0.3 * x3
    for t in range(prcp.shape[0]):
        p, temp, e = prcp[t], tmean[t], pet[t]
        # snow: linear rain/snow transition over t_snow ± 1.5 °C, ripening by the cold content
        solid = min(max((t_snow + 1.5 - temp) / 3.0, 0.0), 1.0)
        swe += solid * p
        etg = min(0.0, theta * etg + (1.0 - theta) * temp)
        melt = 0.0
        if etg >= 0.0 and temp > 0.0:
            melt = min(swe, ddf * temp)
        swe -= melt
        water = (1.0 - solid) * p + melt
        # interception and production store
        if water >= e:
            pn, en, et = water - e, 0.0, e
        else:
            pn, en, et = 0.0, e - water, water
        ps = 0.0
        if pn > 0.0:
            tw = np.tanh(min(pn / x1, 13.0))
            ps = x1 * (1.0 - (s / x1) ** 2) * tw / (1.0 + s / x1 * tw)
            s += ps
        if en > 0.0:
            tw = np.tanh(min(en / x1, 13.0))
            es = s * (2.0 - s / x1) * tw / (1.0 + (1.0 - s / x1) * tw)
            es = min(es, s)
            s -= es
            et += es
        perc = s * (1.0 - (1.0 + (4.0 / 9.0 * s / x1) ** 4) ** -0.25)
        s -= perc
        pr = perc + pn - ps
        # unit hydrographs
        for j in range(n1):
            pending1[j] += 0.9 * pr * uh1[j]
        for j in range(n2):
            pending2[j] += 0.1 * pr * uh2[j]
        q9, q1 = pending1[0], pending2[0]
        for j in range(n1 - 1):
            pending1[j] = pending1[j + 1]
        pending1[n1 - 1] = 0.0
        for j in range(n2 - 1):
            pending2[j] = pending2[j + 1]
        pending2[n2 - 1] = 0.0
        # groundwater exchange and routing store
        f = x2 * (min(r / x3, 2.0)) ** 3.5
        r_new = r + q9 + f
        if r_new < 0.0:
            r_new = 0.0
        exchange = r_new - r - q9
        r = r_new
        qr = r * (1.0 - (1.0 + (r / x3) ** 4) ** -0.25)
        r -= qr
        qd = max(0.0, q1 + f)
        exchange += qd - q1
        out[0, t] = qr + qd
        out[1, t] = et
        out[2, t] = swe
        out[3, t] = s
        out[4, t] = r
        out[5, t] = exchange
        out[6, t] = swe + s + r + pending1.sum() + pending2.sum()


@njit(cache=True, error_model="numpy")
def route_slow_store(inflow: np.ndarray, c: float, g0: float, outflow: np.ndarray, store: np.ndarray) -> None:
    """Quadratic reservoir Q_g = G²/c [c in mm·day]: implicit daily step from G = ``g0``; writes the
    daily outflow [mm/day] and the end-of-day store [mm]."""
    g = g0
    for t in range(inflow.shape[0]):
        total = g + inflow[t]
        g_new = 0.5 * c * (np.sqrt(1.0 + 4.0 * total / c) - 1.0)
        outflow[t] = total - g_new
        store[t] = g_new
        g = g_new
