"""The nn models: interface, registry, MC-LSTM mass conservation and its two fixed defects, the fused
recurrences against their autograd definitions, LSTM variants."""

from __future__ import annotations

import pytest
import torch

from runoffbench.errors import ConfigError
from runoffbench.models.nn import NN_MODELS, get_model, kernels
from runoffbench.models.nn.mclstm import MCLSTM

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def normalised_relu_rows(pre: torch.Tensor) -> torch.Tensor:
    """R_t of the MC-LSTM written out (the kernel never forms it): the row-normalised ReLU of ``pre``
    (..., H, H), a row with no positive entry becoming the identity row."""
    positive = torch.relu(pre)
    total = positive.sum(dim=-1, keepdim=True)
    identity = torch.eye(pre.shape[-1], dtype=pre.dtype, device=pre.device).expand_as(pre)
    return torch.where(total > 0, positive / total.clamp_min(torch.finfo(pre.dtype).tiny), identity)


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
    assert {"lstm", "ealstm", "mclstm", "dhbv", "dexphydro"} <= set(NN_MODELS)
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


def test_mclstm_matches_a_row_normalised_redistribution_matrix():
    """The fused step (R never formed) equals m = R_tᵀ c + i x with R_t from normalised_relu_rows."""
    model, batch = _mclstm(hidden=5, n_trash=2), _mass_batch(samples=2, days=3)
    hidden, n_aux = 5, 6  # the raw mass input, 3 dynamic auxiliaries, 2 statics
    with torch.no_grad():
        model.gates.bias[2 * hidden + 5 : 2 * hidden + 10] = -40.0  # row 1 of R: no positive entry
        out = model(batch)
        c = torch.zeros(2, hidden, dtype=torch.float64)
        for t in range(3):
            u = torch.cat([batch["x_mass"][:, t], batch["x_d"][:, t], batch["x_s"],
                           c / (c.sum(-1, keepdim=True) + kernels.STATE_EPSILON)], -1)
            pre = model.gates(u)
            i = torch.sigmoid(pre[:, :hidden])
            i = i / i.sum(-1, keepdim=True)
            o = torch.sigmoid(pre[:, hidden : 2 * hidden])
            r = normalised_relu_rows(pre[:, 2 * hidden :].view(2, hidden, hidden))
            m = torch.bmm(c.unsqueeze(1), r).squeeze(1) + i * batch["x_mass"][:, t]
            h, c = o * m, (1 - o) * m
        torch.testing.assert_close(out["q"][:, -1], h[:, 2:].sum(-1), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(out["trash"][:, -1], h[:, :2].sum(-1), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(out["storage"][:, -1], c.sum(-1), rtol=1e-12, atol=1e-12)
    assert n_aux == model.n_aux


@pytest.mark.parametrize("days", [7, 37])  # one chunk, several chunks of the fused recurrence
def test_fused_mclstm_values_and_gradients_match_autograd(days):
    g = torch.Generator().manual_seed(days)
    hidden, dynamic = 4, torch.randn(3, days, 2, generator=g, dtype=torch.float64)
    static = torch.randn(3, 3, generator=g, dtype=torch.float64)
    mass = torch.rand(3, days, 1, generator=g, dtype=torch.float64) * 30.0
    weight = torch.randn(2 * hidden + hidden**2, 2 + 3 + hidden, generator=g, dtype=torch.float64).requires_grad_()
    bias = torch.randn(2 * hidden + hidden**2, generator=g, dtype=torch.float64)
    bias[2 * hidden + hidden : 2 * hidden + 2 * hidden] = -50.0  # a dead redistribution row
    bias.requires_grad_()
    fused = kernels.mclstm_sequence(dynamic, static, mass, weight, bias, hidden)
    reference = kernels.mclstm_reference(dynamic, static, mass, weight, bias, hidden)
    probe = [torch.randn(x.shape, generator=g, dtype=torch.float64) for x in fused]
    for a, b in zip(fused, reference):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    grads = [torch.autograd.grad(sum((x * w).sum() for x, w in zip(out, probe)), [weight, bias])
             for out in (fused, reference)]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    short = [x[:, :6].detach().requires_grad_() for x in (dynamic, mass)]  # gradcheck: few inputs
    static.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda d, s, m, w, b: kernels.mclstm_sequence(d, s, m, w, b, hidden),
        (short[0], static, short[1], weight, bias))


def test_fused_ealstm_values_and_gradients_match_autograd():
    g = torch.Generator().manual_seed(0)
    hidden, x = 4, torch.randn(37, 3, 2, generator=g, dtype=torch.float64)  # time-major, several chunks
    i = torch.rand(3, hidden, generator=g, dtype=torch.float64).requires_grad_()
    w_input = torch.randn(3 * hidden, 2, generator=g, dtype=torch.float64).requires_grad_()
    bias = torch.randn(3 * hidden, generator=g, dtype=torch.float64).requires_grad_()
    recurrent = torch.randn(3 * hidden, hidden, generator=g, dtype=torch.float64).requires_grad_()
    weights = (i, w_input, bias, recurrent)
    fused, reference = kernels.ealstm_sequence(x, *weights), kernels.ealstm_reference(x, *weights)
    torch.testing.assert_close(fused, reference, rtol=1e-12, atol=1e-12)
    probe = torch.randn(fused.shape, generator=g, dtype=torch.float64)
    for a, b in zip(torch.autograd.grad((fused * probe).sum(), weights),
                    torch.autograd.grad((reference * probe).sum(), weights)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    assert torch.autograd.gradcheck(lambda *w: kernels.ealstm_sequence(x[:12], *w), weights)
    model = get_model("ealstm")({"hidden_size": 8, "dropout": 0.0}, 4, 2)
    with torch.no_grad():  # the no-gradient path (prediction) runs the same steps
        batch = _batch()
        torch.testing.assert_close(model(batch)["q"], model(batch)["q"])
    assert model(batch)["q"].requires_grad


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
        get_model("mclstm_hybrid")({"hidden_size": 4, "training": "local", "n_basins": 2}, 2, 0)


def test_local_lstm_grouped_batches_match_per_sample_weights():
    """A local-training batch (k windows of each basin, basin after basin) takes the grouped path."""
    model = get_model("lstm")({"hidden_size": 8, "training": "local", "n_basins": 3, "dropout": 0.0}, 4, 2)
    torch.manual_seed(3)
    batch = {"x_d": torch.randn(6, 12, 4), "x_s": torch.randn(6, 2), "basin": torch.tensor([2, 2, 0, 0, 1, 1])}
    grouped = model(batch)["q"]
    shuffled = torch.tensor([1, 0, 3, 2, 5, 4, 0])  # not in runs of equal length: per-sample weights
    alone = model({k: v[shuffled] for k, v in batch.items()})["q"]
    torch.testing.assert_close(grouped[shuffled], alone, rtol=1e-5, atol=1e-6)


def test_every_mclstm_gate_sees_the_mass_input():
    """How today's rain is split between the cells depends on how much rain falls (Frame et al. 2023
    eqs. B3-B5): with the same auxiliaries and cell states, rain of 1 and of 50 mm is distributed
    over the cells in different proportions, and the output gate differs."""
    model = _mclstm(hidden=4, n_aux=2, n_static=0)
    batch = _mass_batch(samples=2, days=1, n_aux=2, n_static=0)
    batch["x_d"][1] = batch["x_d"][0]
    batch["x_mass"][:, 0, 0] = torch.tensor([1.0, 50.0], dtype=torch.float64)
    with torch.no_grad():
        out = model(batch)
    storage_share = out["storage"][:, 0] / batch["x_mass"][:, 0, 0]  # zero initial states: one step of rain
    assert not torch.allclose(storage_share[0], storage_share[1], rtol=1e-6)
    for choice, width in (("raw", 1 + 2), ("normalised", 2), ("both", 1 + 2)):
        assert MCLSTM({"hidden_size": 4, "mass_gate_input": choice}, 2, 0).n_aux == width
    assert MCLSTM.normalised_inputs(["prcp", "tmax"], {"mass_gate_input": "normalised"}) == ["prcp", "tmax"]
    assert MCLSTM.normalised_inputs(["prcp", "tmax"], {}) == ["tmax"]
    with pytest.raises(ConfigError, match="mass_gate_input: unknown 'log'"):
        MCLSTM({"hidden_size": 4, "mass_gate_input": "log"}, 2, 0)


def test_mclstm_output_gate_starts_open_as_published():
    """Hoedt et al.'s hydrology configuration (initial_forget_bias: 3, on the output gate in
    neuralhydrology): the output-gate bias starts at +3."""
    model = MCLSTM({"hidden_size": 4}, 2, 1)
    torch.testing.assert_close(model.gates.bias[4:8], torch.full((4,), 3.0))


def test_mclstm_equals_neuralhydrology_cell_with_copied_weights():
    """Our MC-LSTM and neuralhydrology 1.13's ``_MCLSTMCell`` (raw mass input in every gate) agree to
    1e-6 with the same weights. One sample: neuralhydrology normalises the cell state by the L1 norm
    of the whole batch (our per-sample normalisation is one of the fixed defects), and with weights
    whose redistribution rows stay positive (its normalised ReLU deletes the mass of a dead row)."""
    mclstm_nh = pytest.importorskip("neuralhydrology.modelzoo.mclstm")
    hidden, n_dynamic, n_static, days = 6, 3, 2, 40
    torch.manual_seed(3)
    ours = MCLSTM({"hidden_size": hidden}, n_dynamic, n_static).double()
    with torch.no_grad():
        ours.gates.weight.normal_(0.0, 0.3)
        ours.gates.bias[2 * hidden :] += 0.5  # positive redistribution rows
    cfg = type("Cfg", (), {"initial_forget_bias": None})()
    theirs = mclstm_nh._MCLSTMCell(mass_input_size=1, aux_input_size=n_dynamic + n_static, hidden_size=hidden,
                                   cfg=cfg).double()
    weight, bias = ours.gates.weight.detach(), ours.gates.bias.detach()
    with torch.no_grad():  # rows: input gate, output gate, redistribution; columns: [mass, x_d, x_s, c]
        theirs.input_gate.fc.weight.copy_(weight[:hidden])
        theirs.input_gate.fc.bias.copy_(bias[:hidden])
        theirs.output_gate.fc.weight.copy_(weight[hidden : 2 * hidden])
        theirs.output_gate.fc.bias.copy_(bias[hidden : 2 * hidden])
        theirs.redistribution.fc.weight.copy_(weight[2 * hidden :])
        theirs.redistribution.fc.bias.copy_(bias[2 * hidden :])
    batch = _mass_batch(samples=1, days=days, n_aux=n_dynamic, n_static=n_static, seed=4)
    with torch.no_grad():
        out = ours(batch)
        x_a = torch.cat([batch["x_d"], batch["x_s"].unsqueeze(1).expand(-1, days, -1)], -1)
        m_out, c = theirs(batch["x_mass"].transpose(0, 1), x_a.transpose(0, 1))
    torch.testing.assert_close(out["q"], m_out[:, :, 1:].sum(-1).transpose(0, 1), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out["trash"], m_out[:, :, 0].transpose(0, 1), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out["storage"], c.sum(-1).transpose(0, 1), rtol=1e-6, atol=1e-6)


def test_hybrid_mclstm_conserves_mass_and_its_gates_read_the_lstm():
    """Nearing et al. 2020: an LSTM's hidden state feeds every MC gate; precipitation is the conserved
    input and, standardised, an auxiliary input; the water balance closes as in the MC-LSTM and a
    prediction does not depend on the other samples of the batch."""
    from runoffbench.models.nn.mclstm import HybridMCLSTM

    torch.manual_seed(0)
    model = HybridMCLSTM({"hidden_size": 6, "lstm_hidden_size": 5}, 4, 2).double()
    assert model.n_aux == 5 and model.gates.in_features == 5 + 6
    assert HybridMCLSTM.normalised_inputs(["prcp", "tmax"], {}) == ["prcp", "tmax"]  # prcp also auxiliary
    batch = _mass_batch(samples=3, days=400, n_aux=4, n_static=2)
    with torch.no_grad():
        out = model(batch)
        alone = model({k: v[:1] for k, v in batch.items()})["q"]
    rain = batch["x_mass"].sum(dim=(1, 2))
    balance = rain - (out["q"] + out["trash"]).sum(dim=1) - out["storage"][:, -1]
    assert (balance.abs() / rain).max() <= 1e-5
    torch.testing.assert_close(alone, out["q"][:1], rtol=1e-12, atol=1e-12)
    model(batch)["q"].sum().backward()
    assert model.lstm.weight_ih_l0.grad is not None and torch.isfinite(model.lstm.weight_ih_l0.grad).all()
