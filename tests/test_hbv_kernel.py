"""The fused HBV recursion (runoffbench.models.nn.hbv_kernel) against the torch definition
(runoffbench.models.nn.hbv.simulate): every series and the final state in float64 and float32, static and
dynamic parameters, with snow, melt and dry soil; gradients for the parameters and the initial stores
equal to autograd's (ties included); gradcheck; the water balance; NaN; the δ model on the fused path."""

from __future__ import annotations

import pytest
import torch

from runoffbench.models.nn import hbv, hbv_kernel
from runoffbench.models.nn.dhbv import DeltaHBV

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SERIES = (*hbv.FLUX_NAMES, *hbv.HBVState._fields)


def _problem(samples=3, days=120, components=4, dynamic=False, seed=0, dtype=torch.float64):
    """Forcings with cold spells (snow, refreezing, melt), dry weeks with high PET (soil dried to the ET
    limit) and storms, parameters across their bounds, initial stores from empty to full."""
    g = torch.Generator().manual_seed(seed)
    day = torch.arange(days, dtype=dtype)
    temp = -6.0 * torch.cos(2 * torch.pi * day / 60.0) + 3.0 * torch.randn(samples, days, generator=g, dtype=dtype)
    wet = torch.rand(samples, days, generator=g, dtype=dtype) < 0.35
    prcp = torch.where(wet, 40.0 * torch.rand(samples, days, generator=g, dtype=dtype) ** 2, 0.0)
    prcp[:, 20:50] = 0.0  # a dry month
    pet = 6.0 * torch.rand(samples, days, generator=g, dtype=dtype)
    pet[:, ::17] = 0.0
    steps = days if dynamic else 1
    unit = torch.rand(samples, steps, len(hbv.PARAMETER_NAMES), components, generator=g, dtype=dtype)
    params = torch.stack([hbv.scale_parameter(n, unit[:, :, i]) for i, n in enumerate(hbv.PARAMETER_NAMES)], 2)
    fc = params[:, :, hbv.PARAMETER_NAMES.index("fc")]
    params[:, :, hbv.PARAMETER_NAMES.index("fc")] = fc.clamp(max=150.0)  # small soils: excess and dry-out
    stores = 80.0 * torch.rand(5, samples, components, generator=g, dtype=dtype)
    stores[:, 0] = 0.0  # a sample that starts empty (ties of the minima at zero)
    return prcp, temp, pet, params, hbv.HBVState(*stores)


def _simulate(function, prcp, temp, pet, params, state, probe_seed=1):
    """Values of every series and the final state, and the gradients of a random linear functional of all
    of them with respect to the parameters and the initial stores."""
    params = params.detach().clone().requires_grad_()
    state = hbv.HBVState(*(x.detach().clone().requires_grad_() for x in state))
    out, final = function(prcp, temp, pet, params, state)
    g = torch.Generator().manual_seed(probe_seed)
    outputs = [out[name] for name in SERIES] + list(final)
    probes = [torch.randn(x.shape, generator=g, dtype=x.dtype) for x in outputs]
    gradients = torch.autograd.grad(sum((x * p).sum() for x, p in zip(outputs, probes)), [params, *state])
    return [x.detach() for x in outputs], gradients


def test_the_kernels_orders_are_the_definitions():
    assert hbv_kernel.KERNEL_PARAMETERS == hbv.PARAMETER_NAMES
    assert hbv_kernel.SERIES == SERIES
    assert hbv_kernel.applies(*_problem()[:4])
    assert not hbv_kernel.applies(*_problem()[:4], recharge_fraction=hbv.power_recharge)
    assert not hbv_kernel.applies(*(x.half() for x in _problem()[:4]))


