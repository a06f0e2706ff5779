"""Differentiable EXP-HYDRO: agreement with the numba model, Hamon PET, water balance, gradients, local/regional."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from runoffbench.errors import ConfigError
from runoffbench.models.conceptual import exphydro as numba_exphydro
from runoffbench.models.conceptual.pet import hamon as numpy_hamon
from runoffbench.models.nn import dexphydro
from runoffbench.models.nn.base import RAW_FORCINGS

#: smooth-step sharpness at which the torch model reproduces the numba thresholds
SHARP = 1.0e6


def _weather(days=3 * 365, seed=0):
    rng = np.random.default_rng(seed)
    doy = np.arange(days) % 365
    temp = -10.0 * np.cos(2 * np.pi * doy / 365.0) + 4.0 + 3.0 * rng.standard_normal(days)
    prcp = np.where(rng.random(days) < 0.45, 25.0 * rng.random(days) ** 2, 0.0)
    dayl = 3600.0 * (12.0 - 3.5 * np.cos(2 * np.pi * (doy + 10) / 365.0))
    return prcp, temp, dayl


PARAMS = np.array([0.03, 600.0, 25.0, 2.5, 1.0, -1.0])  # f, smax, qmax, df, tmax, tmin


def test_hamon_matches_the_numpy_formula():
    _, temp, dayl = _weather(days=100)
    torch.testing.assert_close(
        dexphydro.hamon(torch.from_numpy(temp), torch.from_numpy(dayl)), torch.from_numpy(numpy_hamon(temp, dayl)),
        rtol=1e-14, atol=0,
    )


def test_agrees_with_the_numba_euler_model():
    prcp, temp, dayl = _weather()
    reference = numba_exphydro.simulate(PARAMS, prcp, temp, dayl, scheme="euler", initial_soil=300.0)
    pet = numpy_hamon(temp, dayl)
    out = dexphydro.simulate(
        torch.from_numpy(PARAMS)[None], *(torch.from_numpy(a)[None] for a in (prcp, temp, pet)),
        sharpness=SHARP, soil=300.0,
    )
    assert reference["melt"].sum() > 100 and reference["qs"].sum() >= 0  # snow and melt exercised
    for ours, theirs in (("q", "q"), ("baseflow", "qb"), ("surface_flow", "qs"), ("et", "et"),
                         ("melt", "melt"), ("swe", "swe"), ("soil", "soil")):
        np.testing.assert_allclose(out[ours][0].numpy(), reference[theirs], rtol=1e-9, atol=1e-9, err_msg=ours)


def test_water_balance_closes_every_step_at_any_sharpness():
    prcp, temp, dayl = _weather(days=400)
    forcing = [torch.from_numpy(a)[None] for a in (prcp, temp, numpy_hamon(temp, dayl))]
    out = dexphydro.simulate(torch.from_numpy(PARAMS)[None], *forcing, sharpness=dexphydro.DEFAULT_SHARPNESS)
    storage = out["swe"] + out["soil"]
    change = storage - torch.cat([storage.new_zeros(1, 1), storage[:, :-1]], dim=1)
    assert (forcing[0] - out["et"] - out["q"] - change).abs().max() < 1e-10


def test_step_gradcheck():
    g = torch.Generator().manual_seed(0)

    def rand(low, high, *shape):
        return (low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)).requires_grad_()

    unit = rand(0.1, 0.9, 2, 6)
    prcp, temp, pet = rand(0.0, 20.0, 2, 4), rand(-3.0, 4.0, 2, 4), rand(0.5, 4.0, 2, 4)

    def run(u, p, t, e):
        out = dexphydro.simulate(dexphydro.scale_parameters(u), p, t, e, swe=5.0, soil=80.0)
        return out["q"], out["et"], out["swe"], out["soil"]

    assert torch.autograd.gradcheck(run, (unit, prcp, temp, pet))


def _batch(basins, days=30, n_static=3, seed=1):
    prcp, temp, dayl = _weather(days=days, seed=seed)
    raw = torch.zeros(len(basins), days, len(RAW_FORCINGS))
    for name, values in (("prcp", prcp), ("tmean", temp), ("dayl", dayl)):
        raw[..., RAW_FORCINGS.index(name)] = torch.from_numpy(values).float()
    g = torch.Generator().manual_seed(seed)
    return {"x_d": torch.zeros(len(basins), days, 1), "x_s": torch.randn(len(basins), n_static, generator=g),
            "x_raw": raw, "basin": torch.tensor(basins)}


def test_local_parameters_are_free_per_basin():
    model = dexphydro.DifferentiableEXPHYDRO({"training": "local", "n_basins": 5, "warmup": 5}, 1, 3)
    assert model.basin_parameters.shape == (5, 6)
    out = model(_batch([1, 3], days=200))  # winter into summer: snow, melt and runoff
    assert set(model.fluxes) <= set(out) and out["q"].shape == (2, 200)
    out["q"][:, 5:].sum().backward()
    grad = model.basin_parameters.grad
    assert torch.isfinite(grad).all() and (grad[[1, 3]] != 0).all() and (grad[[0, 2, 4]] == 0).all()


def test_regional_parameters_come_from_attributes():
    torch.manual_seed(0)
    model = dexphydro.DifferentiableEXPHYDRO({"hidden_size": 4, "warmup": 5}, 1, 3)
    batch = _batch([0, 1])
    params = model.physical_parameters(batch)
    for i, name in enumerate(numba_exphydro.PARAMETER_NAMES):
        low, high = numba_exphydro.PARAMETER_BOUNDS[name]
        assert ((params[:, i] >= low) & (params[:, i] <= high)).all()
    assert not torch.allclose(params[0], params[1])
    model(batch)["q"][:, 5:].sum().backward()
    for name, parameter in model.named_parameters():
        assert torch.isfinite(parameter.grad).all() and (parameter.grad != 0).any(), name
    with pytest.raises(ConfigError, match="static_attributes"):
        dexphydro.DifferentiableEXPHYDRO({}, 1, 0)
