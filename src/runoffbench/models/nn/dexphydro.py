"""Differentiable EXP-HYDRO: the conceptual model as a recurrent layer (Jiang et al. 2020; Li & Zhao).

The equations of :mod:`runoffbench.models.conceptual.exphydro` (Patil & Stieglitz, 2014), explicit
Euler at the daily step, with every threshold replaced by the smooth step of Jiang et al. (2020)::

    H(x) = (1 + tanh(k x)) / 2                 (k = ``step_sharpness``, 5 in Jiang et al.)

    snowfall  P_s = H(T_min − T) P,             rainfall P_r = H(T − T_min) P
    melt      M   = H(T − T_max) H(S₀) min(S₀, D_f (T − T_max))
    ET        E   = H(S₁) [H(S₁ − S_max) PET + H(S_max − S₁) PET S₁/S_max]
    baseflow  Q_b = H(S₁) [H(S₁ − S_max) Q_max + H(S_max − S₁) Q_max exp(−f (S_max − S₁))]
    overflow  Q_s = H(S₁) H(S₁ − S_max) (S₁ − S_max)
    S₀ ← S₀ + P_s − M,     S₁ ← S₁ + P_r + M − E − Q_b − Q_s,     Q = Q_b + Q_s

As k → ∞ this is the numba ``simulate(..., scheme="euler")``; P − E − Q − ΔS₀ − ΔS₁ = 0 holds per
step for any k (P_s + P_r = P). PET is Hamon's (as in EXP-HYDRO) from the mean temperature and day
length of ``x_raw``.

Parameters θ = (f, S_max, Q_max, D_f, T_max, T_min) within the calibration bounds of the original code
(:data:`runoffbench.models.conceptual.exphydro.PARAMETER_BOUNDS`), θ = θ_min + σ(z)(θ_max − θ_min):

- ``training: local`` (Li & Zhao): z is a free tensor (n_basins, 6), one row per basin, initialised
  at 0 (the middle of the bounds); sample b uses row ``basin[b]``.
- ``training: regional``: z = MLP(x_s) (one tanh layer of ``hidden_size`` units) from the static
  attributes, so the parameters of a basin follow from its attributes.

Stores start empty; the first ``warmup`` days of a window run without gradient (see
:mod:`runoffbench.models.nn.dhbv`; the trainer passes ``warmup``, default :attr:`default_warmup`).

Outputs (B, T): ``q``, ``et``, ``baseflow`` (Q_b), ``surface_flow`` (Q_s) [mm/day] and end-of-day
stores ``swe`` (S₀) and ``soil`` (S₁) [mm].

Config keys: ``step_sharpness`` (5.0), ``hidden_size`` (32, regional only), ``warmup`` (365).

References
----------
Jiang, S., Zheng, Y., Solomatine, D. (2020): Improving AI system awareness of geoscience knowledge:
    symbiotic integration of physical approaches and deep learning. Geophys. Res. Lett. 47,
    e2020GL088229.
Patil, S., Stieglitz, M. (2014): Modelling daily streamflow at ungauged catchments: what information is
    necessary? Hydrol. Process. 28, 1159–1169.
Hamon, W. R. (1961): Estimating potential evapotranspiration. J. Hydraul. Div. ASCE 87, 107–120.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from runoffbench.errors import ConfigError
from runoffbench.models.conceptual.exphydro import PARAMETER_BOUNDS, PARAMETER_NAMES
from runoffbench.models.nn.base import RAW_FORCINGS, ProcessModel

#: Jiang et al. (2020)'s sharpness of the smooth step
DEFAULT_SHARPNESS = 5.0
FLUX_NAMES: tuple[str, ...] = ("q", "baseflow", "surface_flow", "et", "melt", "snowfall", "rainfall")
_PRCP, _TEMP, _DAYL = (RAW_FORCINGS.index(name) for name in ("prcp", "tmean", "dayl"))


def smooth_step(x: torch.Tensor, sharpness: float) -> torch.Tensor:
    """H(x) = (1 + tanh(k x)) / 2, a differentiable Heaviside step."""
    return 0.5 * (1.0 + torch.tanh(sharpness * x))


def hamon(tmean: torch.Tensor, dayl: torch.Tensor) -> torch.Tensor:
    """Hamon PET [mm/day] = 29.8 L e_s(T)/(T + 273.2), e_s = 0.611 exp(17.3 T/(T + 237.3)), L = dayl/3600 h.

    The torch twin of :func:`runoffbench.models.conceptual.pet.hamon` (``dayl`` in seconds).
    """
    saturation = 0.611 * torch.exp(17.3 * tmean / (tmean + 237.3))
    return 29.8 * (dayl / 3600.0) * saturation / (tmean + 273.2)


def scale_parameters(unit: torch.Tensor) -> torch.Tensor:
    """θ = θ_min + u (θ_max − θ_min) for ``unit`` (..., 6) in [0, 1], ordered as ``PARAMETER_NAMES``."""
    low = unit.new_tensor([PARAMETER_BOUNDS[name][0] for name in PARAMETER_NAMES])
    high = unit.new_tensor([PARAMETER_BOUNDS[name][1] for name in PARAMETER_NAMES])
    return low + unit * (high - low)


def exphydro_step(
    swe: torch.Tensor,
    soil: torch.Tensor,
    prcp: torch.Tensor,
    temp: torch.Tensor,
    pet: torch.Tensor,
    params: torch.Tensor,
    sharpness: float = DEFAULT_SHARPNESS,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """One Euler day: stores and forcings (B,), ``params`` (B, 6) physical. Returns (S₀, S₁, fluxes)."""
    f, smax, qmax, df, tmax, tmin = params.unbind(dim=-1)

    def step(x: torch.Tensor) -> torch.Tensor:
        return smooth_step(x, sharpness)

    snowfall = step(tmin - temp) * prcp
    rainfall = step(temp - tmin) * prcp
    melt = step(temp - tmax) * step(swe) * torch.minimum(swe, df * (temp - tmax))
    wet, full, not_full = step(soil), step(soil - smax), step(smax - soil)
    et = wet * (full * pet + not_full * pet * soil / smax)
    baseflow = wet * (full * qmax + not_full * qmax * torch.exp(-f * (smax - soil)))
    surface_flow = wet * full * (soil - smax)
    fluxes = {
        "q": baseflow + surface_flow, "baseflow": baseflow, "surface_flow": surface_flow, "et": et,
        "melt": melt, "snowfall": snowfall, "rainfall": rainfall,
    }
    return swe + snowfall - melt, soil + rainfall + melt - et - baseflow - surface_flow, fluxes


def simulate(
    params: torch.Tensor,
    prcp: torch.Tensor,
    temp: torch.Tensor,
    pet: torch.Tensor,
    sharpness: float = DEFAULT_SHARPNESS,
    swe: torch.Tensor | float = 0.0,
    soil: torch.Tensor | float = 0.0,
) -> dict[str, torch.Tensor]:
    """Run EXP-HYDRO for B basins: ``params`` (B, 6) physical, forcings (B, T) [mm/day, °C, mm/day].

    Returns the fluxes of :data:`FLUX_NAMES` and end-of-day stores ``swe`` and ``soil``, each (B, T).
    """
    swe = torch.as_tensor(swe, dtype=prcp.dtype, device=prcp.device).expand(prcp.shape[0])
    soil = torch.as_tensor(soil, dtype=prcp.dtype, device=prcp.device).expand(prcp.shape[0])
    series: dict[str, list[torch.Tensor]] = {name: [] for name in (*FLUX_NAMES, "swe", "soil")}
    for prcp_t, temp_t, pet_t in zip(prcp.unbind(1), temp.unbind(1), pet.unbind(1)):
        swe, soil, fluxes = exphydro_step(swe, soil, prcp_t, temp_t, pet_t, params, sharpness)
        for name, value in (*fluxes.items(), ("swe", swe), ("soil", soil)):
            series[name].append(value)
    return {name: torch.stack(values, dim=1) for name, values in series.items()}


class DifferentiableEXPHYDRO(ProcessModel):
    """EXP-HYDRO with per-basin (local) or attribute-derived (regional) parameters (module docstring)."""

    #: the keys of ``models.<name>`` this model reads (anything else is a config error)
    config_keys: ClassVar[frozenset[str]] = frozenset({"step_sharpness", "hidden_size"})

    supports_local = True
    fluxes: ClassVar[Mapping[str, str]] = {
        "et": "mm/day", "baseflow": "mm/day", "surface_flow": "mm/day", "swe": "mm", "soil": "mm",
    }

    def __init__(self, config: Mapping[str, Any], n_dynamic: int, n_static: int) -> None:
        super().__init__(config, n_dynamic, n_static)
        self.sharpness = self.option("step_sharpness", DEFAULT_SHARPNESS)
        self.warmup = self.option("warmup", self.default_warmup)
        if self.local:
            self.basin_parameters = nn.Parameter(torch.zeros(self.n_basins, len(PARAMETER_NAMES)))
        elif n_static == 0:
            raise ConfigError(
                f"models.{self.config.get('name', type(self).__name__)}: regional differentiable EXP-HYDRO "
                "derives its parameters from static attributes; list static_attributes or use training: local"
            )
        else:
            hidden = self.option("hidden_size", 32)
            self.parameter_network = nn.Sequential(
                nn.Linear(n_static, hidden), nn.Tanh(), nn.Linear(hidden, len(PARAMETER_NAMES))
            )

    def physical_parameters(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B, 6) parameters in physical units, ordered as ``PARAMETER_NAMES``."""
        raw = self.basin_parameters[batch["basin"]] if self.local else self.parameter_network(batch["x_s"])
        return scale_parameters(torch.sigmoid(raw))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        params = self.physical_parameters(batch)
        x_raw = batch["x_raw"].to(params.dtype)
        prcp, temp = x_raw[..., _PRCP], x_raw[..., _TEMP]
        pet = hamon(temp, x_raw[..., _DAYL])
        warm = min(self.warmup, prcp.shape[1])
        swe0 = soil0 = 0.0
        parts = []
        if warm > 0:
            with torch.no_grad():
                parts.append(simulate(params, prcp[:, :warm], temp[:, :warm], pet[:, :warm], self.sharpness))
            swe0, soil0 = parts[0]["swe"][:, -1], parts[0]["soil"][:, -1]
        if warm < prcp.shape[1]:
            parts.append(simulate(params, prcp[:, warm:], temp[:, warm:], pet[:, warm:], self.sharpness, swe0, soil0))
        return {name: torch.cat([part[name] for part in parts], dim=1) for name in ("q", *self.fluxes)}
