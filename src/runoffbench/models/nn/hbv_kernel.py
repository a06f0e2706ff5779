"""The HBV day recursion (:mod:`~runoffbench.models.nn.hbv`) as one fused node with a hand-written backward.

Why: :func:`runoffbench.models.nn.hbv.simulate` runs ~50 element-wise torch operations on (B, C)
tensors per day, and autograd records every one of them; at Feng et al. (2022)'s scale (100 windows
× 16 components × 365 warm-up + 365 gradient days) a δ training step with it took 0.7 CPU s more than
with this node (6.2 against 5.5 s on 1 thread, a quarter of an LSTM-256 step; ``benchmarks/README.md``,
δ section, which also shows where the rest of the step goes). Here the whole sequence is one
:class:`torch.autograd.Function`: a numba forward pass over (sample, day, component) that writes the
18 series :func:`~runoffbench.models.nn.hbv.simulate` returns, and a backward pass that recomputes
each day from its saved start-of-day stores and runs the adjoint of the day in reverse. Nothing but
the inputs and the returned series is kept. :func:`~runoffbench.models.nn.hbv.simulate` stays the
definition (the tests compare values and gradients in float64) and the path of everything this
kernel does not do: the δn(NN_r) network recharge, devices other than the CPU, dtypes other than
float32/float64, gradients with respect to the forcings.

The day (names as in the code; ε = :data:`~runoffbench.models.nn.hbv.WETNESS_FLOOR`)::

    rain, snow = P·[T ≥ TT], P·(1 − [T ≥ TT])       S_p1 = S_p0 + snow
    melt = min(S_p1, max(CFMAX (T − TT), 0))        S_p2 = S_p1 − melt,  S_w1 = S_w0 + melt
    refr = min(S_w1, max(CFR·CFMAX (TT − T), 0))    S_w2 = S_w1 − refr,  S_p3 = S_p2 + refr
    tosoil = max(S_w2 − CWH·S_p3, 0)                S_w3 = S_w2 − tosoil
    w_in = rain + tosoil   r = clamp((max(SM0, ε)/FC)^β, 0, 1)   rech = w_in·r
    SM1 = SM0 + w_in − rech   excess = max(SM1 − FC, 0)   SM2 = SM1 − excess
    f = clamp((max(SM2, ε)/(LP·FC))^γ, 0, 1)   ET = min(SM2, E_p·f)   SM3 = SM2 − ET
    UZ1 = UZ0 + rech + excess   perc = min(UZ1, PERC)   UZ2 = UZ1 − perc
    Q0 = K0·max(UZ2 − UZL, 0)   UZ3 = UZ2 − Q0   Q1 = K1·UZ3   UZ4 = UZ3 − Q1
    LZ1 = LZ0 + perc   Q2 = K2·LZ1   LZ2 = LZ1 − Q2   Q = Q0 + Q1 + Q2

Adjoint rules (δx = ∂L/∂x; each line of the day read backwards, the stores' adjoints carried to the
previous day). Sums and differences pass δ on with their signs; a product a·b gives δa += δ·b,
δb += δ·a; a quotient a/b gives δa += δ/b, δb −= δ·a/b². The rest follow torch's autograd exactly,
so the gradients are those of the definition also at ties and kinks::

    y = max(x, lo), clamp(x, lo, hi):   δx = δy·[lo ≤ x ≤ hi]            (0 at a NaN x)
    y = min(a, b):   δa, δb = δy·(1, 0) if a < b, (0, 1) if a > b, (½, ½) if a = b, (1, 1) if NaN
    y = x^p (x > 0):   δx = δy·p·x^(p−1),   δp = δy·y·ln x
    [T ≥ TT] has no gradient (the rain/snow switch)

Arithmetic is IEEE without numba's fastmath licence (unlike :mod:`~runoffbench.models.nn.kernels`):
the backward pass recomputes every day with the same function as the forward pass, and only strict
evaluation guarantees that it takes the same branches (the minima's ties above) and the same values.
It also keeps the series those of the torch definition, the same operations in the same order (on the
tests' forcings they are equal bit for bit, float32 and float64). A day is a few dozen scalar
operations, so there is no reduction for reassociation to vectorise anyway.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from runoffbench.models.nn import hbv

#: the series of :class:`HBVRecursion`'s output, in the order of its first axis: the fluxes, then the
#: end-of-day stores — :data:`hbv.FLUX_NAMES` and :class:`hbv.HBVState` (the numba functions below use
#: these positions and the parameter order of :data:`hbv.PARAMETER_NAMES` as literal indices, because
#: numba's cache only notices changes of this file; ``tests/test_hbv_kernel.py`` checks both orders)
SERIES: tuple[str, ...] = (
    "rain", "snow", "melt", "refreeze", "tosoil", "recharge", "excess", "et", "perc", "q0", "q1", "q2", "q",
    "snowpack", "meltwater", "soil", "upper", "lower",
)
KERNEL_PARAMETERS: tuple[str, ...] = (
    "beta", "fc", "k0", "k1", "k2", "lp", "perc", "uzl", "tt", "cfmax", "cfr", "cwh", "gamma",
)
_STORES = 13  # SERIES.index("snowpack"): the five stores follow the 13 fluxes


@njit(cache=True, error_model="numpy")
def _minimum(a, b):  # pragma: no cover - compiled
    """torch.minimum: a NaN in either argument is the result."""
    return a if a < b or a != a else b


@njit(cache=True, error_model="numpy")
def _clamp_low(x, low):  # pragma: no cover - compiled
    """torch.clamp(x, min=low): NaN stays NaN."""
    return low if x < low else x


@njit(cache=True, error_model="numpy")
def _minimum_weights(a, b, one):  # pragma: no cover - compiled
    """The shares of δ min(a, b) that torch's autograd passes to a and b (module docstring)."""
    zero = one - one
    if a < b:
        return one, zero
    if a > b:
        return zero, one
    if a == b:
        half = one / (one + one)
        return half, half
    return one, one


