"""Differentiable HBV (torch): snow, soil moisture, upper and lower zones, n parallel components.

The HBV-light structure (Seibert, 2005; Beck et al., 2020) as written for the δ models of Feng et al.
(2022): the operator-split explicit daily step of their ``HBVMul`` / ``HBVMulTDET`` with the added ET
shape exponent γ. Every state and flux is a tensor (B, C) — B samples, C parallel components with
their own parameters — and the step is differentiable almost everywhere (clamps and minima have
sub-gradients).

One day, forcings P (precipitation), T (mean air temperature), E_p (potential ET, Hargreaves PET
from the trainer's ``x_raw``), in this order:

snow (stores: snowpack S_p and liquid water in the pack S_w)::

    rain  = P·[T ≥ TT]                        snow = P·[T < TT]
    S_p  += snow
    melt  = min(S_p, max(0, CFMAX (T − TT)))  S_p −= melt;  S_w += melt
    refr  = min(S_w, max(0, CFR·CFMAX (TT − T)))  S_w −= refr;  S_p += refr
    tosoil = max(0, S_w − CWH·S_p)            S_w −= tosoil

soil moisture SM (field capacity FC)::

    recharge = (rain + tosoil)·r,  r = clamp((SM/FC)^β, 0, 1)     (δn(NN_r): r from a network)
    SM += rain + tosoil − recharge
    excess = max(0, SM − FC)                  SM −= excess
    ET    = min(SM, E_p · clamp((SM/(LP·FC))^γ, 0, 1))             (γ = 1: original HBV)
    SM   −= ET

upper zone SUZ and lower zone SLZ::

    SUZ += recharge + excess
    perc = min(SUZ, PERC)                     SUZ −= perc
    Q0   = K0·max(0, SUZ − UZL)               SUZ −= Q0
    Q1   = K1·SUZ                             SUZ −= Q1
    SLZ += perc;  Q2 = K2·SLZ                 SLZ −= Q2
    Q = Q0 + Q1 + Q2                          (Q2 is the baseflow)

Every flux moves water between stores, so per step and component
P − ET − Q − Δ(S_p + S_w) − ΔSM − ΔSUZ − ΔSLZ = 0 exactly (to rounding). Unlike the reference code
SM is not clamped to a minimum after ET (that clamp creates water); instead the soil wetness inside
the powers uses max(SM, ε) so that ∂/∂β and ∂/∂γ stay finite at SM = 0 — it only moves the
partition fraction by O(ε/FC) and conserves mass.

The C component outputs are averaged with equal weights (Feng et al. 2022, "δn").

Parameter bounds (:data:`PARAMETER_BOUNDS`) are those of the dPL code (mhpi/dPLHBVrelease,
``HBVMulET``/``HBVMulTDET``): β [1, 6], FC [50, 1000] mm, K0 [0.05, 0.9], K1 [0.01, 0.5],
K2 [0.001, 0.2] d⁻¹, LP [0.2, 1], PERC [0, 10] mm/d, UZL [0, 100] mm, TT [−2.5, 2.5] °C,
CFMAX [0.5, 10] mm/°C/d, CFR [0, 0.1], CWH [0, 0.2], γ [0.3, 5].

References
----------
Seibert, J. (2005): HBV light version 2, user's manual. Stockholm University.
Beck, H. E. et al. (2020): Global fully distributed parameter regionalization based on observed
    streamflow from 4,229 headwater catchments. J. Geophys. Res. Atmos. 125, e2019JD031485.
Feng, D., Liu, J., Lawson, K., Shen, C. (2022): Differentiable, learnable, regionalized process-based
    models with multiphysical outputs can approach state-of-the-art hydrologic prediction accuracy.
    Water Resour. Res. 58, e2022WR032404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

#: physical bounds of the HBV parameters, in the order of the parameter axis
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "beta": (1.0, 6.0),
    "fc": (50.0, 1000.0),
    "k0": (0.05, 0.9),
    "k1": (0.01, 0.5),
    "k2": (0.001, 0.2),
    "lp": (0.2, 1.0),
    "perc": (0.0, 10.0),
    "uzl": (0.0, 100.0),
    "tt": (-2.5, 2.5),
    "cfmax": (0.5, 10.0),
    "cfr": (0.0, 0.1),
    "cwh": (0.0, 0.2),
    "gamma": (0.3, 5.0),
}
PARAMETER_NAMES: tuple[str, ...] = tuple(PARAMETER_BOUNDS)
#: the fluxes of one step [mm/day], as returned by :func:`hbv_step` and :func:`simulate`
FLUX_NAMES: tuple[str, ...] = (
    "rain", "snow", "melt", "refreeze", "tosoil", "recharge", "excess", "et", "perc", "q0", "q1", "q2", "q",
)
#: soil wetness floor inside the β and γ powers [mm] (keeps their gradients finite at SM = 0)
WETNESS_FLOOR = 1e-6
#: initial value of every store [mm] (as in the dPL code)
INITIAL_STORAGE = 0.001

#: r = f(soil moisture SM [mm], FC [mm], water input rain + tosoil [mm/day], unit-scaled β) → fraction in [0, 1]
RechargeFraction = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class HBVState(NamedTuple):
    """The five stores [mm], each (B, C)."""

    snowpack: torch.Tensor
    meltwater: torch.Tensor
    soil: torch.Tensor
    upper: torch.Tensor
    lower: torch.Tensor

    @classmethod
    def initial(cls, like: torch.Tensor, value: float = INITIAL_STORAGE) -> HBVState:
        """Every store at ``value`` with the shape, dtype and device of ``like``."""
        return cls(*(torch.full_like(like, value) for _ in range(5)))

    def total(self) -> torch.Tensor:
        """Water held in all stores [mm]."""
        return self.snowpack + self.meltwater + self.soil + self.upper + self.lower


def scale_parameter(name: str, unit: torch.Tensor) -> torch.Tensor:
    """θ = θ_min + u (θ_max − θ_min): parameter ``name`` from ``unit`` in [0, 1] (:data:`PARAMETER_BOUNDS`)."""
    low, high = PARAMETER_BOUNDS[name]
    return low + unit * (high - low)


def power_recharge(wetness: torch.Tensor, water_input: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """HBV's effective-rainfall fraction r = clamp((SM/FC)^β, 0, 1) (``beta`` in physical units)."""
    return torch.clamp(wetness**beta, 0.0, 1.0)


