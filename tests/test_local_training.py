"""Local training (one model per basin, batched): sampling, independence, per-basin early stopping,
resume, and the training-data amount in years."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from runoffbench.errors import ConfigError
from runoffbench.models.nn import get_model
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions
from runoffbench.training import trainer as trainer_module
from runoffbench.training.data import PeriodTensors, basin_target_std, fit_normalisation, read_inputs
from runoffbench.training.run import train_run, training_period
from runoffbench.training.saved_run import load_tensors
from runoffbench.training.settings import parse_settings
from tests.training_data import (
    BASINS,
    clipped_gradients,
    run_killed_and_resumed,
    training_forcings,
    write_training_cache,
)


def _period(start: str, end: str) -> Period:
    return Period(pd.Timestamp(start), pd.Timestamp(end))


PERIODS = {
    "train": _period("2001-10-01", "2003-09-30"),
    "validation": _period("2003-10-01", "2004-03-31"),
    "test": _period("2004-04-01", "2004-09-30"),
}
LOCAL = {"training": "local", "hidden_size": 4, "sequence_length": 10, "epochs": 4, "batch_size": 8,
         "batches_per_epoch": 3, "static_attributes": ["p_mean"], "learning_rate": 0.02}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Three basins, WY2001–2004 (4 years), streamflow a smoothed precipitation times 1, 2, 3."""
    root = tmp_path_factory.mktemp("local")
    dates = pd.date_range("2000-10-01", "2004-09-30", name="date")
    values = training_forcings(dates, seed=1, qobs_scale=(1, 2, 3))
    values["dayl"] = np.full(values["dayl"].shape, 43200.0, "float32")
    write_training_cache(root / "daymet.nc", dates, values)
    xr.Dataset({"p_mean": ("basin", [2.0, 3.0, 1.0])}, coords={"basin": BASINS}).to_netcdf(root / "attributes.nc")
    return root


def _run(data, output, name="lstm", periods=PERIODS, **overrides):
    settings = parse_settings(name, {**LOCAL, **overrides})
    return train_run(settings, data / "daymet.nc", data / "attributes.nc", BASINS, periods, 0, output, "daymet",
                     "split")


def _trainer(data, tmp_path, **overrides):
    settings = parse_settings("lstm", {**LOCAL, **overrides})
    model_class = get_model("lstm")
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, model_class)
    normalisation = fit_normalisation(inputs, PERIODS["train"], False)
    tensors = PeriodTensors(inputs, PERIODS["train"], normalisation, settings,
                            basin_target_std(inputs, PERIODS["train"]), torch.device("cpu"))
    torch.manual_seed(0)
    model = model_class({"hidden_size": 4, "dropout": 0.0, "training": "local", "n_basins": 3}, 5, 1)
    return trainer_module.Trainer(model, settings, tensors, tmp_path, seed=0)


