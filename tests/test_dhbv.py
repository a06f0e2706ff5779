"""δ models (Feng et al. 2022): variants, gradients, dynamic parameters, component averaging, warm-up."""

from __future__ import annotations

import pytest
import torch

from runoffbench.errors import ConfigError
from runoffbench.models.nn import hbv
from runoffbench.models.nn.base import RAW_FORCINGS
from runoffbench.models.nn.dhbv import VARIANTS, DeltaHBV

DAYS, WARMUP, N_DYNAMIC, N_STATIC = 40, 10, 3, 4


def _batch(samples=2, days=DAYS, seed=0):
    g = torch.Generator().manual_seed(seed)
    raw = torch.zeros(samples, days, len(RAW_FORCINGS))
    raw[..., RAW_FORCINGS.index("prcp")] = 20.0 * torch.rand(samples, days, generator=g) ** 2
    raw[..., RAW_FORCINGS.index("tmean")] = 8.0 * torch.randn(samples, days, generator=g)
    raw[..., RAW_FORCINGS.index("pet")] = 4.0 * torch.rand(samples, days, generator=g)
    return {
        "x_d": torch.randn(samples, days, N_DYNAMIC, generator=g),
        "x_s": torch.randn(samples, N_STATIC, generator=g),
        "x_raw": raw,
        "basin": torch.arange(samples),
    }


def _model(variant, **options):
    torch.manual_seed(0)
    config = {"variant": variant, "hidden_size": 6, "dropout": 0.0, "warmup": WARMUP, **options}
    if variant != "dpl_hbv":
        config.setdefault("components", 3)
    return DeltaHBV(config, N_DYNAMIC, N_STATIC)


def test_variants_by_config_and_unknown_variant():
    assert set(VARIANTS) == {"dpl_hbv", "delta_n", "delta_n_beta_t", "delta_n_gamma_t",
                             "delta_n_gamma_t_beta_t", "delta_n_nn_r"}
    assert DeltaHBV({"variant": "dpl_hbv", "hidden_size": 4}, 3, 0).components == 1
    default = DeltaHBV({"hidden_size": 4}, 3, 0)
    assert default.variant_name == "delta_n_gamma_t_beta_t" and default.components == 16
    assert default.warmup == DeltaHBV.default_warmup == 365
    assert _model("delta_n_nn_r").recharge is not None and _model("delta_n").recharge is None
    with pytest.raises(ConfigError, match="unknown δ-model variant 'delta_x'.*dpl_hbv.*delta_n_nn_r"):
        DeltaHBV({"variant": "delta_x"}, 3, 0)
    with pytest.raises(ConfigError, match="components"):
        DeltaHBV({"variant": "dpl_hbv", "components": 4}, 3, 0)


@pytest.mark.parametrize("variant", ["dpl_hbv", "delta_n_gamma_t_beta_t", "delta_n_nn_r"])
def test_gradients_reach_every_weight(variant):
    model = _model(variant)
    out = model(_batch())
    assert set(model.fluxes) <= set(out) and out["q"].shape == (2, DAYS)
    assert all(torch.isfinite(v).all() for v in out.values())
    out["q"][:, WARMUP:].pow(2).mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert (parameter.grad != 0).any(), name


def test_warmup_runs_without_gradient():
    model = _model("delta_n", routing=False)
    out = model(_batch())
    spin_loss = out["q_components"][:, :WARMUP].sum() + out["et"][:, :WARMUP].sum()
    grads = torch.autograd.grad(spin_loss, list(model.parameters()), allow_unused=True)
    assert all(g is None or (g == 0).all() for g in grads)
    short = _model("delta_n", warmup=DAYS + 5)(_batch())  # window shorter than the warm-up: no gradient
    assert not short["et"].requires_grad and not short["q_components"].requires_grad


@pytest.mark.parametrize(
    ("variant", "dynamic"),
    [("delta_n", set()), ("delta_n_beta_t", {"beta"}), ("delta_n_gamma_t", {"gamma"}),
     ("delta_n_gamma_t_beta_t", {"beta", "gamma"})],
)
def test_dynamic_parameters_vary_in_time(variant, dynamic):
    params, route, _ = _model(variant).physical_parameters(_batch())
    assert params.shape[1] == (DAYS if dynamic else 1) and route.shape == (2, 2)
    for i, name in enumerate(hbv.PARAMETER_NAMES):
        low, high = hbv.PARAMETER_BOUNDS[name]
        values = params[:, :, i]
        assert ((values >= low) & (values <= high)).all(), name
        varies = bool(values.std(dim=1).min() > 1e-4) if values.shape[1] > 1 else False
        assert varies == (name in dynamic), name
    gamma = params[:, :, hbv.PARAMETER_NAMES.index("gamma")]
    # Feng et al. 2022 learn γ in every variant with dynamic parameters; δn keeps the original HBV ET
    assert bool((gamma == 1).all()) == (not dynamic)


def test_output_is_the_mean_of_the_components():
    model = _model("delta_n_gamma_t_beta_t", routing=False, warmup=0)
    batch = _batch()
    with torch.no_grad():
        out = model(batch)
        params, _, _ = model.physical_parameters(batch)
        raw = batch["x_raw"]
        forcing = [raw[..., RAW_FORCINGS.index(n)] for n in ("prcp", "tmean", "pet")]
        single, _ = hbv.simulate(*forcing, params[..., 1:2])
    torch.testing.assert_close(out["q"], out["q_components"].mean(-1))
    torch.testing.assert_close(out["q_components"][..., 1], single["q"][..., 0])


def test_routing_smooths_the_component_mean():
    model = _model("delta_n", warmup=0)
    with torch.no_grad():
        out = model(_batch())
    unrouted = out["q_components"].mean(-1)
    assert not torch.allclose(out["q"], unrouted)
    assert out["q"].diff(dim=1).abs().sum() < unrouted.diff(dim=1).abs().sum()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_dynamic_parameters_are_outputs_of_every_component(variant):
    """beta_t / gamma_t (B, T, C) are the parameters HBV ran with, for the variant's dynamic ones only."""
    model = _model(variant)
    out = model(_batch())
    expected = {f"{name}_t" for name in VARIANTS[variant].dynamic}
    assert set(model.component_outputs) == expected and expected <= set(out)
    params, _, _ = model.physical_parameters(_batch())
    for name in expected:
        assert out[name].shape == (2, DAYS, model.components)
        torch.testing.assert_close(out[name], params[:, :, hbv.PARAMETER_NAMES.index(name[:-2])])
