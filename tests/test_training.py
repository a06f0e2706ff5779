"""The trainer: data path, losses, determinism, resume, NaN handling, outputs, CLI and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from runoffbench.cli import main
from runoffbench.errors import ConfigError, DataError
from runoffbench.models.nn import RAW_FORCINGS, get_model
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions
from runoffbench.training import trainer as trainer_module
from runoffbench.training.data import PeriodTensors, fit_normalisation, read_inputs
from runoffbench.training.losses import get_loss, nse_star
from runoffbench.training.run import train_run
from runoffbench.training.saved_run import load_tensors
from runoffbench.training.settings import parse_settings
from tests.training_data import BASINS, run_killed_and_resumed, training_forcings, write_training_cache

PERIODS = {
    "train": Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-06-30")),
    "validation": Period(pd.Timestamp("2001-07-01"), pd.Timestamp("2001-09-30")),
    "test": Period(pd.Timestamp("2001-10-01"), pd.Timestamp("2001-12-31")),
}
TINY = {"hidden_size": 8, "sequence_length": 10, "epochs": 2, "batch_size": 64,
        "static_attributes": ["p_mean", "aridity"], "learning_rate": {1: 0.01, 2: 0.005}}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A forcing cache (3 basins, 2000-10-01..2001-12-31, a gap in qobs and prcp) and attributes.nc."""
    root = tmp_path_factory.mktemp("cache")
    dates = pd.date_range("2000-10-01", "2001-12-31", name="date")
    values = training_forcings(dates, seed=0)
    values["qobs"][1, 200:210] = np.nan
    values["prcp"][2, 250] = np.nan
    write_training_cache(root / "daymet.nc", dates, values)
    attributes = xr.Dataset({"p_mean": ("basin", [2.0, 3.0, 1.0]), "aridity": ("basin", [1.0, 0.5, np.nan]),
                             "frac_snow": ("basin", [0.1, 0.0, 0.3])}, coords={"basin": BASINS})
    attributes.to_netcdf(root / "attributes.nc")
    return root


def _run(data, output, name="lstm", basins=BASINS, periods=PERIODS, seed=0, **overrides):
    settings = parse_settings(name, {**TINY, **overrides})
    return train_run(settings, data / "daymet.nc", data / "attributes.nc", basins, periods, seed, output,
                     "daymet", "test_split")


def _weights(run_dir):
    return load_tensors(run_dir / "model.pt")["model"]


def test_windows_exclude_gaps_and_a_batch_is_one_gather(data):
    settings = parse_settings("lstm", {**TINY, "static_attributes": ["p_mean"]})
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, get_model("lstm"))
    normalisation = fit_normalisation(inputs, PERIODS["train"], target_in_mm=False)
    tensors = PeriodTensors(inputs, PERIODS["train"], normalisation, settings, np.ones(3, "float32"),
                            torch.device("cpu"))
    starts = tensors.window_end - 9
    assert (starts >= 0).all()
    for basin, end in zip(tensors.window_basin.tolist(), tensors.window_end.tolist()):
        assert torch.isfinite(tensors.x_d[basin, end - 9 : end + 1]).all() and not torch.isnan(tensors.y[basin, end])
    gap_day = (inputs.dates.get_loc(pd.Timestamp("2000-10-01") + pd.Timedelta(days=205))
               - (inputs.period_slice(PERIODS["train"]).start - tensors.offset))
    assert not ((tensors.window_basin == 1) & (tensors.window_end == gap_day)).any()
    batch = tensors.batch(torch.tensor([0, 5]))
    b, e = int(tensors.window_basin[5]), int(tensors.window_end[5])
    torch.testing.assert_close(batch["x_d"][1], tensors.x_d[b, e - 9 : e + 1])
    assert batch["x_s"].shape == (2, 1) and batch["y"].shape == (2, 10)
    train_days = inputs.dynamic[:, inputs.period_slice(PERIODS["train"])]
    np.testing.assert_allclose(normalisation.dynamic_mean, np.nanmean(train_days.reshape(-1, train_days.shape[-1]), 0),
                               rtol=1e-5)


def test_losses():
    prediction, target = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [float("nan")]])
    assert nse_star(prediction, target, torch.tensor([0.9, 1.0])).item() == pytest.approx(1.0)
    assert get_loss("mse")(prediction, target, torch.ones(2)).item() == pytest.approx(1.0)
    assert get_loss("feng")(torch.zeros(1, 3), torch.zeros(1, 3), torch.ones(1)).item() == pytest.approx(0.0)
    assert get_loss("nse_squared")(prediction, target, torch.tensor([2.0, 1.0])).item() == pytest.approx(0.25)
    with pytest.raises(ConfigError, match="unknown loss 'kge'"):
        get_loss("kge")


