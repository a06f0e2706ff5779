"""Conceptual models calibrated per basin, registered by name (docs/architecture.md, "Models", kind ``conceptual``).

Every entry of :data:`CONCEPTUAL_MODELS` is a :class:`ConceptualModel`: its parameter names, default
calibration bounds (overridable in config as ``models.<name>.bounds.<param>: [lo, hi]``), the hard
limits any bound must respect, the forcing-cache variables it reads, and two adapters:

- ``prepare(forcings, lat, elev, dates, options) -> inputs``: everything that does not depend on
  the parameters, computed once per basin (mean temperature, PET, day numbers);
- ``simulate(params, inputs) -> outputs``: one run of the numba-compiled model for a parameter
  vector in ``parameter_names`` order, returning a dict of daily series.

``outputs`` maps the names of the prediction contract (``qsim``, ``et``, ``baseflow``, ``swe``,
``storage``) to the adapter's output names, with their units. ``storage`` is the total water held
in the basin (snow, soil and channel stores), so that P − ET − Q − deep losses = ΔS.

Models
------
``exphydro``
    EXP-HYDRO (Patil & Stieglitz 2014) with Hamon PET from T = (T_max + T_min)/2 and day length;
    option ``scheme`` (``rk4`` default, ``euler``, ``rk4_patil``), zero initial stores.
``sacsma``
    Snow-17 + SAC-SMA + gamma unit hydrograph as in the NCAR CAMELS runs (Newman et al. 2015):
    Snow-17 on T = (T_max + T_min)/2 with the basin latitude and elevation; Priestley–Taylor PET
    (:func:`.pet.priestley_taylor`) whose coefficient ``pet_coef`` is calibrated with the 21 model
    parameters of :data:`.sacsma_snow17.CALIBRATED_PARAMETERS`. Initial states are NCAR's (no snow,
    every SAC-SMA store at 200 mm) capped at each store's capacity (``adimc`` at uztwm + lztwm), so
    that every parameter set starts from a state SAC1's equations are meant for. The kernel runs
    from overfull stores too (finite, water balance closed; the NWS reference run starts that way),
    but SAC1's ET and direct-runoff ratios then exceed 1: from uncapped 200 mm stores, parameter
    sets at the bounds give first-day ET down to about -10 m and numerical adjustments up to ~17 %
    of 30 years' precipitation (water created, booked in ``et`` and ``numerical_adjustment``), which
    a short or zero spin-up would feed into the objective. PET is linear in the coefficient, so it
    is computed once with α = 1 and scaled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runoffbench.errors import ConfigError
from runoffbench.models.conceptual import exphydro, sacsma_snow17
from runoffbench.models.conceptual.pet import hamon, priestley_taylor

Bounds = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class ConceptualModel:
    """A per-basin calibrated model: parameters, bounds, inputs and output mapping."""

    name: str
    description: str
    parameter_names: tuple[str, ...]
    bounds: Bounds
    limits: Bounds
    forcings: tuple[str, ...]
    outputs: Mapping[str, tuple[str, str]]
    prepare: Callable[..., dict[str, Any]]
    simulate: Callable[[np.ndarray, Mapping[str, Any]], dict[str, np.ndarray]]
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def resolve_bounds(self, overrides: Mapping[str, Any] | None = None) -> dict[str, tuple[float, float]]:
        """Default bounds updated with ``overrides`` (``param -> [lo, hi]``), checked.

        Raises :class:`ConfigError` naming ``models.<name>.bounds.<param>`` for an unknown parameter,
        a malformed or inverted interval, or one outside the model's hard limits.
        """
        resolved = dict(self.bounds)
        for param, interval in (overrides or {}).items():
            key = f"models.{self.name}.bounds.{param}"
            if param not in self.bounds:
                raise ConfigError(f"{key}: unknown parameter of {self.name}; known: {', '.join(self.parameter_names)}")
            try:
                low, high = (float(v) for v in interval)
            except (TypeError, ValueError):
                raise ConfigError(f"{key}: expected [lower, upper], got {interval!r}") from None
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise ConfigError(f"{key}: lower bound {low} must be finite and below the upper bound {high}")
            limit_low, limit_high = self.limits[param]
            if low < limit_low or high > limit_high:
                raise ConfigError(f"{key}: [{low}, {high}] leaves the valid range [{limit_low}, {limit_high}]")
            resolved[param] = (low, high)
        return resolved

    def check_options(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate model options (``models.<name>.options``) against :attr:`options`."""
        options = dict(options or {})
        for key, value in options.items():
            if key not in self.options:
                raise ConfigError(f"models.{self.name}.options.{key}: unknown option; known: {sorted(self.options)}")
            if value not in self.options[key]:
                raise ConfigError(f"models.{self.name}.options.{key}: {value!r} is not one of {self.options[key]}")
        return options


# --- EXP-HYDRO ------------------------------------------------------------------------------------


