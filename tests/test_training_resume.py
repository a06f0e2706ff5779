"""A checkpoint resumes only the run it belongs to, a finished run trains again, and nothing the
trainer reads back can run planted code (issue 11, items 1 and 2)."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.periods import Period
from runoffbench.training import saved_run
from runoffbench.training import trainer as trainer_module
from runoffbench.training.run import train_run
from runoffbench.training.saved_run import load_tensors
from runoffbench.training.settings import parse_settings
from tests.training_data import (
    BASINS,
    run_killed,
    training_forcings,
    write_training_attributes,
    write_training_cache,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")

PERIODS = {
    "train": Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-06-30")),
    "test": Period(pd.Timestamp("2001-10-01"), pd.Timestamp("2001-12-31")),
}
SETTINGS = {"hidden_size": 4, "sequence_length": 10, "epochs": 3, "batch_size": 64, "batches_per_epoch": 3,
            "static_attributes": ["p_mean"], "learning_rate": 0.01}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    dates = pd.date_range("2000-10-01", "2001-12-31", name="date")
    for name, seed in (("daymet", 0), ("nldas", 1)):
        write_training_cache(root / f"{name}.nc", dates, training_forcings(dates, seed=seed))
    write_training_attributes(root / "attributes.nc")
    return root


def _run(data, output, cache="daymet", periods=PERIODS, basins=BASINS):
    return train_run(parse_settings("lstm", SETTINGS), data / f"{cache}.nc", data / "attributes.nc", list(basins),
                     periods, 0, output, cache, "split")


def _weights(run_dir):
    return load_tensors(run_dir / "model.pt")["model"]


def _epochs_trained(monkeypatch):
    counted = []
    train_epoch = trainer_module.Trainer.train_epoch

    def counting(self):
        counted.append(self.epoch)
        return train_epoch(self)

    monkeypatch.setattr(trainer_module.Trainer, "train_epoch", counting)
    return counted


def _edited_copy(data, tmp_path):
    """The daymet cache at another path with one value changed (a changed forcing data set)."""
    edited = tmp_path / "edited"
    edited.mkdir()
    with xr.open_dataset(data / "daymet.nc") as cache:
        cache = cache.load()
    cache["prcp"][0, 200] += 5.0
    cache.to_netcdf(edited / "daymet.nc")
    os.symlink(data / "attributes.nc", edited / "attributes.nc")
    return edited


CHANGES = {
    "other forcing file": lambda data, tmp: {"cache": "nldas"},
    "other train period": lambda data, tmp: {"periods": {**PERIODS, "train": Period(pd.Timestamp("2001-02-01"),
                                                                                  pd.Timestamp("2001-06-30"))}},
    "other basins": lambda data, tmp: {"basins": BASINS[:2]},
    "changed forcing data": lambda data, tmp: {"data": _edited_copy(data, tmp)},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_interrupted_run_resumes_only_when_nothing_changed(data, tmp_path, monkeypatch, change):
    """Killed after epoch 1, re-run with a change: trains all 3 epochs afresh, and its weights equal an
    uninterrupted run of the changed configuration (today's resume shipped the old run's state)."""
    kwargs = CHANGES[change](data, tmp_path)
    source = kwargs.pop("data", data)
    straight = _run(source, tmp_path / "straight", **kwargs).parent
    run_killed(monkeypatch, lambda: _run(data, tmp_path / "run"), after_epoch=1)
    counted = _epochs_trained(monkeypatch)
    changed = _run(source, tmp_path / "run", **kwargs).parent
    assert counted == [1, 2, 3]
    for key, value in _weights(straight).items():
        torch.testing.assert_close(value, _weights(changed)[key], rtol=0, atol=0)


def test_the_same_run_resumes_and_a_finished_run_trains_again(data, tmp_path, monkeypatch):
    run_killed(monkeypatch, lambda: _run(data, tmp_path / "run"), after_epoch=2)
    counted = _epochs_trained(monkeypatch)
    run = _run(data, tmp_path / "run").parent
    assert counted == [3]  # resumed after epoch 2
    assert not (run / trainer_module.CHECKPOINT).exists()  # complete: the checkpoint is gone
    counted.clear()
    _run(data, tmp_path / "run")  # snakemake --forcerun: the same command again
    assert counted == [1, 2, 3]


def test_a_code_change_invalidates_the_checkpoint(data, tmp_path, monkeypatch, caplog):
    run_killed(monkeypatch, lambda: _run(data, tmp_path / "run"), after_epoch=1)
    monkeypatch.setattr(saved_run, "_training_code", lambda: "edited" * 4)
    counted = _epochs_trained(monkeypatch)
    with caplog.at_level("WARNING"):
        _run(data, tmp_path / "run")
    assert counted == [1, 2, 3]
    assert "differs in: code" in caplog.text


class _Planted:
    def __reduce__(self):
        return (os.system, ("touch planted-code-ran",))


def test_a_planted_pickle_is_refused_with_a_clear_error(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"epoch": 1, "payload": _Planted()}, run / trainer_module.CHECKPOINT)
    with pytest.raises(DataError, match=r"checkpoint.pt: refused to load.*tensors and plain values"):
        _run(data, run)
    assert not (tmp_path / "planted-code-ran").exists()
    with open(tmp_path / "model.pt", "wb") as handle:
        pickle.dump(_Planted(), handle)
    with pytest.raises(DataError, match="model.pt: refused to load"):
        load_tensors(tmp_path / "model.pt")
    assert not (tmp_path / "planted-code-ran").exists()


def test_what_the_trainer_writes_loads_safely(data, tmp_path, monkeypatch):
    run_killed(monkeypatch, lambda: _run(data, tmp_path / "run"), after_epoch=1)
    state = load_tensors(tmp_path / "run" / trainer_module.CHECKPOINT)
    assert state["epoch"] == 1 and set(state["fingerprint"]) >= {"settings", "inputs", "code", "basins"}
    run = _run(data, tmp_path / "run").parent
    saved = load_tensors(run / "model.pt")
    assert set(saved) >= {"model", "normalisation", "settings"}
    assert np.isfinite(saved["normalisation"]["target_std"])


def test_a_basin_without_training_flow_is_left_out_and_recorded(data, tmp_path):
    """One rule for every model kind (runoffbench.failures): a gauge whose record starts after the
    training period is not trained on, not predicted, and named in failures.csv with the reason."""
    with xr.open_dataset(data / "daymet.nc") as cache:
        cache = cache.load()
    cache["qobs"][2, cache.indexes["date"].get_indexer([pd.Timestamp("2001-09-01")])[0] :: -1] = np.nan
    root = tmp_path / "late_gauge"
    root.mkdir()
    cache.to_netcdf(root / "daymet.nc")
    os.symlink(data / "attributes.nc", root / "attributes.nc")
    predictions = xr.open_dataset(_run(root, tmp_path / "run"))
    assert list(predictions["basin"].values) == BASINS[:2]
    failures = pd.read_csv(tmp_path / "run" / "failures.csv", dtype={"basin": str})
    assert failures.to_dict("records") == [{"basin": BASINS[2], "stage": "train", "reason": (
        "0 days of observed streamflow in the training period 2001-01-01..2001-06-30, fewer than the 91 a run needs")}]
    assert pd.read_csv(_run(data, tmp_path / "complete").parent / "failures.csv").empty  # header only


# -- reloadable runs (contract 5) ----------------------------------------------------------------
from tests.test_training_fidelity import CAUSALITY_CASES  # noqa: E402 - one tiny config per registered model


@pytest.mark.parametrize("case", sorted(CAUSALITY_CASES))
def test_every_model_reloads_and_repredicts_exactly(data, tmp_path, case):
    """model.pt + config.yaml rebuild the model with its normalisation; `runoffbench predict` with the
    run's cache and split writes exactly the predictions the training wrote (CPU)."""
    from runoffbench.cli import main

    name, entry = CAUSALITY_CASES[case]
    periods = {"train": Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-06-30")),
               "test": Period(pd.Timestamp("2001-07-01"), pd.Timestamp("2001-12-31"))}
    settings = parse_settings(case, {**entry, "model": name, "epochs": 1, "batch_size": 8, "batches_per_epoch": 2})
    written = train_run(settings, data / "daymet.nc", data / "attributes.nc", BASINS, periods, 0, tmp_path / "run",
                        "daymet", "split")
    assert main(["predict", "--run", str(tmp_path / "run"), "--output", str(tmp_path / "again.nc")]) == 0
    with xr.open_dataset(written) as a, xr.open_dataset(tmp_path / "again.nc") as b:
        assert set(a.data_vars) == set(b.data_vars) and a.attrs == b.attrs
        for variable in a.data_vars:
            np.testing.assert_array_equal(a[variable].values, b[variable].values, err_msg=variable)


def test_predict_another_period_and_refuse_an_incompatible_model_file(data, tmp_path):
    from runoffbench.cli import main

    run = _run(data, tmp_path / "run").parent
    periods = ('{"train": {"start": "2001-01-01", "end": "2001-06-30"}, '
               '"test": {"start": "2001-07-01", "end": "2001-09-30"}}')
    assert main(["predict", "--run", str(run), "--split", "summer", "--periods", periods]) == 0
    with xr.open_dataset(run / "predictions_summer.nc") as summer:
        assert summer.sizes["date"] == 92 and summer.attrs["split"] == "summer"
    state = load_tensors(run / "model.pt")
    torch.save({**state, "format": 0}, run / "model.pt")
    assert main(["predict", "--run", str(run), "--output", str(tmp_path / "x.nc")]) == 2
    assert not (tmp_path / "x.nc").exists()
    with pytest.raises(DataError, match=r"model.pt: model file format 0, this runoffbench .* reads format 1"):
        saved_run.load_trained_run(run)