def test_learning_rate_schedule_counts_epochs_from_one():
    settings = parse_settings("lstm", {"learning_rate": {1: 1e-3, 3: 5e-4}})
    assert [settings.lr_for_epoch(e) for e in (1, 2, 3, 9)] == [1e-3, 1e-3, 5e-4, 5e-4]


def test_run_writes_contract_log_and_config_and_is_deterministic(data, tmp_path):
    first = _run(data, tmp_path / "a", static_attributes=["p_mean"], target_noise_std=0.1).parent
    second = _run(data, tmp_path / "b", static_attributes=["p_mean"], target_noise_std=0.1).parent
    for key, value in _weights(first).items():
        torch.testing.assert_close(value, _weights(second)[key], rtol=0, atol=0)
    predictions = read_predictions(first / "predictions.nc")
    assert predictions.sizes == {"basin": 3, "date": 92} and predictions.attrs["member"] == "0"
    cache = xr.open_dataset(data / "daymet.nc").sel(date=slice("2001-10-01", "2001-12-31"))
    np.testing.assert_allclose(predictions["qobs"].values, cache["qobs"].values, rtol=1e-5)
    assert np.isfinite(predictions["qsim"].values[[0, 1]]).all()
    assert np.isnan(predictions["qsim"].values[2]).sum() == 0  # the prcp gap lies before the test period
    log = pd.read_csv(first / "training_log.csv")
    assert list(log.columns) == ["epoch", "lr", "loss", "validation_loss", "skipped_batches", "seconds"]
    assert log["lr"].tolist() == [0.01, 0.005]
    assert (first / "config.yaml").read_text().count("hidden_size: 8") == 1


def test_killed_run_resumes_to_the_same_weights(data, tmp_path, monkeypatch):
    options = {"static_attributes": ["p_mean"], "epochs": 3, "target_noise_std": 0.2, "patience": 2}
    straight = _run(data, tmp_path / "straight", **options).parent
    resumed = run_killed_and_resumed(monkeypatch, lambda: _run(data, tmp_path / "resumed", **options)).parent
    for key, value in _weights(straight).items():
        torch.testing.assert_close(value, _weights(resumed)[key], rtol=0, atol=0)
    assert len(pd.read_csv(resumed / "training_log.csv")) == 3
    for name in ("training_log.csv", "model.pt", "predictions.nc"):  # a forced re-run: outputs deleted
        (resumed / name).unlink()
    again = _run(data, tmp_path / "resumed", **options).parent
    assert len(pd.read_csv(again / "training_log.csv")) == 3
    for key, value in _weights(straight).items():
        torch.testing.assert_close(value, _weights(again)[key], rtol=0, atol=0)


def test_nan_losses_skip_batches_then_abort(data, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module.Trainer, "batch_loss",
                        lambda self, batch, noise=True: torch.tensor(float("nan"), requires_grad=True))
    with (pytest.warns(RuntimeWarning, match="non-finite loss"),
          pytest.raises(trainer_module.TrainingError, match="3 batches in a row")):
        _run(data, tmp_path / "nan", static_attributes=["p_mean"], max_nan_batches=3)


def test_mclstm_and_ealstm_and_local_lstm_train(data, tmp_path):
    mc = read_predictions(_run(data, tmp_path / "mc", name="mclstm", static_attributes=["p_mean"], epochs=1))
    assert {"trash", "storage"} <= set(mc.data_vars) and (mc["qsim"] >= 0).all()
    _run(data, tmp_path / "ea", name="ealstm", static_attributes=["p_mean"], epochs=1)
    local = _run(data, tmp_path / "local", static_attributes=["p_mean"], epochs=1, training="local")
    assert read_predictions(local).attrs["training"] == "local"