@njit(cache=True, error_model="numpy")
def _day(sp0, sw0, sm0, uz0, lz0, prcp, temp, pet, par, c, floor):  # pragma: no cover - compiled
    """One day of component c with parameters ``par`` (13, C): the 18 series of the day (:data:`SERIES`)
    followed by the intermediates the adjoint needs, in the order of the module docstring's lines."""
    zero = floor - floor
    one = floor / floor
    beta, fc, k0, k1, k2, lp, perc_max = par[0, c], par[1, c], par[2, c], par[3, c], par[4, c], par[5, c], par[6, c]
    uzl, tt, cfmax, cfr, cwh, gamma = par[7, c], par[8, c], par[9, c], par[10, c], par[11, c], par[12, c]
    is_rain = one if temp >= tt else zero
    rain = prcp * is_rain
    snow = prcp * (one - is_rain)  # as the definition: a NaN precipitation is both rain and snow
    sp1 = sp0 + snow
    a_melt = cfmax * (temp - tt)
    melt = _minimum(sp1, _clamp_low(a_melt, zero))
    sp2 = sp1 - melt
    sw1 = sw0 + melt
    cfr_cfmax = cfr * cfmax
    a_refreeze = cfr_cfmax * (tt - temp)
    refreeze = _minimum(sw1, _clamp_low(a_refreeze, zero))
    sw2 = sw1 - refreeze
    sp3 = sp2 + refreeze
    a_tosoil = sw2 - cwh * sp3
    tosoil = _clamp_low(a_tosoil, zero)
    sw3 = sw2 - tosoil

    water_input = rain + tosoil
    wetness = _clamp_low(sm0, floor) / fc
    x_recharge = wetness**beta
    fraction = min(max(x_recharge, zero), one) if x_recharge == x_recharge else x_recharge
    recharge = water_input * fraction
    sm1 = sm0 + water_input - recharge
    a_excess = sm1 - fc
    excess = _clamp_low(a_excess, zero)
    sm2 = sm1 - excess
    lp_fc = lp * fc
    relative = _clamp_low(sm2, floor) / lp_fc
    x_et = relative**gamma
    evap_factor = min(max(x_et, zero), one) if x_et == x_et else x_et
    demand = pet * evap_factor
    et = _minimum(sm2, demand)
    sm3 = sm2 - et

    uz1 = uz0 + recharge + excess
    perc = _minimum(uz1, perc_max)
    uz2 = uz1 - perc
    a_q0 = uz2 - uzl
    q0 = k0 * _clamp_low(a_q0, zero)
    uz3 = uz2 - q0
    q1 = k1 * uz3
    uz4 = uz3 - q1
    lz1 = lz0 + perc
    q2 = k2 * lz1
    lz2 = lz1 - q2
    return (rain, snow, melt, refreeze, tosoil, recharge, excess, et, perc, q0, q1, q2, q0 + q1 + q2,
            sp3, sw3, sm3, uz4, lz2,
            sp1, a_melt, sw1, cfr_cfmax, a_refreeze, a_tosoil, water_input, wetness, x_recharge, fraction,
            a_excess, sm2, lp_fc, relative, x_et, evap_factor, demand, uz1, a_q0, uz3, lz1)