@pytest.mark.parametrize("dynamic", [False, True])
def test_series_and_gradients_equal_the_definition_in_float64(dynamic):
    problem = _problem(dynamic=dynamic)
    fused = _simulate(hbv_kernel.simulate, *problem)
    reference = _simulate(hbv.simulate, *problem)
    out, _ = hbv.simulate(*problem)
    assert out["snow"].sum() > 0 and out["melt"].sum() > 0 and out["refreeze"].sum() > 0
    assert out["excess"].sum() > 0 and out["q0"].sum() > 0 and (out["soil"] < 1e-3).any()  # all paths used
    for name, a, b in zip((*SERIES, *hbv.HBVState._fields), fused[0], reference[0]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
    for name, a, b in zip(("params", *hbv.HBVState._fields), fused[1], reference[1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, msg=name)
    with torch.no_grad():  # the warm-up and prediction path: the forward kernel alone
        values, _ = hbv_kernel.simulate(*problem)
    for name, value in zip(SERIES, fused[0]):
        torch.testing.assert_close(values[name], value, rtol=0, atol=0)


def test_gradients_at_ties_follow_autograd():
    """Empty stores on cold, dry days: min(S_p, 0) and min(S_w, 0) tie at zero (torch passes half of the
    gradient to each side), the soil dries to ET = SM and the wetness floor, PET = 0 gives ET = min(SM, 0)."""
    prcp, temp, pet, params, _ = _problem(samples=2, days=30)
    prcp.zero_()
    pet[:, ::3] = 0.0
    temp[0] = params[0, 0, hbv.PARAMETER_NAMES.index("tt"), 0]  # T = TT: the kinks of melt and refreezing
    empty = hbv.HBVState(*torch.zeros(5, 2, 4, dtype=torch.float64))
    fused = _simulate(hbv_kernel.simulate, prcp, temp, pet, params, empty)
    reference = _simulate(hbv.simulate, prcp, temp, pet, params, empty)
    for a, b in zip(fused[1], reference[1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert (fused[1][0] != 0).any()


@pytest.mark.parametrize("dynamic", [False, True])
def test_float32_equals_the_definition_to_rounding(dynamic):
    """Float32 series equal the definition's in float32 and float64 to float32 rounding; float32 gradients
    equal the definition's float32 gradients (not its float64 ones: over a year some store sits at a kink,
    e.g. S_w = CWH·S_p after melt, on one side in float32 and on the other in float64)."""
    problem64 = _problem(days=365, samples=4, dynamic=dynamic)
    problem32 = [x.float() for x in problem64[:4]] + [hbv.HBVState(*(x.float() for x in problem64[4]))]
    fused32 = _simulate(hbv_kernel.simulate, *problem32)
    reference32 = _simulate(hbv.simulate, *problem32)
    with torch.no_grad():
        out64, _ = hbv.simulate(*problem64)
    for name, a, b in zip(SERIES, fused32[0], reference32[0]):
        scale = out64[name].abs().max().item() + 1.0
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * scale, msg=name)
        torch.testing.assert_close(a.double(), out64[name], rtol=1e-4, atol=1e-4 * scale, msg=name)
    for a, b in zip(fused32[1], reference32[1]):
        error = (a - b).abs().max() / b.abs().max()
        assert error < 1e-5, error


def test_gradcheck():
    """Away from the kinks (filled stores, so no minimum ties at zero), where finite differences apply."""
    prcp, temp, pet, params, state = _problem(samples=2, days=8, components=2, dynamic=True)
    params.requires_grad_()
    stores = [(x + 5.0).requires_grad_() for x in state]

    def run(params, *stores):
        out, final = hbv_kernel.simulate(prcp, temp, pet, params, hbv.HBVState(*stores))
        return (*(out[name] for name in SERIES), *final)

    assert torch.autograd.gradcheck(run, (params, *stores))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_water_balance_closes_every_step(dtype):
    prcp, temp, pet, params, state = _problem(days=365, dtype=dtype)
    with torch.no_grad():
        out, _ = hbv_kernel.simulate(prcp, temp, pet, params, state)
    total = sum(out[name] for name in hbv.HBVState._fields)
    previous = torch.cat([sum(state).unsqueeze(1), total[:, :-1]], dim=1)
    residual = prcp.unsqueeze(-1) - out["et"] - out["q"] - (total - previous)
    scale = prcp.unsqueeze(-1) + out["et"] + out["q"] + total + previous  # the water the step moves and holds
    scale = scale.clamp(min=torch.finfo(dtype).tiny)  # the sample that starts empty: 0 / 0 on dry days
    assert (residual.abs() / scale).max() < (1e-12 if dtype == torch.float64 else 1e-5)
    assert all((out[name] >= 0).all() for name in hbv.HBVState._fields)  # no SM clamp needed


def test_a_nan_parameter_shows_in_the_series_and_the_gradients():
    prcp, temp, pet, params, state = _problem(days=20)
    params[1, 0, hbv.PARAMETER_NAMES.index("k1"), 2] = float("nan")
    (fused, d_fused) = _simulate(hbv_kernel.simulate, prcp, temp, pet, params, state)
    (reference, _) = _simulate(hbv.simulate, prcp, temp, pet, params, state)
    for a, b in zip(fused, reference):
        assert torch.equal(a.isnan(), b.isnan())
    assert fused[SERIES.index("q")].isnan().any() and d_fused[0].isnan().any()


def test_the_delta_model_runs_the_fused_recursion_with_the_definitions_results(monkeypatch):
    """δn(γ^t,β^t) with warm-up: outputs and weight gradients of the fused path equal those of the torch
    definition (float64), and the kernel ran (it is the δ models' path on the CPU)."""
    from tests.test_dhbv import _batch

    def loss_and_gradients(model):
        out = model({name: x.double() if x.is_floating_point() else x for name, x in _batch().items()})
        loss = out["q"][:, 10:].pow(2).mean() + out["et"].mean()
        return out, torch.autograd.grad(loss, list(model.parameters()))

    torch.manual_seed(0)
    model = DeltaHBV({"variant": "delta_n_gamma_t_beta_t", "hidden_size": 6, "dropout": 0.0, "warmup": 10,
                      "components": 3}, 3, 4).double()
    calls = []
    monkeypatch.setattr(hbv_kernel, "_run", lambda *args, run=hbv_kernel._run: calls.append(1) or run(*args))
    fused = loss_and_gradients(model)
    assert len(calls) == 2  # the warm-up and the gradient days
    monkeypatch.setattr(hbv_kernel, "simulate", hbv.simulate)
    reference = loss_and_gradients(model)
    for name in fused[0]:
        torch.testing.assert_close(fused[0][name], reference[0][name], rtol=1e-12, atol=1e-12, msg=name)
    for a, b in zip(fused[1], reference[1]):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
