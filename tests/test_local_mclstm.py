"""The MC-LSTM trained per basin (issue 15, item 1): one gate layer per basin in the fused kernel's per-group
form, values and gradients equal to the autograd definition with each basin's layer, mass conserved, a
sample's prediction independent of the batch (training groups, padded prediction batches, any order), a
basin's update independent of the other basins' data, and a local run trained end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from runoffbench.models.nn import get_model, kernels
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions
from runoffbench.training import trainer as trainer_module
from runoffbench.training.data import PeriodTensors, basin_target_std, fit_normalisation, read_inputs
from runoffbench.training.run import train_run
from runoffbench.training.settings import parse_settings
from tests.test_nn_models import _mass_batch
from tests.training_data import BASINS, clipped_gradients, training_forcings, write_training_cache

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _local(n_basins=3, hidden=6, n_aux=3, n_static=2, adversarial=True):
    torch.manual_seed(0)
    model = get_model("mclstm")({"hidden_size": hidden, "training": "local", "n_basins": n_basins}, n_aux,
                                n_static).double()
    if adversarial:
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.normal_(0.0, 1.0)
    return model


def _regional_twin(model, basin: int):
    """A regional MC-LSTM with the gate layer of ``basin`` of the local ``model``."""
    twin = get_model("mclstm")({"hidden_size": model.hidden_size}, model.n_dynamic, model.n_static).double()
    with torch.no_grad():
        twin.gates.weight.copy_(model.gates_weight[basin])
        twin.gates.bias.copy_(model.gates_bias[basin])
    return twin


def test_every_weight_has_a_basin_dimension_and_starts_as_the_regional_layer():
    model = get_model("mclstm")({"hidden_size": 5, "training": "local", "n_basins": 4}, 3, 0)
    assert {name: tuple(p.shape) for name, p in model.state_dict().items()} == {
        "gates_weight": (4, 10 + 25, 1 + 3 + 5), "gates_bias": (4, 10 + 25)}  # raw mass, auxiliaries, cells
    regional = get_model("mclstm")({"hidden_size": 5}, 3, 0)
    for basin in range(4):
        torch.testing.assert_close(model.gates_bias[basin], regional.gates.bias)  # output bias 3, R = identity
    assert model.gates_weight.abs().max() <= 9**-0.5  # nn.Linear's bound 1/sqrt(fan_in)


@pytest.mark.parametrize("days", [5, 40])
def test_grouped_kernel_matches_the_definition_per_group(days):
    g = torch.Generator().manual_seed(days)
    groups, k, hidden, n_dynamic, n_static = 3, 2, 4, 2, 3
    batch = groups * k
    dynamic = torch.randn(batch, days, n_dynamic, generator=g, dtype=torch.float64)
    static = torch.randn(batch, n_static, generator=g, dtype=torch.float64)
    mass = torch.rand(batch, days, 1, generator=g, dtype=torch.float64) * 30.0
    n_gates = 2 * hidden + hidden**2
    weight = torch.randn(groups, n_gates, n_dynamic + n_static + hidden, generator=g, dtype=torch.float64)
    bias = torch.randn(groups, n_gates, generator=g, dtype=torch.float64)
    bias[1, 2 * hidden + hidden : 3 * hidden + hidden] = -50.0  # a dead redistribution row in group 1
    weight.requires_grad_()
    bias.requires_grad_()
    fused = kernels.mclstm_sequence(dynamic, static, mass, weight, bias, hidden)
    parts = [kernels.mclstm_reference(dynamic[a * k:(a + 1) * k], static[a * k:(a + 1) * k], mass[a * k:(a + 1) * k],
                                      weight[a], bias[a], hidden) for a in range(groups)]
    reference = [torch.cat([p[i] for p in parts]) for i in range(2)]
    for a, b in zip(fused, reference):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    probe = [torch.randn(x.shape, generator=g, dtype=torch.float64) for x in fused]
    grads = [torch.autograd.grad(sum((x * w).sum() for x, w in zip(out, probe)), [weight, bias])
             for out in (fused, reference)]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    short = [x[:, :4].detach().requires_grad_() for x in (dynamic, mass)]
    static.requires_grad_()
    assert torch.autograd.gradcheck(lambda d, s, m, w, b: kernels.mclstm_sequence(d, s, m, w, b, hidden),
                                    (short[0], static, short[1], weight, bias))


def test_local_mclstm_conserves_mass_on_adversarial_inputs():
    model = _local()
    batch = {**_mass_batch(samples=6), "basin": torch.tensor([0, 0, 1, 1, 2, 2])}
    with torch.no_grad():
        out = model(batch)
    rain = batch["x_mass"].sum(dim=(1, 2))
    balance = rain - (out["q"] + out["trash"]).sum(dim=1) - out["storage"][:, -1]
    assert (balance.abs() / rain).max() <= 1e-5
    assert (out["q"] >= 0).all() and (out["storage"] >= 0).all()


def test_each_basin_is_its_regional_twin_in_any_batch():
    """Training groups, unequal groups (padded), shuffled order and a single sample give each sample the
    prediction of a regional MC-LSTM with its basin's gate layer."""
    model = _local()
    batch = {**_mass_batch(samples=7, days=90), "basin": torch.tensor([0, 0, 1, 1, 2, 2, 1])}
    with torch.no_grad():
        expected = torch.cat([_regional_twin(model, int(b))({k: v[i:i + 1] for k, v in batch.items()})["q"]
                              for i, b in enumerate(batch["basin"])])
        for rows in ([0, 1, 2, 3, 4, 5], [6, 0, 3, 5, 1, 2, 4], [3], [2, 6, 3]):
            index = torch.tensor(rows)
            got = model({k: v[index] for k, v in batch.items()})["q"]
            torch.testing.assert_close(got, expected[index], rtol=1e-12, atol=1e-12)


