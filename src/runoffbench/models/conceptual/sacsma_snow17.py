"""Coupled Snow-17 + SAC-SMA + gamma unit hydrograph, the CAMELS benchmark model.

Precipitation and air temperature drive Snow-17 (:mod:`.snow17`); its rain + melt and the potential
ET drive SAC-SMA (:mod:`.sacsma`); the total channel inflow is routed to the outlet with a gamma unit
hydrograph (:mod:`.unit_hydrograph`), exactly in the order of the NCAR ``lump_driver`` used by
Newman et al. (2015). All fluxes are mm/day and all stores mm over the basin, so that

.. math::

    \\sum (P_r + \\mathrm{scf}\\,P_s) - \\sum ET - \\sum Q - \\sum \\mathrm{deep\\_loss}
    + \\sum \\mathrm{numerical\\_adjustment} = \\Delta(\\mathrm{SWE} + S_{soil} + S_{channel}),

with :math:`S_{soil}` the area-weighted SAC-SMA storage (``soil_storage``) and :math:`S_{channel}` the
water still travelling through the unit hydrograph (``channel_storage``).

References
----------
- Anderson, E. A. (2006): Snow accumulation and ablation model - SNOW-17. NWS user manual.
- Burnash, R. J. C. (1995): The NWS River Forecast System - catchment modeling.
- Newman, A. J., et al. (2015): Development of a large-sample watershed-scale hydrometeorological
  data set for the contiguous USA. HESS 19, 209-223.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from runoffbench.errors import ConfigError, DataError
from runoffbench.models.conceptual import sacsma, snow17, unit_hydrograph

#: Bounds of every parameter: calibration ranges for calibrated ones, valid ranges for the others.
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    **snow17.PARAMETER_BOUNDS, **sacsma.PARAMETER_BOUNDS, **unit_hydrograph.PARAMETER_BOUNDS,
}

#: Parameters calibrated in the CAMELS set-up (Newman et al., 2015).
CALIBRATED_PARAMETERS: tuple[str, ...] = (
    snow17.CALIBRATED_PARAMETERS + sacsma.CALIBRATED_PARAMETERS
    + tuple(unit_hydrograph.PARAMETER_BOUNDS)
)

#: NCAR values of the parameters that are not calibrated.
DEFAULT_PARAMETERS: dict[str, float] = {**snow17.DEFAULT_PARAMETERS, **sacsma.DEFAULT_PARAMETERS}

#: Initial states of the NCAR driver: every SAC-SMA store at 200 mm and no snow.
DEFAULT_INITIAL_STATES: dict[str, float] = {"swe": 0.0, **dict.fromkeys(sacsma.STATE_NAMES, 200.0)}

#: Names of the arrays returned by :func:`simulate`.
OUTPUT_NAMES: tuple[str, ...] = (
    ("qsim",) + snow17.OUTPUT_NAMES + sacsma.STATE_NAMES + sacsma.FLUX_NAMES
    + ("soil_storage", "channel_storage")
)


def validate_parameters(params: Mapping[str, float]) -> dict[str, float]:
    """Complete ``params`` with :data:`DEFAULT_PARAMETERS` and check names and bounds.

    Raises
    ------
    ConfigError
        For an unknown or missing parameter, a value outside :data:`PARAMETER_BOUNDS`, or
        ``pctim + adimp >= 1`` (no pervious area left).
    """
    unknown = sorted(set(params) - set(PARAMETER_BOUNDS))
    if unknown:
        raise ConfigError(f"unknown SAC-SMA/Snow-17 parameter(s) {unknown}; "
                          f"expected names from {sorted(PARAMETER_BOUNDS)}")
    full = {**DEFAULT_PARAMETERS, **{name: float(value) for name, value in params.items()}}
    missing = [name for name in PARAMETER_BOUNDS if name not in full]
    if missing:
        raise ConfigError(f"missing SAC-SMA/Snow-17 parameter(s) {missing}")
    for name, value in full.items():
        low, high = PARAMETER_BOUNDS[name]
        if not low <= value <= high:
            raise ConfigError(f"parameter '{name}' = {value} is outside its bounds [{low}, {high}]")
    if full["pctim"] + full["adimp"] >= 1.0:
        raise ConfigError("parameters 'pctim' + 'adimp' must be < 1 (pervious area fraction)")
    return full


def _initial_state_vector(initial_states: Mapping[str, float] | None) -> tuple[float, np.ndarray]:
    """Initial SWE and SAC-SMA stores from ``initial_states`` (defaults for absent keys)."""
    given = dict(initial_states or {})
    unknown = sorted(set(given) - set(DEFAULT_INITIAL_STATES))
    if unknown:
        raise ConfigError(f"unknown initial state(s) {unknown}; "
                          f"expected names from {sorted(DEFAULT_INITIAL_STATES)}")
    states = {**DEFAULT_INITIAL_STATES, **given}
    for name, value in states.items():
        if not np.isfinite(value) or value < 0.0:
            raise ConfigError(f"initial state '{name}' = {value} must be finite and >= 0")
    return float(states["swe"]), np.array([states[name] for name in sacsma.STATE_NAMES], float)


def _forcing_array(values, name: str, n: int | None) -> np.ndarray:
    """Forcing as float64, checked for length and for NaN (names the first bad day index)."""
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1 or (n is not None and array.shape[0] != n):
        raise DataError(f"forcing '{name}' must be 1-D with {n} days, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise DataError(f"forcing '{name}' is NaN/inf at day index {bad[0]} "
                        f"({bad.size} day(s) in total)")
    if name in ("prcp", "pet") and (array < 0.0).any():
        raise DataError(f"forcing '{name}' is negative at day index {np.flatnonzero(array < 0)[0]}")
    return array


def _adc_array(adc) -> np.ndarray:
    """Areal depletion curve: 11 non-decreasing snow-cover fractions in [0, 1]."""
    curve = snow17.DEFAULT_ADC if adc is None else np.asarray(adc, dtype=np.float64)
    if curve.shape != (11,) or (curve < 0).any() or (curve > 1).any() or (np.diff(curve) < 0).any():
        raise ConfigError("parameter 'adc' must be 11 non-decreasing values in [0, 1]")
    return curve


class PreparedInputs(NamedTuple):
    """Checked, converted forcing of :func:`prepare`, reusable across :func:`run` calls."""

    prcp: np.ndarray        #: precipitation (mm/day), float64
    tair: np.ndarray        #: air temperature (deg C), float64
    pet: np.ndarray         #: potential ET (mm/day), float64
    day_number: np.ndarray  #: Snow-17 melt day number of each day (:func:`snow17.melt_day_number`)
    lat: float              #: latitude (deg N)
    pressure: float         #: surface pressure (hPa) from the elevation
    adc: np.ndarray         #: areal depletion curve (11 values)
    swe0: float             #: initial SWE (mm)
    sac0: np.ndarray        #: initial SAC-SMA stores, :data:`sacsma.STATE_NAMES` order (mm)


def prepare(
    prcp, tair, pet, lat: float, elev: float, dates, *, adc=None,
    initial_states: Mapping[str, float] | None = None,
) -> PreparedInputs:
    """Check and convert the forcing once (NaN/negative/length checks, day numbers, pressure).

    For calibration, call this once per basin and then :func:`run` per parameter set: the
    checks and the day-number computation are not repeated. Arguments as :func:`simulate`.
    """
    swe0, sac0 = _initial_state_vector(initial_states)
    prcp = _forcing_array(prcp, "prcp", None)
    n = prcp.shape[0]
    tair = _forcing_array(tair, "tair", n)
    pet = _forcing_array(pet, "pet", n)
    day_number = snow17.melt_day_number(dates)
    if day_number.shape != (n,):
        raise DataError(f"'dates' must have {n} entries, got shape {day_number.shape}")
    return PreparedInputs(prcp, tair, pet, day_number, float(lat),
                          snow17.surface_pressure(float(elev)), _adc_array(adc), swe0, sac0)


def run(
    params: Mapping[str, float], inputs: PreparedInputs, *, pet=None, validate: bool = True,
) -> dict[str, np.ndarray]:
    """Run the coupled model on :func:`prepare`-d inputs; outputs as :func:`simulate`.

    ``pet`` (optional) replaces ``inputs.pet``, e.g. when a PET coefficient is calibrated; it must
    then be a float64 array of the right length. ``validate=False`` skips the parameter-name and
    bounds checks (absent parameters still take :data:`DEFAULT_PARAMETERS`): the fast path for a
    calibration whose sampler already keeps parameters inside :data:`PARAMETER_BOUNDS`.
    Out-of-bounds values are then not caught and may give meaningless (but finite or NaN) output.
    """
    if validate:
        full = validate_parameters(params)
    else:
        full = {**DEFAULT_PARAMETERS, **params}
    pet = inputs.pet if pet is None else np.ascontiguousarray(pet, dtype=np.float64)
    if pet.shape != inputs.prcp.shape:
        raise DataError(f"forcing 'pet' must be 1-D with {inputs.prcp.shape[0]} days, "
                        f"got shape {pet.shape}")
    snow_params = np.array([full[name] for name in snow17.PARAMETER_NAMES], dtype=np.float64)
    sac_params = np.array([full[name] for name in sacsma.PARAMETER_NAMES], dtype=np.float64)
    out = np.empty((len(OUTPUT_NAMES), inputs.prcp.shape[0]))
    _run_coupled(inputs.prcp, inputs.tair, pet, inputs.day_number, snow_params, inputs.adc,
                 inputs.lat, inputs.pressure, inputs.swe0, sac_params, inputs.sac0,
                 float(full["unit_shape"]), float(full["unit_scale"]), sacsma.new_rate_cache(),
                 out)
    return dict(zip(OUTPUT_NAMES, out))


def simulate(
    params: Mapping[str, float],
    prcp,
    tair,
    pet,
    lat: float,
    elev: float,
    dates,
    *,
    adc=None,
    initial_states: Mapping[str, float] | None = None,
    validate: bool = True,
) -> dict[str, np.ndarray]:
    """Run Snow-17 + SAC-SMA + unit hydrograph over daily forcing.

    Equivalent to ``run(params, prepare(prcp, tair, pet, lat, elev, dates, ...))``. Forcing
    checks (NaN, negative, length) always run here; a calibration loop that calls the model
    thousands of times on the same forcing should use :func:`prepare` once and :func:`run`
    per parameter set (about 0.1 ms less per call on 10 years).

    Parameters
    ----------
    params : mapping
        Parameter values by name (:data:`PARAMETER_BOUNDS`); absent non-calibrated parameters take
        :data:`DEFAULT_PARAMETERS`.
    prcp, tair, pet : array-like, shape (n,)
        Precipitation (mm/day), mean air temperature (deg C), potential ET (mm/day).
    lat, elev : float
        Basin latitude (deg N; selects the seasonal melt-factor curve) and elevation (m; surface
        pressure of the rain-on-snow energy balance).
    dates : array-like of dates, shape (n,)
        Calendar days of the forcing (seasonal melt factor).
    adc : array-like of 11 floats, optional
        Areal depletion curve, :data:`snow17.DEFAULT_ADC` by default.
    initial_states : mapping, optional
        ``swe`` and the six SAC-SMA stores (mm); :data:`DEFAULT_INITIAL_STATES` for absent keys.
    validate : bool
        Check parameter names and bounds (default). ``False`` skips only these checks (see
        :func:`run`).

    Returns
    -------
    dict of str to ndarray
        The arrays of :data:`OUTPUT_NAMES`, each of length n (contiguous rows of one block):
        ``qsim`` (routed streamflow), the Snow-17 outputs, the end-of-day SAC-SMA stores, the
        SAC-SMA fluxes (``channel_inflow`` is the unrouted flow), and the area-weighted
        ``soil_storage`` and ``channel_storage``.
    """
    if validate:
        params = validate_parameters(params)
    inputs = prepare(prcp, tair, pet, lat, elev, dates, adc=adc, initial_states=initial_states)
    return run(params, inputs, validate=False)


# Row layout of the output block of _run_coupled (OUTPUT_NAMES order).
_ROW_SNOW = 1
_ROW_STATES = _ROW_SNOW + len(snow17.OUTPUT_NAMES)
_ROW_FLUXES = _ROW_STATES + len(sacsma.STATE_NAMES)
_ROW_SOIL = _ROW_FLUXES + len(sacsma.FLUX_NAMES)
_ROW_CHANNEL = _ROW_SOIL + 1
_RAIN_PLUS_MELT = _ROW_SNOW + 1


def _kernel_digest() -> str:
    """SHA-256 of the sources of the kernels that :func:`_run_coupled` compiles in."""
    digest = hashlib.sha256()
    for module in (sacsma, snow17, unit_hydrograph):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _make_run_coupled(kernel_digest: str):
    """Compile-cached :func:`_run_coupled` whose cache entry depends on ``kernel_digest``.

    numba's on-disk cache (``cache=True``) is keyed by the content of the file that defines a
    function and by its bytecode and closure values, not by the files of the functions it inlines
    or links: after an edit of :mod:`.sacsma`, :mod:`.snow17` or :mod:`.unit_hydrograph` alone, a
    module-level ``_run_coupled`` would keep running the old kernels from its cache. The digest of
    those sources is therefore a closure value of the function, so it is recompiled whenever they
    change.
    """

    @njit(cache=True, error_model="numpy")
    def _run_coupled(
        prcp: np.ndarray, tair: np.ndarray, pet: np.ndarray, day_number: np.ndarray,
        snow_p: np.ndarray, adc: np.ndarray, lat: float, pressure: float, swe0: float,
        sac_p: np.ndarray, sac0: np.ndarray, unit_shape: float, unit_scale: float,
        rates: np.ndarray, out: np.ndarray,
    ) -> None:
        """One pass Snow-17 -> SAC-SMA per day, then the unit hydrograph, into ``out`` (24, n).

        Rows follow :data:`OUTPUT_NAMES`; ``soil_storage`` is the area-weighted SAC-SMA storage
        (1 − pctim − adimp)(uztwc + uzfwc + lztwc + lzfsc + lzfpc) + adimp·adimc.
        """
        kernel_digest  # noqa: B018 - a closure value: part of numba's cache key
        n = prcp.shape[0]
        st = np.zeros(snow17.N_STATES)
        st[snow17.WE] = swe0
        row = np.empty(len(snow17.OUTPUT_NAMES))
        s = (sac0[0], sac0[1], sac0[2], sac0[3], sac0[4], sac0[5])
        adimp = sac_p[sacsma.ADIMP]
        pervious = 1.0 - sac_p[sacsma.PCTIM] - adimp
        for t in range(n):
            snow17.snow17_step(prcp[t], tair[t], day_number[t], snow_p, adc, lat, pressure, st, row)
            for k in range(len(snow17.OUTPUT_NAMES)):
                out[_ROW_SNOW + k, t] = row[k]
            s, f = sacsma.sacsma_day(row[1], pet[t], sac_p, s, rates)
            for k in range(len(sacsma.STATE_NAMES)):
                out[_ROW_STATES + k, t] = s[k]
            for k in range(len(sacsma.FLUX_NAMES)):
                out[_ROW_FLUXES + k, t] = f[k]
            out[_ROW_SOIL, t] = pervious * (s[0] + s[1] + s[2] + s[3] + s[4]) + adimp * s[5]
        ordinates = unit_hydrograph.gamma_unit_hydrograph(unit_shape, unit_scale, 1.0)
        unit_hydrograph.route_into(out[_ROW_FLUXES], ordinates, out[0], out[_ROW_CHANNEL])

    return _run_coupled


_run_coupled = _make_run_coupled(_kernel_digest())