def _exphydro_prepare(forcings, lat, elev, dates, options) -> dict[str, Any]:
    tmean = 0.5 * (np.asarray(forcings["tmax"], float) + np.asarray(forcings["tmin"], float))
    return {
        "forcing": exphydro.prepare(forcings["prcp"], tmean, pet=hamon(tmean, forcings["dayl"])),
        "scheme": options.get("scheme", "rk4"),
    }


def _exphydro_simulate(params: np.ndarray, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    # forcing checked once by exphydro.prepare; bounds checked once by resolve_bounds
    return dict(zip(exphydro.OUTPUT_NAMES, exphydro.run(params, inputs["forcing"], scheme=inputs["scheme"])))


_EXPHYDRO_LIMITS = {
    "f": (0.0, 1.0),
    "smax": (1.0, 10000.0),
    "qmax": (0.0, 1000.0),
    "df": (0.0, 20.0),
    "tmax": (-10.0, 10.0),
    "tmin": (-10.0, 10.0),
}

# --- SAC-SMA + Snow-17 + unit hydrograph ----------------------------------------------------------

#: Priestley–Taylor coefficient: 1.26 (humid, Priestley & Taylor 1972) to 1.74 (arid, advective)
PET_COEF_BOUNDS = (1.26, 1.74)
_SACSMA_PARAMETERS = sacsma_snow17.CALIBRATED_PARAMETERS + ("pet_coef",)


def _sacsma_prepare(forcings, lat, elev, dates, options) -> dict[str, Any]:
    dates = np.asarray(dates, dtype="datetime64[D]")
    doy = (dates - dates.astype("datetime64[Y]")).astype(int) + 1
    tmin = np.asarray(forcings["tmin"], float)
    tmax = np.asarray(forcings["tmax"], float)
    pet_unit = priestley_taylor(tmin, tmax, forcings["srad"], forcings["dayl"], lat, elev, doy, alpha=1.0)
    prepared = sacsma_snow17.prepare(forcings["prcp"], 0.5 * (tmin + tmax), pet_unit, lat, elev, dates)
    return {"prepared": prepared, "pet_unit": prepared.pet}


def _sacsma_simulate(params: np.ndarray, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    # bounds are checked once (resolve_bounds), so the per-run parameter checks are skipped
    values = dict(zip(_SACSMA_PARAMETERS, (float(v) for v in params)))
    pet = values.pop("pet_coef") * inputs["pet_unit"]
    prepared = inputs["prepared"]
    capacity = np.array([values["uztwm"], values["uzfwm"], values["lztwm"], values["lzfsm"], values["lzfpm"],
                         values["uztwm"] + values["lztwm"]])
    prepared = prepared._replace(sac0=np.minimum(prepared.sac0, capacity))
    out = sacsma_snow17.run(values, prepared, pet=pet, validate=False)
    out["baseflow"] = out["baseflow_primary"] + out["baseflow_supplementary"]
    out["storage"] = out["swe"] + out["soil_storage"] + out["channel_storage"]
    return out


_SACSMA_BOUNDS = {name: sacsma_snow17.PARAMETER_BOUNDS[name] for name in sacsma_snow17.CALIBRATED_PARAMETERS}

#: the registry: model name -> model
CONCEPTUAL_MODELS: dict[str, ConceptualModel] = {
    "exphydro": ConceptualModel(
        name="exphydro",
        description="EXP-HYDRO (Patil & Stieglitz 2014), Hamon PET",
        parameter_names=exphydro.PARAMETER_NAMES,
        bounds=dict(exphydro.PARAMETER_BOUNDS),
        limits=_EXPHYDRO_LIMITS,
        forcings=("prcp", "tmax", "tmin", "dayl"),
        outputs={"qsim": ("q", "mm/day"), "et": ("et", "mm/day"), "baseflow": ("qb", "mm/day"),
                 "swe": ("swe", "mm"), "storage": ("storage", "mm")},
        prepare=_exphydro_prepare,
        simulate=_exphydro_simulate,
        options={"scheme": exphydro.SCHEMES},
    ),
    "sacsma": ConceptualModel(
        name="sacsma",
        description="Snow-17 + SAC-SMA + gamma unit hydrograph (NWS/NCAR), Priestley-Taylor PET",
        parameter_names=_SACSMA_PARAMETERS,
        bounds={**_SACSMA_BOUNDS, "pet_coef": PET_COEF_BOUNDS},
        limits={**{name: sacsma_snow17.PARAMETER_BOUNDS[name] for name in sacsma_snow17.CALIBRATED_PARAMETERS},
                "pet_coef": (0.5, 3.0)},
        forcings=("prcp", "tmax", "tmin", "srad", "dayl"),
        outputs={"qsim": ("qsim", "mm/day"), "et": ("et", "mm/day"), "baseflow": ("baseflow", "mm/day"),
                 "swe": ("swe", "mm"), "storage": ("storage", "mm")},
        prepare=_sacsma_prepare,
        simulate=_sacsma_simulate,
    ),
}


def get_model(name: str) -> ConceptualModel:
    """The registered model ``name``; :class:`ConfigError` listing the known names otherwise."""
    try:
        return CONCEPTUAL_MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown conceptual model {name!r}; known: {', '.join(CONCEPTUAL_MODELS)}") from None