def test_cli_trains_one_run(data, tmp_path):
    basins = tmp_path / "basins.txt"
    basins.write_text("\n".join(BASINS[:2]) + "\n")
    periods = ('{"train": {"start": "2001-01-01", "end": "2001-06-30"}, '
               '"test": {"start": "2001-10-01", "end": "2001-12-31"}}')
    code = main(["train", "--model", "lstm", "--set", "hidden_size=8", "--set", "sequence_length=10",
                 "--set", "epochs=1", "--set", "static_attributes=[p_mean]", "--cache", str(data / "daymet.nc"),
                 "--attributes", str(data / "attributes.nc"), "--basins", str(basins), "--split", "mine",
                 "--periods", periods, "--seed", "3", "--output", str(tmp_path / "run")])
    assert code == 0
    assert read_predictions(tmp_path / "run" / "predictions.nc").attrs["member"] == "3"


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"name": "transformer"}, ConfigError, "unknown nn model 'transformer'"),
        ({"loss": "kge"}, ConfigError, "unknown loss 'kge'"),
        ({"static_attributes": ["porosity"]}, DataError, r"\['porosity'\] not in"),
        ({"dynamic_inputs": ["prcp", "soil_moisture"]}, DataError,
         r"\[.soil_moisture.\] not in the forcing cache .*derived: tmean"),
        ({"periods": {**PERIODS, "test": Period(pd.Timestamp("2001-10-01"), pd.Timestamp("2002-03-31"))}},
         DataError, "test period 2001-10-01..2002-03-31 lies outside"),
        ({"optimizer": "sgd"}, ConfigError, "models.lstm.optimizer"),
        ({"name": "dhbv"}, ConfigError, "models.lstm.mode: DeltaHBV is trained sequence-to-sequence"),
        ({"name": "mclstm_hybrid", "training": "local"}, ConfigError, "HybridMCLSTM does not support local"),
        ({"patience": 2, "periods": {k: v for k, v in PERIODS.items() if k != "validation"}}, ConfigError,
         "patience: early stopping needs a validation period"),
        ({"train_years": 2}, ConfigError, "train_years: 2 years requested"),
        ({"batches_per_epoch": 0}, ConfigError, "batches_per_epoch: expected a positive integer"),
        ({"hidden_sise": 8}, ConfigError, r"models.lstm: unknown key\(s\) hidden_sise for LSTM .*hidden_size"),
        ({"name": "mclstm", "dropout": 0.4}, ConfigError, r"unknown key\(s\) dropout for MCLSTM"),
    ],
)
def test_bad_input_fails_before_training(data, tmp_path, overrides, error, message):
    overrides = dict(overrides)
    name = overrides.pop("name", "lstm")
    periods = overrides.pop("periods", PERIODS)
    overrides.setdefault("static_attributes", ["p_mean"])
    with pytest.raises(error, match=message):
        _run(data, tmp_path / "bad", name="lstm", periods=periods, **({"model": name} | overrides))
    assert not (tmp_path / "bad" / "checkpoint.pt").exists()


def test_bad_input_names_the_basin_and_the_variable(data, tmp_path):
    """Forcings a process model derives its physical inputs from, and a basin without attributes."""
    cache = xr.open_dataset(data / "daymet.nc").load()
    cache.drop_vars("dayl").to_netcdf(tmp_path / "no_dayl.nc")
    settings = parse_settings("dexphydro", {**TINY, "mode": "seq2seq", "warmup": 5, "static_attributes": ["p_mean"]})
    with pytest.raises(DataError, match=r"no_dayl.nc .*missing \['dayl'\]"):
        train_run(settings, tmp_path / "no_dayl.nc", data / "attributes.nc", BASINS, PERIODS, 0, tmp_path / "r",
                  "daymet", "s")
    attributes = xr.open_dataset(data / "attributes.nc").load()
    attributes.isel(basin=[0, 1]).to_netcdf(tmp_path / "two.nc")
    with pytest.raises(DataError, match=r"\['03000003'\] have no attributes"):
        train_run(parse_settings("lstm", {**TINY, "static_attributes": ["p_mean"]}), data / "daymet.nc",
                  tmp_path / "two.nc", BASINS, PERIODS, 0, tmp_path / "r", "daymet", "s")
    assert not (tmp_path / "r" / "checkpoint.pt").exists()


def test_mass_and_physical_inputs_stay_in_physical_units(data):
    """x_mass (MC-LSTM) is precipitation in mm/day and x_d lacks it; x_raw (process models) is physical."""
    cache = xr.open_dataset(data / "daymet.nc")
    for name, options in (("mclstm", {}), ("dexphydro", {"mode": "seq2seq", "warmup": 2})):
        settings = parse_settings(name, {**TINY, "static_attributes": ["p_mean"], **options})
        model_class = get_model(name)
        inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, model_class)
        normalisation = fit_normalisation(inputs, PERIODS["train"], model_class.output_in_mm)
        tensors = PeriodTensors(inputs, PERIODS["train"], normalisation, settings, np.ones(3, "float32"),
                                torch.device("cpu"))
        batch = tensors.batch(torch.arange(4))
        b, e = int(tensors.window_basin[2]), int(tensors.window_end[2])
        days = pd.DatetimeIndex(cache["date"].values)
        first = days.get_loc(tensors.period_dates[0]) - tensors.offset
        prcp = cache["prcp"].values[b, first + e - 9 : first + e + 1]
        assert normalisation.target_mean == 0.0 and normalisation.target_std == 1.0  # q in mm/day
        if name == "mclstm":
            assert "prcp" not in normalisation.dynamic_names and batch["x_d"].shape[-1] == 4
            np.testing.assert_allclose(batch["x_mass"][2, :, 0].numpy(), prcp, rtol=1e-6)
            observed = cache["qobs"].values[b, first + e - 9 : first + e + 1].copy()
            observed[np.arange(e - 9, e + 1) < tensors.offset] = np.nan  # the context's days are no targets
            np.testing.assert_allclose(batch["y"][2].numpy(), observed, rtol=1e-6)
        else:
            raw = batch["x_raw"][2].numpy()
            np.testing.assert_allclose(raw[:, RAW_FORCINGS.index("prcp")], prcp, rtol=1e-6)
            tmax, tmin = (cache[v].values[b, first + e - 9 : first + e + 1] for v in ("tmax", "tmin"))
            np.testing.assert_allclose(raw[:, RAW_FORCINGS.index("tmean")], (tmax + tmin) / 2, rtol=1e-5)
            assert (raw[:, RAW_FORCINGS.index("lat")] == [40.0, 35.0, 45.0][b]).all()