@njit(cache=True, error_model="numpy")
def _forward(prcp, temp, pet, params, initial, series, floor):  # pragma: no cover - compiled
    """Fill ``series`` (18, B, T, C) (:data:`SERIES`) from forcings (B, T), parameters (B, T', 13, C)
    and the initial stores (5, B, C)."""
    batch, steps = prcp.shape
    components = params.shape[3]
    dynamic = params.shape[1] > 1
    for b in range(batch):
        for t in range(steps):
            par = params[b, t if dynamic else 0]
            p, temp_t, e = prcp[b, t], temp[b, t], pet[b, t]
            for c in range(components):
                start = initial[:, b] if t == 0 else series[_STORES:, b, t - 1]
                sp, sw, sm, uz, lz = start[0, c], start[1, c], start[2, c], start[3, c], start[4, c]
                day = _day(sp, sw, sm, uz, lz, p, temp_t, e, par, c, floor)
                for k in range(18):
                    series[k, b, t, c] = day[k]


@njit(cache=True, error_model="numpy")
def _backward(prcp, temp, pet, params, initial, series, d_series, d_params, d_initial,
              floor):  # pragma: no cover - compiled
    """The adjoint of :func:`_forward`: ∂L/∂params into ``d_params`` (zeros on entry, shaped as ``params``)
    and ∂L/∂(initial stores) into ``d_initial`` (5, B, C), for ∂L/∂series ``d_series`` (18, B, T, C)."""
    batch, steps = prcp.shape
    components = params.shape[3]
    dynamic = params.shape[1] > 1
    one = floor / floor
    zero = floor - floor
    carried = np.empty((5, components), dtype=series.dtype)  # δ of the stores at the end of day t
    for b in range(batch):
        carried[:] = zero
        for t in range(steps - 1, -1, -1):
            par = params[b, t if dynamic else 0]
            d_par = d_params[b, t if dynamic else 0]
            p, temp_t, e = prcp[b, t], temp[b, t], pet[b, t]
            g = d_series[:, b, t]
            for c in range(components):
                start = initial[:, b] if t == 0 else series[_STORES:, b, t - 1]
                sp, sw, sm, uz, lz = start[0, c], start[1, c], start[2, c], start[3, c], start[4, c]
                (_, _, _, _, _, recharge, excess, _, _, _, _, _, _, sp3, _, _, _, _,
                 sp1, a_melt, sw1, cfr_cfmax, a_refreeze, a_tosoil, water_input, wetness, x_recharge, fraction,
                 a_excess, sm2, lp_fc, relative, x_et, evap_factor, demand, uz1, a_q0, uz3,
                 lz1) = _day(sp, sw, sm, uz, lz, p, temp_t, e, par, c, floor)
                beta, fc, k0, k1, k2, lp = par[0, c], par[1, c], par[2, c], par[3, c], par[4, c], par[5, c]
                perc_max, tt, cfmax = par[6, c], par[8, c], par[9, c]
                cfr, cwh, gamma = par[10, c], par[11, c], par[12, c]
                d_sp3 = carried[0, c] + g[13, c]
                d_sw3 = carried[1, c] + g[14, c]
                d_sm3 = carried[2, c] + g[15, c]
                d_uz4 = carried[3, c] + g[16, c]
                d_lz2 = carried[4, c] + g[17, c]
                d_q = g[12, c]
                # lower zone: LZ2 = LZ1 − Q2, Q2 = K2·LZ1, LZ1 = LZ0 + perc
                d_q2 = g[11, c] + d_q - d_lz2
                d_lz1 = d_lz2 + d_q2 * k2
                d_par[4, c] += d_q2 * lz1
                d_lz0 = d_lz1
                d_perc = g[8, c] + d_lz1
                # upper zone: UZ4 = UZ3 − Q1, Q1 = K1·UZ3, UZ3 = UZ2 − Q0, Q0 = K0·max(UZ2 − UZL, 0)
                d_q1 = g[10, c] + d_q - d_uz4
                d_uz3 = d_uz4 + d_q1 * k1
                d_par[3, c] += d_q1 * uz3
                d_q0 = g[9, c] + d_q - d_uz3
                d_par[2, c] += d_q0 * _clamp_low(a_q0, zero)
                d_a_q0 = d_q0 * k0 if a_q0 >= zero else zero
                d_uz2 = d_uz3 + d_a_q0
                d_par[7, c] -= d_a_q0
                # UZ2 = UZ1 − perc, perc = min(UZ1, PERC), UZ1 = UZ0 + recharge + excess
                d_perc -= d_uz2
                w_uz, w_perc = _minimum_weights(uz1, perc_max, one)
                d_uz1 = d_uz2 + d_perc * w_uz
                d_par[6, c] += d_perc * w_perc
                d_uz0 = d_uz1
                d_recharge = g[5, c] + d_uz1
                d_excess = g[6, c] + d_uz1
                # soil: SM3 = SM2 − ET, ET = min(SM2, E_p·f), f = clamp((max(SM2, ε)/(LP·FC))^γ, 0, 1)
                d_et = g[7, c] - d_sm3
                w_sm, w_demand = _minimum_weights(sm2, demand, one)
                d_sm2 = d_sm3 + d_et * w_sm
                d_x_et = d_et * w_demand * e if x_et >= zero and x_et <= one else zero
                d_par[12, c] += d_x_et * x_et * np.log(relative)
                d_relative = d_x_et * gamma * relative ** (gamma - one)
                d_lp_fc = -d_relative * _clamp_low(sm2, floor) / (lp_fc * lp_fc)
                if sm2 >= floor:
                    d_sm2 += d_relative / lp_fc
                d_par[5, c] += d_lp_fc * fc
                d_fc = d_lp_fc * lp
                # SM2 = SM1 − excess, excess = max(SM1 − FC, 0), SM1 = SM0 + w_in − recharge
                d_excess -= d_sm2
                d_a_excess = d_excess if a_excess >= zero else zero
                d_sm1 = d_sm2 + d_a_excess
                d_fc -= d_a_excess
                d_sm0 = d_sm1
                d_water_input = d_sm1
                d_recharge -= d_sm1
                # recharge = w_in·r, r = clamp((max(SM0, ε)/FC)^β, 0, 1)
                d_water_input += d_recharge * fraction
                d_x_recharge = d_recharge * water_input if x_recharge >= zero and x_recharge <= one else zero
                d_par[0, c] += d_x_recharge * x_recharge * np.log(wetness)
                d_wetness = d_x_recharge * beta * wetness ** (beta - one)
                d_fc -= d_wetness * _clamp_low(sm, floor) / (fc * fc)
                if sm >= floor:
                    d_sm0 += d_wetness / fc
                d_par[1, c] += d_fc
                # snow: S_w3 = S_w2 − tosoil, tosoil = max(S_w2 − CWH·S_p3, 0), w_in = rain + tosoil
                d_tosoil = g[4, c] + d_water_input - d_sw3
                d_a_tosoil = d_tosoil if a_tosoil >= zero else zero
                d_sw2 = d_sw3 + d_a_tosoil
                d_par[11, c] -= d_a_tosoil * sp3
                d_sp3 -= d_a_tosoil * cwh
                # S_p3 = S_p2 + refr, S_w2 = S_w1 − refr, refr = min(S_w1, max(CFR·CFMAX (TT − T), 0))
                d_sp2 = d_sp3
                d_refreeze = g[3, c] + d_sp3 - d_sw2
                w_sw, w_potential = _minimum_weights(sw1, _clamp_low(a_refreeze, zero), one)
                d_sw1 = d_sw2 + d_refreeze * w_sw
                d_a_refreeze = d_refreeze * w_potential if a_refreeze >= zero else zero
                d_cfr_cfmax = d_a_refreeze * (tt - temp_t)
                d_tt = d_a_refreeze * cfr_cfmax
                d_par[10, c] += d_cfr_cfmax * cfmax
                d_cfmax = d_cfr_cfmax * cfr
                # S_w1 = S_w0 + melt, S_p2 = S_p1 − melt, melt = min(S_p1, max(CFMAX (T − TT), 0))
                d_sw0 = d_sw1
                d_melt = g[2, c] + d_sw1 - d_sp2
                w_sp, w_potential = _minimum_weights(sp1, _clamp_low(a_melt, zero), one)
                d_sp1 = d_sp2 + d_melt * w_sp
                d_a_melt = d_melt * w_potential if a_melt >= zero else zero
                d_par[9, c] += d_cfmax + d_a_melt * (temp_t - tt)
                d_par[8, c] += d_tt - d_a_melt * cfmax
                # S_p1 = S_p0 + snow (rain and snow have no parameter gradient)
                carried[0, c] = d_sp1
                carried[1, c] = d_sw0
                carried[2, c] = d_sm0
                carried[3, c] = d_uz0
                carried[4, c] = d_lz0
        for k in range(5):
            for c in range(components):
                d_initial[k, b, c] = carried[k, c]


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy()


