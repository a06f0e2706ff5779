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

Stores above capacity (e.g. initial states: the NWS run of 03049800 starts every store at 200 mm
whatever the capacities) are handled as SAC1 handles them, and the
places where SAC1's arithmetic is then undefined are guarded without changing any in-capacity
result: the deficiency ratio :math:`D` is clipped to [0, 1] before :math:`D^{\\mathrm{rexp}}`
(SAC1 gets NaN for :math:`D < 0` and then percolates all of ``uzfwc`` before its lower-zone check
returns the excess; with :math:`D = 0` the same check gives the same percolation), the primary
share of free-water percolation is bounded (:func:`_primary_fraction`), and the increment count
is range-checked before its integer conversion (:func:`_increment_count`; a NaN count used to give
garbage loop counts and out-of-bounds writes in compiled code). SAC1's ET and direct-runoff ratios
still exceed 1 for overfull stores, so such a start can create water on its first day (booked in
``et`` and ``numerical_adjustment``; the balance still closes).

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


# Implementation note (speed): the kernels below keep the six stores in scalar local variables and
# pass them between helpers as tuples, so that numba/LLVM holds them in registers for the whole day
# (array elements would be stored and reloaded around every update). Every expression keeps the
# operand order of the NWS code, so results are bit-for-bit those of the array formulation.

#: Increment counts whose depletion fractions are cached per run (``rates`` table rows).
MAX_CACHED_INCREMENTS = 256
#: Most sub-daily increments of one day (reached only above 5,000 mm of free plus excess water).
MAX_INCREMENTS = 1000


@njit(cache=True, error_model="numpy", inline="always")
def _zero_small(store: float) -> tuple[float, float]:
    """Empty ``store`` if below :data:`ZERO_STORE`; return (new store, water removed <= 0)."""
    if store < ZERO_STORE:
        return 0.0, -store
    return store, 0.0


@njit(cache=True, error_model="numpy", inline="always")
def _upper_zone_et(
    edmnd: float, uztwc: float, uzfwc: float, uztwm: float,
) -> tuple[float, float, float, float, float, bool]:
    """ET from upper-zone tension (:math:`E_1`) then free water (:math:`E_2`).

    Returns ``(uztwc, uzfwc, e1, e2, residual demand, upper free water exhausted)``.
    """
    e1 = edmnd * uztwc / uztwm
    red = edmnd - e1
    uztwc -= e1
    if uztwc >= 0.0:
        return uztwc, uzfwc, e1, 0.0, red, False
    e1 += uztwc
    uztwc = 0.0
    red = edmnd - e1
    if uzfwc >= red:
        return uztwc, uzfwc - red, e1, red, 0.0, False
    e2 = uzfwc
    return uztwc, 0.0, e1, e2, red - e2, True


@njit(cache=True, error_model="numpy", inline="always")
def _evapotranspiration(edmnd: float, p: np.ndarray, s: tuple) -> tuple:
    """ET of one day (``SAC1`` before the runoff loop).

    ``s`` is the store tuple in :data:`STATE_NAMES` order. Returns the updated stores, the
    pervious-area ET :math:`E_1 + E_2 + E_3`, the area-weighted ``adimp`` ET :math:`E_5` and the
    water added/removed by the zero-store rule (area-weighted, mm).
    """
    uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc = s
    area = 1.0 - p[ADIMP] - p[PCTIM]
    uztwc, uzfwc, e1, e2, red, uz_dry = _upper_zone_et(edmnd, uztwc, uzfwc, p[UZTWM])
    if not uz_dry and uztwc / p[UZTWM] < uzfwc / p[UZFWM]:
        ratio = (uztwc + uzfwc) / (p[UZTWM] + p[UZFWM])
        uztwc = p[UZTWM] * ratio
        uzfwc = p[UZFWM] * ratio
    uztwc, removed_t = _zero_small(uztwc)
    uzfwc, removed_f = _zero_small(uzfwc)
    adjust = area * (removed_t + removed_f)
    e3 = min(red * lztwc / (p[UZTWM] + p[LZTWM]), lztwc)
    lztwc -= e3
    saved = p[RSERV] * (p[LZFPM] + p[LZFSM])
    ratio_lz = (lztwc + lzfpc + lzfsc - saved) / (p[LZTWM] + p[LZFPM] + p[LZFSM] - saved)
    ratio_lzt = lztwc / p[LZTWM]
    if ratio_lzt < ratio_lz:
        transfer = (ratio_lz - ratio_lzt) * p[LZTWM]
        lztwc += transfer
        lzfsc -= transfer
        if lzfsc < 0.0:
            lzfpc += lzfsc
            lzfsc = 0.0
    lztwc, removed = _zero_small(lztwc)
    adjust += area * removed
    e5 = e1 + (red + e2) * (adimc - e1 - uztwc) / (p[UZTWM] + p[LZTWM])
    e5 = min(e5, adimc)
    adimc -= e5
    return (uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc), e1 + e2 + e3, e5 * p[ADIMP], adjust


