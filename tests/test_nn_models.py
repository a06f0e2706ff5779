"""The nn models: interface, registry, MC-LSTM mass conservation and its two fixed defects, LSTM variants."""

from __future__ import annotations

import pytest
import torch

from runoffbench.errors import ConfigError
from runoffbench.models.nn import NN_MODELS, get_model
from runoffbench.models.nn.mclstm import MCLSTM, normalised_relu_rows


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread (and the test machine's cores are shared)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _mclstm(hidden=8, n_aux=3, n_static=2, **options) -> MCLSTM:
    torch.manual_seed(0)
    model = MCLSTM({"hidden_size": hidden, **options}, n_aux, n_static).double()
    with torch.no_grad():  # adversarial random weights, far from the initialisation
        for parameter in model.parameters():
            parameter.normal_(0.0, 1.0)
    return model


def _mass_batch(samples=4, days=3 * 365, n_aux=3, n_static=2, seed=1):
    generator = torch.Generator().manual_seed(seed)
    wet = torch.rand(samples, days, 1, generator=generator, dtype=torch.float64) < 0.3
    rain = torch.rand(samples, days, 1, generator=generator, dtype=torch.float64) ** 3 * 200.0
    return {
        "x_d": torch.randn(samples, days, n_aux, generator=generator, dtype=torch.float64),
        "x_s": torch.randn(samples, n_static, generator=generator, dtype=torch.float64),
        "x_mass": torch.where(wet, rain, torch.zeros_like(rain)),
    }


def test_registry_and_unknown_name():
    assert {"lstm", "ealstm", "mclstm"} <= set(NN_MODELS)
    with pytest.raises(ConfigError, match="unknown nn model 'transformer'.*lstm"):
        get_model("transformer")


def test_mclstm_conserves_mass_on_adversarial_inputs():
    model, batch = _mclstm(), _mass_batch()
    with torch.no_grad():
        out = model(batch)
    rain = batch["x_mass"].sum(dim=(1, 2))
    balance = rain - (out["q"] + out["trash"]).sum(dim=1) - out["storage"][:, -1]
    assert batch["x_mass"].max() > 150
    assert (balance.abs() / rain).max() <= 1e-5
    assert (out["q"] >= 0).all() and (out["storage"] >= 0).all()


def test_mclstm_prediction_does_not_depend_on_the_batch():
    model, batch = _mclstm(), _mass_batch(samples=3, days=200)
    batch["x_mass"][1:] *= 50.0  # very different neighbours
    with torch.no_grad():
        alone = model({k: v[:1] for k, v in batch.items()})["q"]
        together = model(batch)["q"][:1]
    torch.testing.assert_close(alone, together, rtol=1e-12, atol=1e-12)


def test_non_positive_redistribution_row_keeps_the_mass():
    pre = torch.tensor([[[-1.0, -2.0, 0.0], [1.0, 3.0, 0.0], [-1.0, 2.0, -3.0]]], dtype=torch.float64)
    rows = normalised_relu_rows(pre)
    torch.testing.assert_close(rows[0, 0], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(rows.sum(-1), torch.ones(1, 3, dtype=torch.float64))
    # every row of the whole model non-positive: the cells keep their water, nothing is deleted
    model = _mclstm()
    with torch.no_grad():
        model.gates.weight[16:].zero_()  # rows 2H.. of the shared gate layer: the redistribution
        model.gates.bias[16:] = -1.0
        batch = _mass_batch(days=100)
        out = model(batch)
    balance = batch["x_mass"].sum(dim=(1, 2)) - (out["q"] + out["trash"]).sum(1) - out["storage"][:, -1]
    assert (balance.abs() / batch["x_mass"].sum(dim=(1, 2))).max() <= 1e-10


def test_mclstm_gradients_are_finite_with_a_dead_row():
    model = _mclstm(hidden=4)
    with torch.no_grad():
        model.gates.bias[8:] = -50.0
    model(_mass_batch(days=30))["q"].sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_mclstm_rejects_bad_trash_count():
    with pytest.raises(ConfigError, match="n_trash"):
        MCLSTM({"hidden_size": 4, "n_trash": 4}, 2, 0)


def _batch(samples=3, days=12, n_dynamic=4, n_static=2):
    torch.manual_seed(2)
    return {"x_d": torch.randn(samples, days, n_dynamic), "x_s": torch.randn(samples, n_static),
            "basin": torch.tensor([0, 1, 0])[:samples]}


def test_lstm_forget_bias_static_concatenation_and_dropout_head():
    model = get_model("lstm")({"hidden_size": 8, "initial_forget_bias": 2.5, "dropout": 0.3}, 4, 2)
    forget = model.lstm.bias_hh_l0[8:16] + model.lstm.bias_ih_l0[8:16]
    torch.testing.assert_close(forget, torch.full((8,), 2.5))
    assert model.lstm.input_size == 6
    assert model(_batch())["q"].shape == (3, 12)
    without = get_model("lstm")({"hidden_size": 8, "use_static": False}, 4, 2)
    assert without.lstm.input_size == 4


def test_ealstm_input_gate_comes_from_the_statics_only():
    model = get_model("ealstm")({"hidden_size": 8}, 4, 2).eval()
    batch = _batch()
    embedding = model.embedding(batch["x_s"])
    assert embedding.shape == (3, 8) and ((embedding > 0) & (embedding < 1)).all()
    assert model(batch)["q"].shape == (3, 12)
    with pytest.raises(ConfigError, match="static attribute"):
        get_model("ealstm")({"hidden_size": 8}, 4, 0)


def test_local_lstm_keeps_basins_independent():
    model = get_model("lstm")({"hidden_size": 8, "training": "local", "n_basins": 2, "dropout": 0.0}, 4, 2)
    batch = _batch()
    before = model(batch)["q"]
    with torch.no_grad():  # changing basin 1's weights leaves the basin-0 samples alone
        model.cell.weight_ih[1].add_(1.0)
        model.head_weight[1].add_(1.0)
    after = model(batch)["q"]
    torch.testing.assert_close(before[[0, 2]], after[[0, 2]])
    assert not torch.allclose(before[1], after[1])
    with pytest.raises(ConfigError, match="does not support local"):
        get_model("mclstm")({"hidden_size": 4, "training": "local", "n_basins": 2}, 2, 0)