def _run(prcp: torch.Tensor, temp: torch.Tensor, pet: torch.Tensor, params: torch.Tensor,
         initial: torch.Tensor) -> torch.Tensor:
    """The series (18, B, T, C) of :data:`SERIES` (contiguous inputs of one dtype on the CPU)."""
    batch, steps = prcp.shape
    series = params.new_empty(len(SERIES), batch, steps, params.shape[-1])
    arrays = [_numpy(x) for x in (prcp, temp, pet, params, initial, series)]
    _forward(*arrays, arrays[0].dtype.type(hbv.WETNESS_FLOOR))
    return series


class HBVRecursion(torch.autograd.Function):
    """HBV over T days: (P, T, E_p (B, T), parameters (B, T', 13, C), initial stores (5, B, C)) → the
    series (18, B, T, C) of :data:`SERIES`; gradients for the parameters and the initial stores."""

    @staticmethod
    def forward(ctx, prcp, temp, pet, params, initial):
        series = _run(prcp, temp, pet, params, initial)
        ctx.save_for_backward(prcp, temp, pet, params, initial, series)
        return series

    @staticmethod
    def backward(ctx, d_series: torch.Tensor):
        prcp, temp, pet, params, initial, series = ctx.saved_tensors
        d_params = torch.zeros_like(params)
        d_initial = torch.empty_like(initial)
        arrays = [_numpy(x) for x in (prcp, temp, pet, params, initial, series, d_series.contiguous(), d_params,
                                      d_initial)]
        _backward(*arrays, arrays[0].dtype.type(hbv.WETNESS_FLOOR))
        return None, None, None, d_params, d_initial if ctx.needs_input_grad[4] else None


