"""EXP-HYDRO: a two-bucket (snow + catchment) conceptual model (Patil & Stieglitz, 2014).

States: snow store S₀ and catchment (soil) store S₁ [mm]. Forcings: precipitation P, daily mean
temperature T and potential evapotranspiration PET (Hamon's formula from T and day length when not
given, as in the original). Parameters: f [mm⁻¹], S_max [mm], Q_max [mm/day], D_f [mm/day/°C],
T_max [°C] (melt threshold), T_min [°C] (snow threshold).

    snowfall  P_s = P if T < T_min else 0,     rainfall P_r = P − P_s
    melt      M   = min(S₀, D_f (T − T_max)) if T > T_max and S₀ > 0 else 0
    ET        E   = PET · S₁/S_max  (0 ≤ S₁ ≤ S_max),  PET (S₁ > S_max),  0 (S₁ < 0)
    baseflow  Q_b = Q_max exp(−f (S_max − S₁)) (0 ≤ S₁ ≤ S_max),  Q_max (S₁ > S_max),  0 (S₁ < 0)
    overflow  Q_s = max(0, S₁ − S_max)
    dS₀/dt = P_s − M,    dS₁/dt = P_r + M − E − Q_b − Q_s,    Q = Q_b + Q_s

Integration schemes (step h = 1 day; the forcing of day i applies on [i, i+1)):

- ``"euler"``: S(i+1) = S(i) + F(S(i), day i). Reported fluxes are F's terms at S(i).
- ``"rk4"``: classical Runge–Kutta with all four stages on day i's forcing,
  S(i+1) = S(i) + (k₁ + 2k₂ + 2k₃ + k₄)/6, and every reported flux is the same RK4-weighted mean of
  its four stage values, so P − E − Q − ΔS₀ − ΔS₁ = 0 to rounding over any period.
- ``"rk4_patil"``: the original code (exphydro.lumped + hydroutils ``OdeSolver.solve_rk4``) run under
  Python 3: stage time t is mapped to the forcing day ``round(t)`` (round-half-to-even, so the
  midpoint stages of even days use day i and those of odd days use day i+1), and the reported flux of
  a day is that of the last right-hand-side evaluation that fell on that day. This reproduces the
  published reference (KGE 0.734 on the sample basin) but its reported fluxes do not close the water
  balance; use it only to compare with the original.

Outputs are end-of-day states (and their sum ``storage``) and daily fluxes in mm/day.

Speed: one day of ``"rk4"`` needs four baseflow exponentials, each depending on the previous stage's
store, so a run is bounded below by 4 x n *sequential* ``exp`` latencies (~10 ns each on a 3 GHz
x86 core: about 0.15 ms of the ~0.29 ms of 3,653 days); ``"euler"`` needs one (~0.06 ms).

References
----------
Patil, S., Stieglitz, M. (2014): Modelling daily streamflow at ungauged catchments: what information is
    necessary? Hydrol. Process. 28, 1159–1169.
Patil, S. (2014): EXP-HYDRO source code, https://github.com/sopanpatil/exp-hydro.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from numba import njit

from runoffbench.errors import ConfigError, DataError
from runoffbench.models.conceptual.pet import hamon

#: parameter order used by the array interface
PARAMETER_NAMES: tuple[str, ...] = ("f", "smax", "qmax", "df", "tmax", "tmin")
#: calibration bounds of the original code (ExphydroParameters.py)
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "f": (0.0, 0.1),
    "smax": (100.0, 1500.0),
    "qmax": (10.0, 50.0),
    "df": (0.0, 5.0),
    "tmax": (0.0, 3.0),
    "tmin": (-3.0, 0.0),
}
SCHEMES: tuple[str, ...] = ("rk4", "euler", "rk4_patil")
#: rows of the output array, in order
OUTPUT_NAMES: tuple[str, ...] = (
    "q", "qb", "qs", "et", "melt", "snowfall", "rainfall", "swe", "soil", "storage",
)
_N_FLUXES = 7


@njit(cache=True)
def _fluxes(s0, s1, p, t, pet, f, smax, qmax, df, tmax, tmin, out):
    """Write (ds0, ds1, qb, qs, et, melt, snowfall) for state (s0, s1) into ``out``."""
    snow = p if t < tmin else 0.0
    melt = 0.0
    if t > tmax and s0 > 0.0:
        melt = min(s0, df * (t - tmax))
    if s1 < 0.0:
        et, qb, qs = 0.0, 0.0, 0.0
    elif s1 > smax:
        et, qb, qs = pet, qmax, s1 - smax
    else:
        et, qb, qs = pet * s1 / smax, qmax * np.exp(-f * (smax - s1)), 0.0
    out[0] = snow - melt
    out[1] = (p - snow) + melt - et - qb - qs
    out[2] = qb
    out[3] = qs
    out[4] = et
    out[5] = melt
    out[6] = snow


@njit(cache=True)
def _store(res, i, k, p):
    """Store flux vector k of day i into the result rows (q, qb, qs, et, melt, snowfall, rainfall)."""
    res[0, i] = k[2] + k[3]
    res[1, i] = k[2]
    res[2, i] = k[3]
    res[3, i] = k[4]
    res[4, i] = k[5]
    res[5, i] = k[6]
    res[6, i] = p - k[6]


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def _bucket(s1, pet, f, smax, qmax):
    """(ET, baseflow, overflow) of the catchment store ``s1``."""
    if s1 < 0.0:
        return 0.0, 0.0, 0.0
    if s1 > smax:
        return pet, qmax, s1 - smax
    return pet * s1 / smax, qmax * np.exp(-f * (smax - s1)), 0.0


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _run_into(params, prcp, temp, pet, s0, s1, scheme, res):
    """Integrate one basin into ``res`` (10, n): the :data:`OUTPUT_NAMES` rows.

    ``scheme`` 0 = rk4, 1 = euler, 2 = rk4_patil. The per-day work that does not depend on the
    stores (snow/rain split, melt potential) is done once per day, outside the RK4 stages; the
    stages keep their values in registers. One day of RK4 is four *dependent* evaluations of
    ``exp`` (each stage's baseflow needs the previous stage's store), so the run time is bounded
    below by 4 x 3,653 exp latencies; see benchmarks/README.md.
    """
    f, smax, qmax, df, tmax, tmin = params[0], params[1], params[2], params[3], params[4], params[5]
    n = prcp.shape[0]
    if scheme == 2:
        _run_patil(params, prcp, temp, pet, s0, s1, res)
        return
    for i in range(n):
        p = prcp[i]
        t = temp[i]
        e = pet[i]
        snow = p if t < tmin else 0.0
        rain = p - snow
        warm = t > tmax
        potential = df * (t - tmax)
        m1 = min(s0, potential) if warm and s0 > 0.0 else 0.0
        et1, qb1, qs1 = _bucket(s1, e, f, smax, qmax)
        ds1_1 = rain + m1 - et1 - qb1 - qs1
        if scheme == 1:
            melt, et, qb, qs = m1, et1, qb1, qs1
            ds0 = snow - m1
            ds1 = ds1_1
        else:
            ds0_1 = snow - m1
            a0 = s0 + 0.5 * ds0_1
            m2 = min(a0, potential) if warm and a0 > 0.0 else 0.0
            et2, qb2, qs2 = _bucket(s1 + 0.5 * ds1_1, e, f, smax, qmax)
            ds0_2 = snow - m2
            ds1_2 = rain + m2 - et2 - qb2 - qs2
            a0 = s0 + 0.5 * ds0_2
            m3 = min(a0, potential) if warm and a0 > 0.0 else 0.0
            et3, qb3, qs3 = _bucket(s1 + 0.5 * ds1_2, e, f, smax, qmax)
            ds0_3 = snow - m3
            ds1_3 = rain + m3 - et3 - qb3 - qs3
            a0 = s0 + ds0_3
            m4 = min(a0, potential) if warm and a0 > 0.0 else 0.0
            et4, qb4, qs4 = _bucket(s1 + ds1_3, e, f, smax, qmax)
            ds0_4 = snow - m4
            ds1_4 = rain + m4 - et4 - qb4 - qs4
            ds0 = (ds0_1 + 2.0 * (ds0_2 + ds0_3) + ds0_4) / 6.0
            ds1 = (ds1_1 + 2.0 * (ds1_2 + ds1_3) + ds1_4) / 6.0
            melt = (m1 + 2.0 * (m2 + m3) + m4) / 6.0
            et = (et1 + 2.0 * (et2 + et3) + et4) / 6.0
            qb = (qb1 + 2.0 * (qb2 + qb3) + qb4) / 6.0
            qs = (qs1 + 2.0 * (qs2 + qs3) + qs4) / 6.0
        s0 += ds0
        s1 += ds1
        res[0, i] = qb + qs
        res[1, i] = qb
        res[2, i] = qs
        res[3, i] = et
        res[4, i] = melt
        res[5, i] = snow
        res[6, i] = rain
        res[7, i] = s0
        res[8, i] = s1
        res[9, i] = s0 + s1


@njit(cache=True)
def _run_patil(params, prcp, temp, pet, s0, s1, res):
    """The ``rk4_patil`` scheme (forcing-day mapping and reported fluxes of the original code)."""
    f, smax, qmax, df, tmax, tmin = params[0], params[1], params[2], params[3], params[4], params[5]
    n = prcp.shape[0]
    k1 = np.empty(_N_FLUXES)
    k2 = np.empty(_N_FLUXES)
    k3 = np.empty(_N_FLUXES)
    k4 = np.empty(_N_FLUXES)
    w = np.empty(_N_FLUXES)
    for i in range(n):
        _fluxes(s0, s1, prcp[i], temp[i], pet[i], f, smax, qmax, df, tmax, tmin, k1)
        # Python-3 round(i + 0.5): half to even
        j = min(i + (i % 2), n - 1)
        jn = min(i + 1, n - 1)
        _fluxes(s0 + 0.5 * k1[0], s1 + 0.5 * k1[1], prcp[j], temp[j], pet[j],
                f, smax, qmax, df, tmax, tmin, k2)
        _fluxes(s0 + 0.5 * k2[0], s1 + 0.5 * k2[1], prcp[j], temp[j], pet[j],
                f, smax, qmax, df, tmax, tmin, k3)
        _fluxes(s0 + k3[0], s1 + k3[1], prcp[jn], temp[jn], pet[jn],
                f, smax, qmax, df, tmax, tmin, k4)
        for m in range(_N_FLUXES):
            w[m] = (k1[m] + 2.0 * (k2[m] + k3[m]) + k4[m]) / 6.0
        # last evaluation on each day wins, in evaluation order k1, k2, k3, k4
        _store(res, i, k1, prcp[i])
        _store(res, j, k3, prcp[j])
        _store(res, jn, k4, prcp[jn])
        s0 += w[0]
        s1 += w[1]
        res[7, i] = s0
        res[8, i] = s1
        res[9, i] = s0 + s1


@njit(cache=True)
def _run_batch(params, prcp, temp, pet, s0, s1, scheme):
    """Integrate many basins: params (b, 6), forcings (b, n). Returns (b, 10, n)."""
    nb, n = prcp.shape
    out = np.empty((nb, len(OUTPUT_NAMES), n))
    for b in range(nb):
        _run_into(params[b], prcp[b], temp[b], pet[b], s0[b], s1[b], scheme, out[b])
    return out


def parameter_array(params: Mapping[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
    """Parameters as float64 array(s) in :data:`PARAMETER_NAMES` order (last axis of length 6)."""
    if isinstance(params, Mapping):
        missing = [name for name in PARAMETER_NAMES if name not in params]
        if missing:
            raise ConfigError(f"EXP-HYDRO parameters missing: {missing}; expected {PARAMETER_NAMES}")
        return np.array([float(params[name]) for name in PARAMETER_NAMES])
    array = np.asarray(params, dtype=np.float64)
    if array.shape[-1] != len(PARAMETER_NAMES):
        raise ConfigError(f"EXP-HYDRO needs {len(PARAMETER_NAMES)} parameters {PARAMETER_NAMES}, "
                          f"got shape {array.shape}")
    return array


class Forcing(NamedTuple):
    """Checked forcing of one basin (:func:`prepare`): contiguous float64 series, no NaN/inf."""

    prcp: np.ndarray   #: precipitation [mm/day]
    tmean: np.ndarray  #: daily mean air temperature [°C]
    pet: np.ndarray    #: potential evapotranspiration [mm/day]


def prepare(prcp, tmean, dayl=None, pet=None) -> Forcing:
    """Check and convert one basin's forcing once (shapes, NaN/inf; Hamon PET from ``dayl``).

    For calibration: call once per basin, then :func:`run` per parameter set.
    """
    prcp = np.ascontiguousarray(prcp, dtype=np.float64)
    tmean = np.ascontiguousarray(tmean, dtype=np.float64)
    if pet is None:
        if dayl is None:
            raise DataError("EXP-HYDRO needs either a PET series or day length (dayl, s) for Hamon's PET")
        pet = hamon(tmean, dayl)
    pet = np.asarray(pet, dtype=np.float64)
    if pet.shape != prcp.shape:
        pet = np.broadcast_to(pet, prcp.shape)
    pet = np.ascontiguousarray(pet)
    if tmean.shape != prcp.shape:
        raise DataError(f"EXP-HYDRO forcings differ in shape: prcp {prcp.shape}, tmean {tmean.shape}")
    for name, array in (("prcp", prcp), ("tmean", tmean), ("pet", pet)):
        bad = _first_non_finite(array.reshape(-1))
        if bad >= 0:
            raise DataError(f"EXP-HYDRO forcing '{name}' contains NaN or inf (first at flat index {bad}); "
                            "fill gaps before simulating")
    return Forcing(prcp, tmean, pet)


@njit(cache=True)
def _first_non_finite(values):
    """Index of the first NaN/inf of a 1-d array, -1 if none (a fast ``np.isfinite(...).all()``)."""
    for i in range(values.shape[0]):
        if not np.isfinite(values[i]):
            return i
    return -1


def _scheme_code(scheme: str) -> int:
    if scheme not in SCHEMES:
        raise ConfigError(f"unknown EXP-HYDRO scheme '{scheme}'; choose one of {SCHEMES}")
    return SCHEMES.index(scheme)


def run(
    params: np.ndarray,
    forcing: Forcing,
    *,
    scheme: str = "rk4",
    initial_swe: float = 0.0,
    initial_soil: float = 0.0,
) -> np.ndarray:
    """One run on :func:`prepare`-d forcing: the rows of :data:`OUTPUT_NAMES`, shape (10, n).

    The calibration fast path: ``params`` (6 values in :data:`PARAMETER_NAMES` order) is not
    checked, the forcing was checked by :func:`prepare`.
    """
    res = np.empty((len(OUTPUT_NAMES), forcing.prcp.shape[0]))
    _run_into(np.asarray(params, dtype=np.float64), forcing.prcp, forcing.tmean, forcing.pet,
              float(initial_swe), float(initial_soil), _scheme_code(scheme), res)
    return res


def simulate(
    params: Mapping[str, float] | Sequence[float] | np.ndarray,
    prcp: np.ndarray,
    tmean: np.ndarray,
    dayl: np.ndarray | None = None,
    pet: np.ndarray | None = None,
    *,
    scheme: str = "rk4",
    initial_swe: float = 0.0,
    initial_soil: float = 0.0,
) -> dict[str, np.ndarray]:
    """Run EXP-HYDRO for one basin.

    Args:
        params: mapping with the keys of :data:`PARAMETER_NAMES`, or a length-6 array in that order.
        prcp: daily precipitation [mm/day].
        tmean: daily mean air temperature [°C].
        dayl: day length [s]; used for Hamon PET when ``pet`` is None.
        pet: potential evapotranspiration [mm/day]; overrides Hamon.
        scheme: ``"rk4"``, ``"euler"`` or ``"rk4_patil"`` (see module docstring).
        initial_swe, initial_soil: initial snow and catchment stores [mm].

    Returns:
        dict of 1-d arrays named as :data:`OUTPUT_NAMES`: q, qb, qs, et, melt, snowfall, rainfall
        [mm/day] and end-of-day stores swe, soil and their sum storage [mm].
    """
    res = run(parameter_array(params), prepare(prcp, tmean, dayl, pet), scheme=scheme,
              initial_swe=initial_swe, initial_soil=initial_soil)
    return dict(zip(OUTPUT_NAMES, res))


def simulate_batch(
    params: np.ndarray,
    prcp: np.ndarray,
    tmean: np.ndarray,
    dayl: np.ndarray | None = None,
    pet: np.ndarray | None = None,
    *,
    scheme: str = "rk4",
    initial_swe: float | np.ndarray = 0.0,
    initial_soil: float | np.ndarray = 0.0,
) -> dict[str, np.ndarray]:
    """Run EXP-HYDRO for many basins at once: params (basins, 6), forcings (basins, days).

    Returns the outputs of :func:`simulate` as (basins, days) arrays.
    """
    p = np.ascontiguousarray(parameter_array(params).reshape(-1, len(PARAMETER_NAMES)))
    forcings = prepare(np.atleast_2d(prcp), np.atleast_2d(tmean),
                       None if dayl is None else np.atleast_2d(dayl), pet)
    nb = p.shape[0]
    s0 = np.broadcast_to(np.asarray(initial_swe, dtype=np.float64), (nb,)).copy()
    s1 = np.broadcast_to(np.asarray(initial_soil, dtype=np.float64), (nb,)).copy()
    res = _run_batch(p, *forcings, s0, s1, _scheme_code(scheme))
    return {name: res[:, k] for k, name in enumerate(OUTPUT_NAMES)}