@njit(cache=True, error_model="numpy", inline="always")
def _unit_interval(ratio: float) -> float:
    """``ratio`` clipped to [0, 1] (NaN stays NaN)."""
    if ratio < 0.0:
        return 0.0
    if ratio > 1.0:
        return 1.0
    return ratio


@njit(cache=True, error_model="numpy", inline="always")
def _primary_fraction(share_primary: float, deficit_p: float, deficit_s: float) -> float:
    """Share of free-water percolation going to the primary store (NWS ``FRACP``).

    SAC1's :math:`\\min(2\\,h\\,D_p/(D_p + D_s), 1)` with the relative size :math:`h` of the
    primary store and the deficits :math:`D = 1 - C/M` of the primary and supplementary stores,
    bit for bit while both stores are within capacity. A store above capacity (negative deficit,
    e.g. from initial states, as in the NWS run of 03049800) keeps SAC1's value as well, which
    moves water out of the overfull store, but the quotient is then unbounded: it is clipped at
    -1 (at most the free percolation itself is taken from the primary store), and where it is
    undefined (:math:`D_p + D_s = 0`) the water goes by size (both stores full) or to the store
    with room. Water is conserved in every case.
    """
    denominator = deficit_p + deficit_s
    if denominator != 0.0:
        fraction = share_primary * 2.0 * deficit_p / denominator
        if fraction > 1.0:
            return 1.0
        if fraction < -1.0:
            return -1.0
        return fraction
    if deficit_p == 0.0:
        return share_primary
    return 1.0 if deficit_p > 0.0 else -1.0


@njit(cache=True, error_model="numpy", inline="always")
def _percolate(
    perc: float, p: np.ndarray, lztwc: float, lzfsc: float, lzfpc: float,
) -> tuple[float, float, float]:
    """Distribute percolation to lower-zone tension water first, then to the free stores.

    Returns the new ``(lztwc, lzfsc, lzfpc)``.
    """
    perc_free = 0.0
    perc_tension = perc * (1.0 - p[PFREE])
    if perc_tension + lztwc > p[LZTWM]:
        perc_free = perc_tension + lztwc - p[LZTWM]
        lztwc = p[LZTWM]
    else:
        lztwc += perc_tension
    perc_free += perc * p[PFREE]
    if perc_free == 0.0:
        return lztwc, lzfsc, lzfpc
    share_primary = p[LZFPM] / (p[LZFPM] + p[LZFSM])
    deficit_p = 1.0 - lzfpc / p[LZFPM]
    deficit_s = 1.0 - lzfsc / p[LZFSM]
    frac_p = _primary_fraction(share_primary, deficit_p, deficit_s)
    perc_s = perc_free - perc_free * frac_p
    lzfsc += perc_s
    if lzfsc > p[LZFSM]:
        perc_s -= lzfsc - p[LZFSM]
        lzfsc = p[LZFSM]
    lzfpc += perc_free - perc_s
    if lzfpc > p[LZFPM]:
        lztwc += lzfpc - p[LZFPM]
        lzfpc = p[LZFPM]
    return lztwc, lzfsc, lzfpc


@njit(cache=True, error_model="numpy", inline="always")
def _drain(store: float, rate: float) -> tuple[float, float]:
    """Baseflow :math:`d\\,S` of a lower free store; stores <= 1e-4 mm drain completely.

    Returns ``(new store, flow)``.
    """
    flow = store * rate
    store -= flow
    if store <= 0.0001:
        flow += store
        store = 0.0
    return store, flow