def applies(prcp: torch.Tensor, temp: torch.Tensor, pet: torch.Tensor, params: torch.Tensor,
            state: hbv.HBVState | None = None, recharge_fraction: hbv.RechargeFraction | None = None) -> bool:
    """Whether :func:`simulate` runs the fused kernel for these arguments (else the torch definition):
    the power recharge, all tensors float32 or float64 of one dtype on the CPU, forcings (B, T) without
    gradient, parameters (B, 1 or T, 13, C), stores (B, C)."""
    tensors = [prcp, temp, pet, params, *(state or ())]
    if recharge_fraction is not None or params.dim() != 4 or prcp.dim() != 2:
        return False
    if params.dtype not in (torch.float32, torch.float64) or any(
            x.dtype != params.dtype or x.device.type != "cpu" for x in tensors):
        return False
    if torch.is_grad_enabled() and any(x.requires_grad for x in (prcp, temp, pet)):
        return False
    batch, steps = prcp.shape
    components = params.shape[-1]
    return (steps > 0 and temp.shape == pet.shape == prcp.shape and params.shape[0] == batch
            and params.shape[1] in (1, steps) and params.shape[2] == len(KERNEL_PARAMETERS)
            and all(x.shape == (batch, components) for x in state or ()))


def simulate(
    prcp: torch.Tensor,
    temp: torch.Tensor,
    pet: torch.Tensor,
    params: torch.Tensor,
    state: hbv.HBVState | None = None,
    recharge_fraction: hbv.RechargeFraction | None = None,
    unit_beta: torch.Tensor | None = None,
) -> tuple[dict[str, torch.Tensor], hbv.HBVState]:
    """:func:`runoffbench.models.nn.hbv.simulate` (same arguments, same results), fused where it
    :func:`applies`: with gradients :class:`HBVRecursion`, without them the forward kernel alone."""
    if not applies(prcp, temp, pet, params, state, recharge_fraction):
        return hbv.simulate(prcp, temp, pet, params, state, recharge_fraction, unit_beta)
    batch = prcp.shape[0]
    if state is None:
        state = hbv.HBVState.initial(params.new_zeros(batch, params.shape[-1]))
    inputs = [x.contiguous() for x in (prcp, temp, pet, params, torch.stack(state))]
    if torch.is_grad_enabled() and any(x.requires_grad for x in inputs[3:]):
        series = HBVRecursion.apply(*inputs)
    else:
        with torch.no_grad():
            series = _run(*inputs)
    out = dict(zip(SERIES, series.unbind(0)))
    final = hbv.HBVState(*(out[name][:, -1] for name in hbv.HBVState._fields))
    return {name: out[name] for name in (*hbv.FLUX_NAMES, *hbv.HBVState._fields)}, final