def test_local_mclstm_prediction_does_not_depend_on_the_batch():
    model = _local()
    batch = {**_mass_batch(samples=4, days=120), "basin": torch.tensor([1, 1, 0, 2])}
    batch["x_mass"][1:] *= 50.0
    with torch.no_grad():
        alone = model({k: v[:1] for k, v in batch.items()})["q"]
        together = model(batch)["q"][:1]
    torch.testing.assert_close(alone, together, rtol=1e-12, atol=1e-12)


PERIODS = {"train": Period(pd.Timestamp("2001-10-01"), pd.Timestamp("2003-09-30")),
           "validation": Period(pd.Timestamp("2003-10-01"), pd.Timestamp("2004-03-31")),
           "test": Period(pd.Timestamp("2004-04-01"), pd.Timestamp("2004-09-30"))}
LOCAL = {"training": "local", "hidden_size": 4, "sequence_length": 10, "epochs": 3, "batch_size": 8,
         "batches_per_epoch": 3, "learning_rate": 0.02, "dynamic_inputs": ["prcp", "tmax", "tmin"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("local_mclstm")
    dates = pd.date_range("2000-10-01", "2004-09-30", name="date")
    write_training_cache(root / "daymet.nc", dates, training_forcings(dates, seed=1, qobs_scale=(1, 2, 3)))
    xr.Dataset({"p_mean": ("basin", [2.0, 3.0, 1.0])}, coords={"basin": BASINS}).to_netcdf(root / "attributes.nc")
    return root


def test_a_basin_update_depends_on_its_own_data_only(data, tmp_path):
    settings = parse_settings("mclstm", {**LOCAL, "clip_grad_norm": 0.5})
    model_class = get_model("mclstm")
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, model_class)
    normalisation = fit_normalisation(inputs, PERIODS["train"], True)
    tensors = PeriodTensors(inputs, PERIODS["train"], normalisation, settings,
                            basin_target_std(inputs, PERIODS["train"]), torch.device("cpu"))
    torch.manual_seed(0)
    model = model_class({"hidden_size": 4, "training": "local", "n_basins": 3}, 2, 0)
    trainer = trainer_module.Trainer(model, settings, tensors, tmp_path, seed=0)
    batch = tensors.batch(trainer.epoch_batches()[0])

    before = clipped_gradients(trainer, batch)
    other = dict(batch, y=torch.where(batch["basin"][:, None] == 1, batch["y"] * 1000.0, batch["y"]))
    after = clipped_gradients(trainer, other)
    for name in before:
        torch.testing.assert_close(before[name][[0, 2]], after[name][[0, 2]], rtol=0, atol=0)
        assert not torch.equal(before[name][1], after[name][1])


def test_a_local_mclstm_run_trains_per_basin_with_early_stopping(data, tmp_path):
    settings = parse_settings("mclstm", {**LOCAL, "patience": 1, "epochs": 4})
    written = train_run(settings, data / "daymet.nc", data / "attributes.nc", BASINS, PERIODS, 0, tmp_path / "run",
                        "daymet", "split")
    predictions = read_predictions(written)
    assert predictions.attrs["training"] == "local" and np.isfinite(predictions["qsim"].values).all()
    log = pd.read_csv(tmp_path / "run" / "training_log.csv")
    assert "basins_training" in log.columns and log["basins_training"].iloc[0] == 3
    weights = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert weights["model"]["gates_weight"].shape[0] == 3
