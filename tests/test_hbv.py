"""Differentiable HBV core and gamma unit-hydrograph routing: water balance, components, gradients."""

from __future__ import annotations

import pytest
import torch

from runoffbench.errors import ConfigError
from runoffbench.models.nn import hbv, routing


def _forcing(batch=3, days=400, seed=0):
    """Float64 weather with rain, snow (cold winters) and melt, PET 0–6 mm/day."""
    g = torch.Generator().manual_seed(seed)
    day = torch.arange(days, dtype=torch.float64)
    temp = (-12.0 * torch.cos(2 * torch.pi * day / 365.0)
            + 3.0 * torch.randn(batch, days, generator=g, dtype=torch.float64))
    wet = torch.rand(batch, days, generator=g, dtype=torch.float64) < 0.4
    prcp = torch.where(wet, 40.0 * torch.rand(batch, days, generator=g, dtype=torch.float64) ** 2, 0.0)
    pet = 6.0 * torch.rand(batch, days, generator=g, dtype=torch.float64)
    return prcp, temp, pet


def _params(batch=3, steps=1, components=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    unit = torch.rand(batch, steps, len(hbv.PARAMETER_NAMES), components, generator=g, dtype=torch.float64)
    return torch.stack([hbv.scale_parameter(n, unit[:, :, i]) for i, n in enumerate(hbv.PARAMETER_NAMES)], dim=2)


def _balance(prcp, out, initial_total):
    """P − ET − Q − ΔS per day and component."""
    total = out["snowpack"] + out["meltwater"] + out["soil"] + out["upper"] + out["lower"]
    previous = torch.cat([initial_total.unsqueeze(1), total[:, :-1]], dim=1)
    return prcp.unsqueeze(-1) - out["et"] - out["q"] - (total - previous)


@pytest.mark.parametrize("dynamic", [False, True])
def test_water_balance_closes_every_step(dynamic):
    prcp, temp, pet = _forcing()
    params = _params(steps=prcp.shape[1] if dynamic else 1)
    out, _ = hbv.simulate(prcp, temp, pet, params)
    initial = torch.full((3, 4), 5 * hbv.INITIAL_STORAGE, dtype=torch.float64)
    residual = _balance(prcp, out, initial)
    assert residual.abs().max() < 1e-11
    assert out["snow"].sum() > 0 and out["melt"].sum() > 0 and out["q0"].sum() > 0  # all paths used
    assert all((out[s] >= 0).all() for s in hbv.HBVState._fields)
    torch.testing.assert_close(out["q"], out["q0"] + out["q1"] + out["q2"], rtol=0, atol=0)


def test_water_balance_closes_with_a_learned_recharge_fraction():
    prcp, temp, pet = _forcing(days=200)
    params = _params()
    unit_beta = torch.rand(3, 1, 4, dtype=torch.float64)

    def fraction(soil, fc, water_input, beta):  # any map into [0, 1]
        return torch.sigmoid(3.0 * soil / fc - torch.log1p(water_input) + beta)

    out, _ = hbv.simulate(prcp, temp, pet, params, recharge_fraction=fraction, unit_beta=unit_beta)
    initial = torch.full((3, 4), 5 * hbv.INITIAL_STORAGE, dtype=torch.float64)
    assert _balance(prcp, out, initial).abs().max() < 1e-11


def test_components_are_independent_runs():
    prcp, temp, pet = _forcing(days=120)
    params = _params(components=3)
    together, _ = hbv.simulate(prcp, temp, pet, params)
    for c in range(3):
        alone, _ = hbv.simulate(prcp, temp, pet, params[..., c : c + 1])
        torch.testing.assert_close(together["q"][..., c : c + 1], alone["q"], rtol=0, atol=0)


def test_hbv_step_gradcheck():
    g = torch.Generator().manual_seed(3)

    def rand(*shape, low=0.0, high=1.0):
        return (low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)).requires_grad_()

    state = [rand(2, 2, low=5.0, high=60.0) for _ in range(5)]
    forcing = (rand(2, 1, low=1.0, high=30.0), rand(2, 1, low=-1.0, high=3.0), rand(2, 1, low=0.5, high=5.0))
    unit = rand(len(hbv.PARAMETER_NAMES), 2, 2, low=0.05, high=0.95)

    def step(*inputs):
        *stores, prcp, temp, pet, u = inputs
        params = {n: hbv.scale_parameter(n, u[i]) for i, n in enumerate(hbv.PARAMETER_NAMES)}
        new, fluxes = hbv.hbv_step(hbv.HBVState(*stores), prcp, temp, pet, params)
        return (*new, fluxes["q"], fluxes["et"])

    assert torch.autograd.gradcheck(step, (*state, *forcing, unit))


def test_unit_hydrograph_sums_to_one_and_routing_conserves_volume():
    a, b = routing.scale_routing(torch.rand(5, 2, dtype=torch.float64))
    uh = routing.gamma_unit_hydrograph(a, b, 15)
    assert uh.shape == (5, 15) and (uh >= 0).all()
    torch.testing.assert_close(uh.sum(-1), torch.ones(5, dtype=torch.float64), rtol=0, atol=1e-14)
    q = torch.rand(5, 100, dtype=torch.float64)
    padded = torch.cat([q, torch.zeros(5, 15, dtype=torch.float64)], dim=1)  # let the UH drain
    for method in routing.METHODS:
        routed = routing.route(padded, uh, method)
        torch.testing.assert_close(routed.sum(-1), q.sum(-1), rtol=1e-13, atol=0)


def test_routing_is_causal_and_methods_agree():
    a, b = torch.tensor([0.8, 2.0], dtype=torch.float64), torch.tensor([1.0, 4.0], dtype=torch.float64)
    uh = routing.gamma_unit_hydrograph(a, b)
    impulse = torch.zeros(2, 30, dtype=torch.float64)
    impulse[:, 3] = 1.0
    response = routing.route(impulse, uh, "conv1d")
    assert (response[:, :3] == 0).all()
    torch.testing.assert_close(response[:, 3:18], uh)
    q = torch.rand(2, 50, dtype=torch.float64)
    torch.testing.assert_close(routing.route(q, uh, "conv1d"), routing.route(q, uh, "fft"), rtol=1e-12, atol=1e-12)
    with pytest.raises(ConfigError, match="conv1d, fft"):
        routing.route(q, uh, "matrix")
