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

from collections.abc import Mapping

import numpy as np

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
) -> dict[str, np.ndarray]:
    """Run Snow-17 + SAC-SMA + unit hydrograph over daily forcing.

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

    Returns
    -------
    dict of str to ndarray
        The arrays of :data:`OUTPUT_NAMES`, each of length n: ``qsim`` (routed streamflow), the
        Snow-17 outputs, the end-of-day SAC-SMA stores, the SAC-SMA fluxes (``channel_inflow`` is
        the unrouted flow), and the area-weighted ``soil_storage`` and ``channel_storage``.
    """
    full = validate_parameters(params)
    swe0, sac0 = _initial_state_vector(initial_states)
    prcp = _forcing_array(prcp, "prcp", None)
    n = prcp.shape[0]
    tair = _forcing_array(tair, "tair", n)
    pet = _forcing_array(pet, "pet", n)
    day_number = snow17.melt_day_number(dates)
    if day_number.shape != (n,):
        raise DataError(f"'dates' must have {n} entries, got shape {day_number.shape}")
    snow_params = np.array([full[name] for name in snow17.PARAMETER_NAMES])
    sac_params = np.array([full[name] for name in sacsma.PARAMETER_NAMES])
    snow = snow17.run_snow17(prcp, tair, day_number, snow_params, _adc_array(adc), float(lat),
                             snow17.surface_pressure(float(elev)), swe0)
    states, fluxes = sacsma.run_sacsma(np.ascontiguousarray(snow[:, 1]), pet, sac_params, sac0)
    ordinates = unit_hydrograph.gamma_unit_hydrograph(full["unit_shape"], full["unit_scale"], 1.0)
    qsim, channel_storage = unit_hydrograph.route(np.ascontiguousarray(fluxes[:, 0]), ordinates)
    out = {"qsim": qsim}
    out.update({name: snow[:, i] for i, name in enumerate(snow17.OUTPUT_NAMES)})
    out.update({name: states[:, i] for i, name in enumerate(sacsma.STATE_NAMES)})
    out.update({name: fluxes[:, i] for i, name in enumerate(sacsma.FLUX_NAMES)})
    out["soil_storage"] = soil_storage(states, full)
    out["channel_storage"] = channel_storage
    return out


def soil_storage(states: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Area-weighted SAC-SMA storage (mm) of stores in :data:`sacsma.STATE_NAMES` column order.

    :math:`S = (1 - \\mathrm{pctim} - \\mathrm{adimp})(\\mathrm{uztwc} + \\mathrm{uzfwc} +
    \\mathrm{lztwc} + \\mathrm{lzfsc} + \\mathrm{lzfpc}) + \\mathrm{adimp}\\,\\mathrm{adimc}`.
    """
    states = np.asarray(states, dtype=np.float64)
    pervious = 1.0 - params["pctim"] - params["adimp"]
    return pervious * states[..., :5].sum(axis=-1) + params["adimp"] * states[..., 5]