@njit(cache=True, error_model="numpy", inline="always")
def _increment(
    pinc: float, d_uz: float, d_lzp: float, d_lzs: float, p: np.ndarray, s: tuple,
) -> tuple:
    """One sub-daily increment: baseflow, percolation, interflow, surface and direct runoff.

    ``s`` is the store tuple in :data:`STATE_NAMES` order. Returns the updated stores and the
    increment's (primary baseflow, total baseflow, interflow, surface runoff [area-weighted],
    direct runoff [area-weighted], zero-store adjustment).
    """
    uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc = s
    addro = pinc * max((adimc - uztwc) / p[LZTWM], 0.0) ** 2
    adsur = 0.0
    interflow = 0.0
    surface_flow = 0.0
    lzfpc, bf_primary = _drain(lzfpc, d_lzp)
    lzfsc, bf_supplementary = _drain(lzfsc, d_lzs)
    if pinc + uzfwc <= 0.01:
        uzfwc += pinc
    else:
        perc_max = p[LZFPM] * d_lzp + p[LZFSM] * d_lzs
        lz_capacity = p[LZTWM] + p[LZFPM] + p[LZFSM]
        deficiency = _unit_interval(1.0 - (lztwc + lzfpc + lzfsc) / lz_capacity)
        perc = perc_max * uzfwc / p[UZFWM] * (1.0 + p[ZPERC] * deficiency ** p[REXP])
        perc = min(perc, uzfwc)
        uzfwc -= perc
        check = lztwc + lzfpc + lzfsc + perc - lz_capacity
        if check > 0.0:
            perc -= check
            uzfwc += check
        interflow = uzfwc * d_uz
        uzfwc -= interflow
        lztwc, lzfsc, lzfpc = _percolate(perc, p, lztwc, lzfsc, lzfpc)
        if pinc != 0.0:
            if pinc + uzfwc > p[UZFWM]:
                surface = pinc + uzfwc - p[UZFWM]
                uzfwc = p[UZFWM]
                adsur = surface * (1.0 - addro / pinc)
                surface_flow = surface * (1.0 - p[ADIMP] - p[PCTIM]) + adsur * p[ADIMP]
            else:
                uzfwc += pinc
    adimc += pinc - addro - adsur
    adimc_max = p[UZTWM] + p[LZTWM]
    if adimc > adimc_max:
        addro += adimc - adimc_max
        adimc = adimc_max
    adimc, removed = _zero_small(adimc)
    return ((uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc), bf_primary,
            bf_primary + bf_supplementary, interflow, surface_flow, addro * p[ADIMP],
            p[ADIMP] * removed)


@njit(cache=True, error_model="numpy", inline="always")
def _increment_count(uzfwc: float, twx: float) -> int:
    """NWS increment count :math:`\\lfloor 1 + 0.2\\,(\\mathrm{uzfwc} + P_x) \\rfloor`, guarded.

    The float is range-checked before the integer conversion (converting NaN or a value out of
    the integer range is undefined behaviour in compiled code, and gave garbage loop counts): NaN or
    a value below 1 gives one increment, and the count is capped at :data:`MAX_INCREMENTS` (the cap
    only splits more than 5 m of daily excess water into coarser increments; all of it is still
    applied).
    """
    count = 1.0 + 0.2 * (uzfwc + twx)
    if count >= MAX_INCREMENTS:
        return MAX_INCREMENTS
    if count >= 1.0:
        return int(count)
    return 1


@njit(cache=True, error_model="numpy", inline="always")
def _depletion_rates(ninc: int, p: np.ndarray, rates: np.ndarray) -> tuple[float, float, float]:
    """Depletion fractions :math:`d_k = 1 - (1 - k)^{1/n}` of ``uzk``, ``lzpk``, ``lzsk``.

    ``rates`` is a per-run cache (``(MAX_CACHED_INCREMENTS, 3)``, NaN = not yet computed) indexed
    by the increment count ``ninc``, so the three powers are computed once per distinct count.
    """
    if ninc < rates.shape[0] and rates[ninc, 0] == rates[ninc, 0]:
        return rates[ninc, 0], rates[ninc, 1], rates[ninc, 2]
    dinc = 1.0 / ninc
    d_uz = 1.0 - (1.0 - p[UZK]) ** dinc
    d_lzp = 1.0 - (1.0 - p[LZPK]) ** dinc
    d_lzs = 1.0 - (1.0 - p[LZSK]) ** dinc
    if ninc < rates.shape[0]:
        rates[ninc, 0] = d_uz
        rates[ninc, 1] = d_lzp
        rates[ninc, 2] = d_lzs
    return d_uz, d_lzp, d_lzs