def test_a_local_step_takes_batch_size_windows_of_every_basin(data, tmp_path):
    trainer = _trainer(data, tmp_path, batches_per_epoch=None)
    batches = trainer.epoch_batches()
    counts = torch.bincount(trainer.train_data.window_basin, minlength=3)
    assert len(batches) == -(-int(counts.max()) // 8)  # every window of the widest basin once
    for rows in batches:
        basin = trainer.train_data.window_basin[rows]
        assert basin.tolist() == sorted(basin.tolist()) and torch.bincount(basin).tolist() == [8, 8, 8]
    seen = torch.cat(batches)
    assert len(torch.unique(seen[trainer.train_data.window_basin[seen] == 0])) == counts[0]


def test_a_basin_update_depends_on_its_own_data_only(data, tmp_path):
    """Loss Σ_b L_b and per-basin clipping: another basin's targets (and huge gradients) change nothing."""
    trainer = _trainer(data, tmp_path, clip_grad_norm=0.5)
    batch = trainer.train_data.batch(trainer.epoch_batches()[0])

    before = clipped_gradients(trainer, batch)
    other = dict(batch, y=torch.where(batch["basin"][:, None] == 1, batch["y"] * 1000.0, batch["y"]))
    after = clipped_gradients(trainer, other)
    for name in before:
        torch.testing.assert_close(before[name][[0, 2]], after[name][[0, 2]], rtol=0, atol=0)
        assert not torch.equal(before[name][1], after[name][1]) or "bias" in name


def test_per_basin_early_stopping_keeps_the_best_weights_while_others_train(data, tmp_path, monkeypatch):
    scripted = iter([[1.0, 1.0, np.nan], [2.0, 0.9, np.nan], [3.0, 0.8, np.nan], [4.0, 0.7, np.nan]])
    monkeypatch.setattr(trainer_module.Trainer, "validation_losses",
                        lambda self: torch.tensor(next(scripted), dtype=torch.float64))
    states, sampled = [], []
    write_log = trainer_module.Trainer.write_log

    def record(self):
        states.append(copy.deepcopy(self.model.state_dict()))
        sampled.append(set(self.train_data.window_basin[torch.cat(self.epoch_batches())].tolist()))
        return write_log(self)

    monkeypatch.setattr(trainer_module.Trainer, "write_log", record)
    run = _run(data, tmp_path / "run", patience=1).parent
    final = load_tensors(run / "model.pt")["model"]
    for name, value in final.items():
        torch.testing.assert_close(value[0], states[0][name][0], rtol=0, atol=0)  # basin 0: epoch 1, its best
        for state in states[1:]:
            torch.testing.assert_close(state[name][0], states[0][name][0], rtol=0, atol=0)  # held after stopping
        torch.testing.assert_close(value[1], states[3][name][1], rtol=0, atol=0)  # basin 1: improved to the end
        torch.testing.assert_close(value[2], states[3][name][2], rtol=0, atol=0)  # no validation data: last
    assert not torch.equal(states[3]["cell.weight_hh"][1], states[1]["cell.weight_hh"][1])  # it went on
    assert sampled[1] == sampled[3] == {1, 2}  # the stopped basin's windows are no longer drawn
    log = pd.read_csv(run / "training_log.csv")
    assert log["basins_training"].tolist() == [3, 2, 2, 2]


def test_local_run_with_early_stopping_resumes_to_the_same_weights(data, tmp_path, monkeypatch):
    options = {"epochs": 3, "patience": 1, "target_noise_std": 0.1}
    straight = _run(data, tmp_path / "straight", **options).parent
    resumed = run_killed_and_resumed(monkeypatch, lambda: _run(data, tmp_path / "resumed", **options)).parent
    a, b = (load_tensors(r / "model.pt")["model"] for r in (straight, resumed))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    pd.testing.assert_frame_equal(pd.read_csv(straight / "training_log.csv").drop(columns="seconds"),
                                  pd.read_csv(resumed / "training_log.csv").drop(columns="seconds"))


@pytest.mark.parametrize("years", [1, 3, 6, 9, 12, 15])
def test_train_years_is_a_contiguous_block_ending_with_the_training_period(years):
    settings = parse_settings("lstm", {"train_years": years})
    period = training_period(settings, _period("1980-10-01", "1995-09-30"))
    assert period.end == pd.Timestamp("1995-09-30")
    assert period.start == pd.Timestamp(f"{1995 - years}-10-01")
    with pytest.raises(ConfigError, match="train_years: 16 years requested"):
        training_period(parse_settings("lstm", {"train_years": 16}), _period("1980-10-01", "1995-09-30"))


def test_train_years_keeps_the_input_windows_whole(data, tmp_path):
    run = _run(data, tmp_path / "one", name="dexphydro", mode="seq2seq", sequence_length=60, warmup=20,
               train_years=1, static_attributes=[], epochs=1, batch_size=2, learning_rate=0.05,
               loss="nse_squared", periods={k: v for k, v in PERIODS.items() if k != "validation"})
    config = (run.parent / "config.yaml").read_text()
    assert "start: '2002-10-01'" in config and "train_years: 1" in config
    settings = parse_settings("lstm", {**LOCAL, "train_years": 1})
    model_class = get_model("lstm")
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, model_class)
    block = training_period(settings, PERIODS["train"])
    normalisation = fit_normalisation(inputs, block, False)
    tensors = PeriodTensors(inputs, block, normalisation, settings, np.ones(3, "float32"), torch.device("cpu"))
    ends = tensors.window_end
    assert int(ends.min()) == tensors.offset and int(ends.max()) == tensors.x_d.shape[1] - 1
    assert int((ends == tensors.offset).sum()) == 3  # the block's first day has a full window per basin
    assert tensors.period_dates[0] == pd.Timestamp("2002-10-01") and tensors.offset == 9
    predictions = read_predictions(run)
    assert predictions.attrs["training"] == "local" and np.isfinite(predictions["qsim"].values).all()
