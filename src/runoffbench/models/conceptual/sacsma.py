"""Sacramento Soil Moisture Accounting model (SAC-SMA), daily step.

Follows the NWS ``SAC1`` routine (Burnash, 1995) as used by the NCAR CAMELS benchmark (Newman et
al., 2015), without the frozen-ground extension. The pervious area
(:math:`A_p = 1 - \\mathrm{pctim} - \\mathrm{adimp}`) has an upper zone with tension (``uztwc``)
and free (``uzfwc``) water and a lower zone with tension (``lztwc``), supplementary free
(``lzfsc``) and primary free (``lzfpc``) water; the variable impervious area ``adimp`` keeps its own
tension store ``adimc``. Per day, with rain+melt :math:`P` and potential ET :math:`E_p`:

1. **ET** in order of availability: :math:`E_1 = E_p\\,\\mathrm{uztwc}/\\mathrm{uztwm}`, the rest
   from ``uzfwc`` (:math:`E_2`), then :math:`E_3 = E_r\\,\\mathrm{lztwc}/(\\mathrm{uztwm} +
   \\mathrm{lztwm})`; tension water is resupplied from free water when the free ratio is larger
   (``rserv`` of the lower free water is not available to tension water); riparian ET
   :math:`E_4 = \\mathrm{riva}\\,(E_p - E_1 - E_2 - E_3)` comes out of the channel inflow.
2. **Upper zone**: :math:`P` first fills ``uztwc``; the excess :math:`P_x` is applied in
   :math:`n = \\lfloor 1 + 0.2\\,(\\mathrm{uzfwc} + P_x) \\rfloor` increments of length
   :math:`\\Delta = 1/n` day, each draining the free stores with
   :math:`d_k = 1 - (1 - k)^{\\Delta}` for ``uzk``, ``lzpk``, ``lzsk``.
3. **Percolation** :math:`\\mathrm{perc} = (\\mathrm{lzfpm}\\,d_{lzp} + \\mathrm{lzfsm}\\,d_{lzs})
   \\frac{\\mathrm{uzfwc}}{\\mathrm{uzfwm}}\\,[1 + \\mathrm{zperc}\\,D^{\\mathrm{rexp}}]` with the
   lower-zone deficiency ratio :math:`D`; a fraction ``pfree`` goes straight to free water, the
   rest fills ``lztwc`` first; free water is split between primary and supplementary stores
   by their relative deficiencies.
4. **Runoff**: interflow :math:`d_{uz}\\,\\mathrm{uzfwc}`, surface runoff when ``uzfwc`` overflows,
   direct runoff :math:`P_x\\,((\\mathrm{adimc} - \\mathrm{uztwc})/\\mathrm{lztwm})^2` from ``adimp``,
   impervious runoff :math:`\\mathrm{pctim}\\,P`, and baseflow :math:`d\\,\\mathrm{lzfpc}`,
   :math:`d\\,\\mathrm{lzfsc}`, of which the fraction :math:`\\mathrm{side}/(1 + \\mathrm{side})`
   leaves the basin as deep recharge (``deep_loss``).

The NWS code zeroes stores below :math:`10^{-5}` mm and keeps ``adimc >= uztwc``; the water these
rules add or remove is reported as ``numerical_adjustment`` so that the mass balance closes:
:math:`P - ET - Q_{channel} - \\mathrm{deep\\_loss} + \\mathrm{numerical\\_adjustment} = \\Delta S`,
:math:`S = A_p(\\mathrm{uztwc} + \\mathrm{uzfwc} + \\mathrm{lztwc} + \\mathrm{lzfsc} + \\mathrm{lzfpc})
+ \\mathrm{adimp}\\,\\mathrm{adimc}`.

References
----------
- Burnash, R. J. C. (1995): The NWS River Forecast System - catchment modeling. In: Singh, V. P.
  (ed.), Computer Models of Watershed Hydrology, 311-366.
- Newman, A. J., et al. (2015): HESS 19, 209-223.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Parameter order of the compiled kernel.
PARAMETER_NAMES: tuple[str, ...] = (
    "uztwm", "uzfwm", "lztwm", "lzfpm", "lzfsm", "uzk", "lzpk", "lzsk",
    "zperc", "rexp", "pfree", "pctim", "adimp", "riva", "side", "rserv",
)

#: Calibration bounds (Newman et al., 2015 / NCAR calibration namelist) for the calibrated
#: parameters, physically valid ranges for the fixed ones (``riva``, ``side``, ``rserv``).
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "uztwm": (1.0, 800.0),
    "uzfwm": (1.0, 800.0),
    "lztwm": (1.0, 800.0),
    "lzfpm": (1.0, 1000.0),
    "lzfsm": (1.0, 1000.0),
    "uzk": (0.1, 0.7),
    "lzpk": (0.00001, 0.025),
    "lzsk": (0.001, 0.25),
    "zperc": (1.0, 250.0),
    "rexp": (0.0, 6.0),
    "pfree": (0.0, 1.0),
    "pctim": (0.0, 0.6),
    "adimp": (0.0, 0.4),
    "riva": (0.0, 0.2),
    "side": (0.0, 0.5),
    "rserv": (0.0, 0.4),
}

#: Parameters calibrated in the CAMELS set-up.
CALIBRATED_PARAMETERS: tuple[str, ...] = PARAMETER_NAMES[:13]

#: NCAR values of the parameters that are not calibrated.
DEFAULT_PARAMETERS: dict[str, float] = {"riva": 0.0, "side": 0.0, "rserv": 0.3}

#: State order of the kernel (mm).
STATE_NAMES: tuple[str, ...] = ("uztwc", "uzfwc", "lztwc", "lzfsc", "lzfpc", "adimc")

#: Flux columns of :func:`run_sacsma` (mm/day).
FLUX_NAMES: tuple[str, ...] = (
    "channel_inflow", "impervious_runoff", "direct_runoff", "surface_runoff", "interflow",
    "baseflow_supplementary", "baseflow_primary", "et", "deep_loss", "numerical_adjustment",
)

UZTWC, UZFWC, LZTWC, LZFSC, LZFPC, ADIMC = range(6)
(UZTWM, UZFWM, LZTWM, LZFPM, LZFSM, UZK, LZPK, LZSK,
 ZPERC, REXP, PFREE, PCTIM, ADIMP, RIVA, SIDE, RSERV) = range(16)
TCI, ROIMP, SDRO, SSUR, SIF, BFS, BFP, TET, BFNCC, ADJUST = range(10)
ZERO_STORE = 0.00001  # mm; NWS threshold below which tension and free stores are emptied


@njit(cache=True, error_model="numpy")
def _zero_small(s: np.ndarray, index: int) -> float:
    """Empty store ``index`` if below :data:`ZERO_STORE`; return the water removed (<= 0)."""
    if s[index] < ZERO_STORE:
        removed = -s[index]
        s[index] = 0.0
        return removed
    return 0.0


@njit(cache=True, error_model="numpy")
def _upper_zone_et(edmnd: float, p: np.ndarray, s: np.ndarray) -> tuple[float, float, float, bool]:
    """ET from upper-zone tension (:math:`E_1`) then free water (:math:`E_2`).

    Returns ``(e1, e2, residual demand, upper free water exhausted)``.
    """
    e1 = edmnd * s[UZTWC] / p[UZTWM]
    red = edmnd - e1
    s[UZTWC] -= e1
    e2 = 0.0
    if s[UZTWC] >= 0.0:
        return e1, e2, red, False
    e1 += s[UZTWC]
    s[UZTWC] = 0.0
    red = edmnd - e1
    if s[UZFWC] >= red:
        e2 = red
        s[UZFWC] -= e2
        return e1, e2, 0.0, False
    e2 = s[UZFWC]
    s[UZFWC] = 0.0
    return e1, e2, red - e2, True


@njit(cache=True, error_model="numpy")
def _evapotranspiration(edmnd: float, p: np.ndarray, s: np.ndarray) -> tuple[float, float, float]:
    """ET of one day (``SAC1`` before the runoff loop).

    Returns the pervious-area ET :math:`E_1 + E_2 + E_3`, the area-weighted ``adimp`` ET
    :math:`E_5` and the water added/removed by the zero-store rule (area-weighted, mm).
    """
    area = 1.0 - p[ADIMP] - p[PCTIM]
    e1, e2, red, uz_dry = _upper_zone_et(edmnd, p, s)
    if not uz_dry and s[UZTWC] / p[UZTWM] < s[UZFWC] / p[UZFWM]:
        ratio = (s[UZTWC] + s[UZFWC]) / (p[UZTWM] + p[UZFWM])
        s[UZTWC] = p[UZTWM] * ratio
        s[UZFWC] = p[UZFWM] * ratio
    adjust = area * (_zero_small(s, UZTWC) + _zero_small(s, UZFWC))
    e3 = min(red * s[LZTWC] / (p[UZTWM] + p[LZTWM]), s[LZTWC])
    s[LZTWC] -= e3
    saved = p[RSERV] * (p[LZFPM] + p[LZFSM])
    ratio_lz = (s[LZTWC] + s[LZFPC] + s[LZFSC] - saved) / (p[LZTWM] + p[LZFPM] + p[LZFSM] - saved)
    ratio_lzt = s[LZTWC] / p[LZTWM]
    if ratio_lzt < ratio_lz:
        transfer = (ratio_lz - ratio_lzt) * p[LZTWM]
        s[LZTWC] += transfer
        s[LZFSC] -= transfer
        if s[LZFSC] < 0.0:
            s[LZFPC] += s[LZFSC]
            s[LZFSC] = 0.0
    adjust += area * _zero_small(s, LZTWC)
    e5 = e1 + (red + e2) * (s[ADIMC] - e1 - s[UZTWC]) / (p[UZTWM] + p[LZTWM])
    e5 = min(e5, s[ADIMC])
    s[ADIMC] -= e5
    return e1 + e2 + e3, e5 * p[ADIMP], adjust


@njit(cache=True, error_model="numpy")
def _percolate(perc: float, p: np.ndarray, s: np.ndarray) -> None:
    """Distribute percolation to lower-zone tension water first, then to the free stores."""
    perc_free = 0.0
    perc_tension = perc * (1.0 - p[PFREE])
    if perc_tension + s[LZTWC] > p[LZTWM]:
        perc_free = perc_tension + s[LZTWC] - p[LZTWM]
        s[LZTWC] = p[LZTWM]
    else:
        s[LZTWC] += perc_tension
    perc_free += perc * p[PFREE]
    if perc_free == 0.0:
        return
    share_primary = p[LZFPM] / (p[LZFPM] + p[LZFSM])
    deficit_p = 1.0 - s[LZFPC] / p[LZFPM]
    deficit_s = 1.0 - s[LZFSC] / p[LZFSM]
    frac_p = min(share_primary * 2.0 * deficit_p / (deficit_p + deficit_s), 1.0)
    perc_s = perc_free - perc_free * frac_p
    s[LZFSC] += perc_s
    if s[LZFSC] > p[LZFSM]:
        perc_s -= s[LZFSC] - p[LZFSM]
        s[LZFSC] = p[LZFSM]
    s[LZFPC] += perc_free - perc_s
    if s[LZFPC] > p[LZFPM]:
        s[LZTWC] += s[LZFPC] - p[LZFPM]
        s[LZFPC] = p[LZFPM]


@njit(cache=True, error_model="numpy")
def _drain(s: np.ndarray, index: int, rate: float) -> float:
    """Baseflow :math:`d\\,S` of a lower free store; stores <= 1e-4 mm drain completely."""
    flow = s[index] * rate
    s[index] -= flow
    if s[index] <= 0.0001:
        flow += s[index]
        s[index] = 0.0
    return flow


@njit(cache=True, error_model="numpy")
def _increment(
    pinc: float, d_uz: float, d_lzp: float, d_lzs: float, p: np.ndarray, s: np.ndarray,
    acc: np.ndarray,
) -> None:
    """One sub-daily increment: baseflow, percolation, interflow, surface and direct runoff.

    Accumulates unweighted sums in ``acc`` = (primary baseflow, total baseflow, interflow,
    surface runoff [area-weighted], direct runoff [area-weighted], zero-store adjustment).
    """
    addro = pinc * max((s[ADIMC] - s[UZTWC]) / p[LZTWM], 0.0) ** 2
    adsur = 0.0
    bf_primary = _drain(s, LZFPC, d_lzp)
    acc[0] += bf_primary
    acc[1] += bf_primary + _drain(s, LZFSC, d_lzs)
    if pinc + s[UZFWC] <= 0.01:
        s[UZFWC] += pinc
    else:
        perc_max = p[LZFPM] * d_lzp + p[LZFSM] * d_lzs
        lz_capacity = p[LZTWM] + p[LZFPM] + p[LZFSM]
        deficiency = 1.0 - (s[LZTWC] + s[LZFPC] + s[LZFSC]) / lz_capacity
        perc = perc_max * s[UZFWC] / p[UZFWM] * (1.0 + p[ZPERC] * deficiency ** p[REXP])
        perc = min(perc, s[UZFWC])
        s[UZFWC] -= perc
        check = s[LZTWC] + s[LZFPC] + s[LZFSC] + perc - lz_capacity
        if check > 0.0:
            perc -= check
            s[UZFWC] += check
        interflow = s[UZFWC] * d_uz
        acc[2] += interflow
        s[UZFWC] -= interflow
        _percolate(perc, p, s)
        if pinc != 0.0:
            if pinc + s[UZFWC] > p[UZFWM]:
                surface = pinc + s[UZFWC] - p[UZFWM]
                s[UZFWC] = p[UZFWM]
                adsur = surface * (1.0 - addro / pinc)
                acc[3] += surface * (1.0 - p[ADIMP] - p[PCTIM]) + adsur * p[ADIMP]
            else:
                s[UZFWC] += pinc
    s[ADIMC] += pinc - addro - adsur
    adimc_max = p[UZTWM] + p[LZTWM]
    if s[ADIMC] > adimc_max:
        addro += s[ADIMC] - adimc_max
        s[ADIMC] = adimc_max
    acc[4] += addro * p[ADIMP]
    acc[5] += p[ADIMP] * _zero_small(s, ADIMC)


@njit(cache=True, error_model="numpy")
def sacsma_step(
    pxv: float, edmnd: float, p: np.ndarray, s: np.ndarray, flux: np.ndarray, acc: np.ndarray,
    rates: np.ndarray,
) -> None:
    """Advance the six stores ``s`` by one day and write :data:`FLUX_NAMES` into ``flux``.

    ``acc`` (6 floats) is scratch space for the sums over the sub-daily increments; ``rates``
    (4 floats, start at 0) caches the increment count and its depletion fractions of ``uzk``,
    ``lzpk``, ``lzsk`` so that the three powers are only recomputed when the count changes.
    """
    area = 1.0 - p[ADIMP] - p[PCTIM]
    et_pervious, e5, adjust = _evapotranspiration(edmnd, p, s)
    twx = pxv + s[UZTWC] - p[UZTWM]
    if twx >= 0.0:
        s[UZTWC] = p[UZTWM]
    else:
        s[UZTWC] += pxv
        twx = 0.0
    s[ADIMC] += pxv - twx
    roimp = pxv * p[PCTIM]
    ninc = int(1.0 + 0.2 * (s[UZFWC] + twx))
    pinc = twx / ninc
    if rates[0] != ninc:
        dinc = 1.0 / ninc
        rates[0] = ninc
        rates[1] = 1.0 - (1.0 - p[UZK]) ** dinc
        rates[2] = 1.0 - (1.0 - p[LZPK]) ** dinc
        rates[3] = 1.0 - (1.0 - p[LZSK]) ** dinc
    for k in range(6):
        acc[k] = 0.0
    for _ in range(ninc):
        _increment(pinc, rates[1], rates[2], rates[3], p, s, acc)
    baseflow_total = acc[1] * area
    baseflow_channel = baseflow_total / (1.0 + p[SIDE])
    bfp = acc[0] * area / (1.0 + p[SIDE])
    tci = roimp + acc[4] + acc[3] + acc[2] * area + baseflow_channel
    e4 = (edmnd - et_pervious) * p[RIVA]
    tci -= e4
    if tci < 0.0:
        e4 += tci
        tci = 0.0
    if s[ADIMC] < s[UZTWC]:
        adjust += p[ADIMP] * (s[UZTWC] - s[ADIMC])
        s[ADIMC] = s[UZTWC]
    flux[TCI] = tci
    flux[ROIMP] = roimp
    flux[SDRO] = acc[4]
    flux[SSUR] = acc[3]
    flux[SIF] = acc[2] * area
    flux[BFS] = max(baseflow_channel - bfp, 0.0)
    flux[BFP] = bfp
    flux[TET] = et_pervious * area + e5 + e4
    flux[BFNCC] = baseflow_total - baseflow_channel
    flux[ADJUST] = adjust + acc[5]


@njit(cache=True, error_model="numpy")
def run_sacsma(
    pxv: np.ndarray, pet: np.ndarray, p: np.ndarray, initial_states: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Run SAC-SMA over a forcing series.

    Parameters
    ----------
    pxv, pet : ndarray
        Rain + snowmelt reaching the soil and potential ET (mm/day).
    p : ndarray
        Parameters in :data:`PARAMETER_NAMES` order.
    initial_states : ndarray
        Stores in :data:`STATE_NAMES` order (mm). Values above capacity are not clipped up
        front: as in the NWS code, tension water above capacity spills into the free water and
        runoff of the first day.

    Returns
    -------
    states : ndarray, shape (n, 6)
        End-of-day stores (mm).
    fluxes : ndarray, shape (n, 10)
        :data:`FLUX_NAMES` (mm/day).
    """
    n = pxv.shape[0]
    states = np.empty((n, len(STATE_NAMES)))
    fluxes = np.empty((n, len(FLUX_NAMES)))
    s = initial_states.copy()
    flux = np.empty(len(FLUX_NAMES))
    acc = np.empty(6)
    rates = np.zeros(4)
    for t in range(n):
        sacsma_step(pxv[t], pet[t], p, s, flux, acc, rates)
        for k in range(len(STATE_NAMES)):
            states[t, k] = s[k]
        for k in range(len(FLUX_NAMES)):
            fluxes[t, k] = flux[k]
    return states, fluxes