def new_rate_cache() -> np.ndarray:
    """Empty depletion-rate cache for :func:`sacsma_day` (one per run and parameter set)."""
    return np.full((MAX_CACHED_INCREMENTS, 3), np.nan)


@njit(cache=True, error_model="numpy", inline="always")
def sacsma_day(pxv: float, edmnd: float, p: np.ndarray, s: tuple, rates: np.ndarray) -> tuple:
    """Advance the store tuple ``s`` (:data:`STATE_NAMES` order) by one day.

    Returns ``(new stores, fluxes)`` with ``fluxes`` the tuple of :data:`FLUX_NAMES`. ``rates``
    is the depletion-rate cache of :func:`_depletion_rates` (its rows depend on ``p``).
    """
    area = 1.0 - p[ADIMP] - p[PCTIM]
    s, et_pervious, e5, adjust = _evapotranspiration(edmnd, p, s)
    uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc = s
    twx = pxv + uztwc - p[UZTWM]
    if twx >= 0.0:
        uztwc = p[UZTWM]
    else:
        uztwc += pxv
        twx = 0.0
    adimc += pxv - twx
    s = (uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc)
    roimp = pxv * p[PCTIM]
    ninc = _increment_count(uzfwc, twx)
    pinc = twx / ninc
    d_uz, d_lzp, d_lzs = _depletion_rates(ninc, p, rates)
    sum_bfp = 0.0
    sum_bf = 0.0
    sum_sif = 0.0
    sum_ssur = 0.0
    sum_sdro = 0.0
    sum_adjust = 0.0
    for _ in range(ninc):
        s, bfp_k, bf_k, sif_k, ssur_k, sdro_k, adjust_k = _increment(
            pinc, d_uz, d_lzp, d_lzs, p, s)
        sum_bfp += bfp_k
        sum_bf += bf_k
        sum_sif += sif_k
        sum_ssur += ssur_k
        sum_sdro += sdro_k
        sum_adjust += adjust_k
    uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc = s
    baseflow_total = sum_bf * area
    baseflow_channel = baseflow_total / (1.0 + p[SIDE])
    bfp = sum_bfp * area / (1.0 + p[SIDE])
    tci = roimp + sum_sdro + sum_ssur + sum_sif * area + baseflow_channel
    e4 = (edmnd - et_pervious) * p[RIVA]
    tci -= e4
    if tci < 0.0:
        e4 += tci
        tci = 0.0
    if adimc < uztwc:
        adjust += p[ADIMP] * (uztwc - adimc)
        adimc = uztwc
    fluxes = (tci, roimp, sum_sdro, sum_ssur, sum_sif * area, max(baseflow_channel - bfp, 0.0),
              bfp, et_pervious * area + e5 + e4, baseflow_total - baseflow_channel,
              adjust + sum_adjust)
    return (uztwc, uzfwc, lztwc, lzfsc, lzfpc, adimc), fluxes


@njit(cache=True, error_model="numpy")
def run_sacsma_into(
    pxv: np.ndarray, pet: np.ndarray, p: np.ndarray, initial_states: np.ndarray,
    states: np.ndarray, fluxes: np.ndarray, rates: np.ndarray,
) -> None:
    """:func:`run_sacsma` writing into preallocated ``states`` (6, n) and ``fluxes`` (10, n)."""
    s = (initial_states[0], initial_states[1], initial_states[2], initial_states[3],
         initial_states[4], initial_states[5])
    for t in range(pxv.shape[0]):
        s, f = sacsma_day(pxv[t], pet[t], p, s, rates)
        for k in range(6):
            states[k, t] = s[k]
        for k in range(10):
            fluxes[k, t] = f[k]


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
    pxv = np.ascontiguousarray(pxv, dtype=np.float64)
    n = pxv.shape[0]
    states = np.empty((len(STATE_NAMES), n))
    fluxes = np.empty((len(FLUX_NAMES), n))
    run_sacsma_into(pxv, np.ascontiguousarray(pet, dtype=np.float64),
                    np.ascontiguousarray(p, dtype=np.float64),
                    np.ascontiguousarray(initial_states, dtype=np.float64), states, fluxes,
                    new_rate_cache())
    return states.T, fluxes.T