def test_delta_model_trains_sequence_to_sequence_after_the_warmup(data, tmp_path):
    """δn(γ^t,β^t) gets the configured warm-up (not its 365-day default) and writes its fluxes."""
    run = _run(data, tmp_path / "dhbv", name="dhbv", mode="seq2seq", sequence_length=40, warmup=20, components=2,
               epochs=1, batches_per_epoch=2, batch_size=16, loss="feng", static_attributes=["p_mean"])
    log = pd.read_csv(run.parent / "training_log.csv")
    assert np.isfinite(log["loss"]).all() and log["skipped_batches"].tolist() == [0]
    assert load_tensors(run.parent / "model.pt")["model_options"]["warmup"] == 20
    predictions = read_predictions(run)
    assert {"et", "baseflow", "swe"} <= set(predictions.data_vars)
    assert predictions.attrs["model_class"] == "DeltaHBV"
    # the dynamic parameters of every component, an output nothing is trained on (contract 2)
    for name, (low, high) in (("beta_t", (1.0, 6.0)), ("gamma_t", (0.3, 5.0))):
        values = predictions[name]
        assert values.dims == ("basin", "date", "component") and values.sizes["component"] == 2
        simulated = np.isfinite(predictions["qsim"].values)  # a basin whose spin-up has a forcing gap has none
        assert simulated.any() and (np.isfinite(values.values).all(axis=2) == simulated).all()
        assert low <= float(values.min()) and float(values.max()) <= high
        assert float(values.std("date").max()) > 0  # they vary in time


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_run_matches_the_cpu_run(data, tmp_path):
    cpu = read_predictions(_run(data, tmp_path / "cpu", static_attributes=["p_mean"], dropout=0.0, device="cpu"))
    gpu = read_predictions(_run(data, tmp_path / "gpu", static_attributes=["p_mean"], dropout=0.0, device="cuda"))
    np.testing.assert_allclose(gpu["qsim"].values, cpu["qsim"].values, rtol=1e-2, atol=1e-2)


def test_feng_target_transform_with_rmse(data, tmp_path):
    """Feng et al.'s LSTM: log10(√q + 0.1) standardised, RMSE on that scale; predictions back in mm/day, qobs
    as observed, and the reloaded run predicts what the training wrote."""
    from runoffbench.training.data import TARGET_TRANSFORMS
    from runoffbench.training.run import repredict

    forward, inverse = TARGET_TRANSFORMS["feng"]
    q = np.array([0.0, 0.01, 1.0, 30.0])
    np.testing.assert_allclose(inverse(forward(q)), q, atol=1e-12)
    np.testing.assert_allclose(forward(q), np.log10(np.sqrt(q) + 0.1))
    run = _run(data, tmp_path / "feng_lstm", loss="rmse", target_transform="feng", static_attributes=["p_mean"])
    predictions = read_predictions(run)
    normalisation = load_tensors(run.parent / "model.pt")["normalisation"]
    assert normalisation["target_transform"] == "feng" and normalisation["target_mean"] < 0.5
    assert np.isfinite(predictions["qsim"].values).all() and (predictions["qsim"].values >= 0).all()
    with xr.open_dataset(data / "daymet.nc") as cache:
        observed = cache["qobs"].sel(date=predictions["date"].values).values
    np.testing.assert_allclose(predictions["qobs"].values, observed, rtol=1e-4, equal_nan=True)
    np.testing.assert_allclose(repredict(run.parent)["qsim"].values, predictions["qsim"].values, rtol=1e-5)
    with pytest.raises(ConfigError, match="target_transform: DeltaHBV predicts flow in mm/day"):
        _run(data, tmp_path / "bad", name="dhbv", mode="seq2seq", warmup=5, target_transform="feng")
    with pytest.raises(ConfigError, match=r"target_transform: unknown 'log'; known: none, feng"):
        _run(data, tmp_path / "bad2", target_transform="log")