def hbv_step(
    state: HBVState,
    prcp: torch.Tensor,
    temp: torch.Tensor,
    pet: torch.Tensor,
    params: dict[str, torch.Tensor],
    recharge_fraction: RechargeFraction | None = None,
    unit_beta: torch.Tensor | None = None,
) -> tuple[HBVState, dict[str, torch.Tensor]]:
    """Advance the stores by one day (equations in the module docstring).

    Args:
        state: stores at the start of the day, each (B, C).
        prcp, temp, pet: the day's forcings, (B, 1) or (B, C).
        params: physical parameters by name (:data:`PARAMETER_NAMES`), each (B, C).
        recharge_fraction: replaces :func:`power_recharge` (δn(NN_r)); it receives the soil moisture
            SM, FC, the water input and ``unit_beta`` (β in [0, 1], defaults to physical β).

    Returns:
        the stores at the end of the day and the day's fluxes by :data:`FLUX_NAMES`.
    """
    tt, cfmax = params["tt"], params["cfmax"]
    snowpack, meltwater, soil, upper, lower = state
    is_rain = (temp >= tt).to(prcp.dtype)
    rain = prcp * is_rain
    snow = prcp * (1.0 - is_rain)

    snowpack = snowpack + snow
    melt = torch.minimum(snowpack, torch.clamp(cfmax * (temp - tt), min=0.0))
    snowpack = snowpack - melt
    meltwater = meltwater + melt
    refreeze = torch.minimum(meltwater, torch.clamp(params["cfr"] * cfmax * (tt - temp), min=0.0))
    meltwater = meltwater - refreeze
    snowpack = snowpack + refreeze
    tosoil = torch.clamp(meltwater - params["cwh"] * snowpack, min=0.0)
    meltwater = meltwater - tosoil

    fc = params["fc"]
    water_input = rain + tosoil
    wetness = torch.clamp(soil, min=WETNESS_FLOOR) / fc
    if recharge_fraction is None:
        fraction = power_recharge(wetness, water_input, params["beta"])
    else:
        fraction = recharge_fraction(soil, fc, water_input, params["beta"] if unit_beta is None else unit_beta)
    recharge = water_input * fraction
    soil = soil + water_input - recharge
    excess = torch.clamp(soil - fc, min=0.0)
    soil = soil - excess
    evap_factor = torch.clamp(
        (torch.clamp(soil, min=WETNESS_FLOOR) / (params["lp"] * fc)) ** params["gamma"], 0.0, 1.0
    )
    et = torch.minimum(soil, pet * evap_factor)
    soil = soil - et

    upper = upper + recharge + excess
    perc = torch.minimum(upper, params["perc"])
    upper = upper - perc
    q0 = params["k0"] * torch.clamp(upper - params["uzl"], min=0.0)
    upper = upper - q0
    q1 = params["k1"] * upper
    upper = upper - q1
    lower = lower + perc
    q2 = params["k2"] * lower
    lower = lower - q2

    fluxes = {
        "rain": rain, "snow": snow, "melt": melt, "refreeze": refreeze, "tosoil": tosoil,
        "recharge": recharge, "excess": excess, "et": et, "perc": perc,
        "q0": q0, "q1": q1, "q2": q2, "q": q0 + q1 + q2,
    }
    return HBVState(snowpack, meltwater, soil, upper, lower), fluxes


def simulate(
    prcp: torch.Tensor,
    temp: torch.Tensor,
    pet: torch.Tensor,
    params: torch.Tensor,
    state: HBVState | None = None,
    recharge_fraction: RechargeFraction | None = None,
    unit_beta: torch.Tensor | None = None,
) -> tuple[dict[str, torch.Tensor], HBVState]:
    """Run HBV over T days for B samples and C components.

    This is the definition, one autograd-recorded torch step per day; the δ models run the same
    recursion through :func:`runoffbench.models.nn.hbv_kernel.simulate`, one fused node on the CPU (same
    results, equal gradients) that falls back to this function where it does not apply.

    Args:
        prcp, temp, pet: forcings (B, T) [mm/day, °C, mm/day].
        params: physical parameters (B, T', len(PARAMETER_NAMES), C) with T' = 1 (static) or T
            (dynamic: day t uses ``params[:, t]``), ordered as :data:`PARAMETER_NAMES`.
        state: initial stores (B, C); :data:`INITIAL_STORAGE` everywhere by default.
        recharge_fraction, unit_beta: the δn(NN_r) replacement of the recharge function, see
            :func:`hbv_step`; ``unit_beta`` has the shape (B, T', C) of one parameter.

    Returns:
        fluxes by :data:`FLUX_NAMES` and end-of-day stores by :class:`HBVState` field names, each
        (B, T, C), and the final state.
    """
    batch, steps = prcp.shape
    components = params.shape[-1]
    if state is None:
        state = HBVState.initial(params.new_zeros(batch, components))
    dynamic = params.shape[1] > 1
    # unbind once (one backward node) instead of indexing day t of a tensor that needs a gradient
    def by_name(values: torch.Tensor) -> dict[str, torch.Tensor]:
        return dict(zip(PARAMETER_NAMES, values.unbind(dim=1)))

    if dynamic:
        daily_params = [by_name(values) for values in params.unbind(dim=1)]
        daily_beta = unit_beta.unbind(dim=1) if unit_beta is not None else [None] * steps
    else:
        daily_params = [by_name(params[:, 0])] * steps
        daily_beta = [None if unit_beta is None else unit_beta[:, 0]] * steps
    forcing = zip(prcp.unbind(1), temp.unbind(1), pet.unbind(1))
    series: dict[str, list[torch.Tensor]] = {name: [] for name in (*FLUX_NAMES, *HBVState._fields)}
    for (p_t, t_t, e_t), day_params, day_unit_beta in zip(forcing, daily_params, daily_beta):
        state, fluxes = hbv_step(
            state, p_t[:, None], t_t[:, None], e_t[:, None], day_params, recharge_fraction, day_unit_beta
        )
        for name, value in (*fluxes.items(), *zip(HBVState._fields, state)):
            series[name].append(value)
    return {name: torch.stack(values, dim=1) for name, values in series.items()}, state
