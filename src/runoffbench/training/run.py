"""One training run: model × forcing × split × seed, from the forcing cache to the prediction contract.

:func:`train_run` checks everything that can be checked before training (model and loss names, the
model's mode and training kind, forcing variables, static attributes per basin, periods inside the
data, a validation period where early stopping asks for one, enough years for ``train_years``) and
then writes, in the run
directory ``results/<experiment>/runs/<model>/<forcing>/<split>/<seed>/``:

- ``predictions.nc``: ``qsim`` and ``qobs`` in mm/day over the test period, plus the model's fluxes
  and component outputs (dims basin, date, component: the δ models' dynamic parameters) (contract 2);
- ``model.pt``: the final weights with the normalisation statistics and settings;
- ``training_log.csv``: loss, validation loss, learning rate and seconds per epoch;
- ``config.yaml``: the resolved settings, basins, periods, seed and device, and under
  ``static_inputs`` the static attributes' encoding (:mod:`runoffbench.training.data`): the training
  basins with a missing value per attribute (``filled``), the fill values and the one-hot categories;
- ``failures.csv``: the basins left out for too little observed streamflow in the training period
  (:mod:`runoffbench.failures`: the rule every model kind applies); they are not in the predictions;
- ``checkpoint.pt``: the state after the last epoch while training (a restarted run resumes from
  it); removed once the run is complete, so that a re-run trains again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from runoffbench.errors import ConfigError, DataError
from runoffbench.failures import screen_data_amount, screen_training_record, write_failures
from runoffbench.io import write_text_atomic
from runoffbench.models.nn import get_model
from runoffbench.periods import Period, last_years
from runoffbench.predictions import make_predictions, write_predictions
from runoffbench.training.data import (
    PeriodTensors,
    basin_target_std,
    check_period,
    fit_normalisation,
    read_inputs,
)
from runoffbench.training.losses import get_loss
from runoffbench.training.numerics import flush_subnormals
from runoffbench.training.predict import predict
from runoffbench.training.saved_run import MODEL_FILE, load_trained_run, run_fingerprint, save_trained_model
from runoffbench.training.settings import TrainSettings
from runoffbench.training.trainer import CHECKPOINT, Trainer

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_settings(settings: TrainSettings, model_class: type, periods: Mapping[str, Period]) -> None:
    """:class:`ConfigError` for settings the model or the split cannot honour (before any data is read)."""
    where = f"models.{settings.name}"
    if settings.mode == "seq2one" and not model_class.sequence_to_one_ok:
        raise ConfigError(f"{where}.mode: {model_class.__name__} is trained sequence-to-sequence after a warm-up; "
                          "set mode: seq2seq and warmup (days of each window the loss skips)")
    if settings.training == "local" and not model_class.supports_local:
        raise ConfigError(f"{where}.training: {model_class.__name__} does not support local (per-basin) training")
    if settings.target_transform != "none" and model_class.output_in_mm:
        raise ConfigError(f"{where}.target_transform: {model_class.__name__} predicts flow in mm/day; a target "
                          "transform applies to networks with a standardised output only")
    if settings.patience is not None and "validation" not in periods and settings.validation_fraction is None:
        raise ConfigError(f"{where}.patience: early stopping needs a validation period, and the split has none "
                          f"(periods: {', '.join(periods)}); add one to the split, set validation_fraction or set "
                          "patience: null")


def training_period(settings: TrainSettings, train: Period) -> Period:
    """The training period, or its last ``train_years`` years (:func:`runoffbench.periods.last_years`)."""
    return last_years(train, settings.train_years, f"models.{settings.name}.train_years")


def held_out_validation(settings: TrainSettings, periods: Mapping[str, Period]) -> dict[str, Period]:
    """``periods`` with the last ``validation_fraction`` of the training period as the validation period
    (whole days; the training period shortened to the rest), or unchanged without one."""
    if settings.validation_fraction is None:
        return dict(periods)
    train = periods["train"]
    days = (train.end - train.start).days + 1
    held = int(round(days * settings.validation_fraction))
    if held < 1 or held >= days:
        raise ConfigError(f"models.{settings.name}.validation_fraction: {settings.validation_fraction} of the "
                          f"{days} training days {train} leaves no training or no validation day")
    split = train.end - pd.Timedelta(days=held)
    return {**periods, "train": Period(train.start, split), "validation": Period(split + pd.Timedelta(days=1),
                                                                                 train.end)}


def spinup_days(settings: TrainSettings, train: Period) -> int | None:
    """Days before the test period the tensors hold: the spin-up of sequence-to-sequence models.

    ``test_warmup`` days, by default the training period's length — Feng et al. (2022) initialise the
    test-period states by running over the whole training period; None (the window history) for
    sequence-to-one models.
    """
    if settings.mode != "seq2seq":
        return None
    return settings.test_warmup if settings.test_warmup is not None else len(pd.date_range(train.start, train.end))


def prediction_batch_size(settings: TrainSettings, n_basins: int) -> int:
    """Windows (sequence-to-one) or basins (sequence-to-sequence) per prediction batch: as many as four
    training steps use (no gradients are kept); local training steps take ``batch_size`` per basin."""
    local = min(n_basins, settings.basins_per_pass or n_basins)  # bounded like a training pass
    return 4 * settings.batch_size * (local if settings.training == "local" else 1)


def train_run(
    settings: TrainSettings,
    cache: str | Path,
    attributes: str | Path,
    basins: list[str],
    periods: Mapping[str, Period],
    seed: int,
    output: str | Path,
    forcing: str,
    split: str,
    factors: Mapping[str, str] | None = None,
) -> Path:
    """Train one model and write the run directory ``output``; returns the predictions' path.

    ``factors`` (factor → level label) name the levels of a swept run (:mod:`runoffbench.experiment`);
    they go to ``config.yaml`` and to the predictions' attributes ``factor:<factor>``."""
    flush_subnormals()  # first: before torch's OpenMP workers start (training.numerics)
    output = Path(output)
    model_class = get_model(settings.model)
    get_loss(settings.loss)
    check_settings(settings, model_class, periods)
    periods = {**periods, "train": training_period(settings, periods["train"])}
    block = periods["train"]  # the data amount, before a held-out validation part is taken off its end
    periods = held_out_validation(settings, periods)
    device = settings.torch_device()
    inputs = read_inputs(cache, attributes, basins, settings, model_class)
    for name, period in periods.items():
        check_period(inputs, period, name, cache)
    output.mkdir(parents=True, exist_ok=True)
    excluded = screen_training_record(inputs.basins, inputs.observed_days(periods["train"]), periods["train"])
    excluded.update({b: r for b, r in screen_data_amount(inputs.basins, inputs.observed_days(block), block,
                                                          settings.train_years).items() if b not in excluded})
    write_failures(output / "failures.csv", excluded, stage="train")
    for basin, reason in excluded.items():
        log.warning("basin %s left out: %s", basin, reason)
    basins = [b for b in basins if b not in excluded]
    if not basins:
        raise DataError(f"no basin of the run has enough observed streamflow in the training period "
                        f"{periods['train']} ({cache}); see {output / 'failures.csv'}")
    inputs = inputs.select(basins)
    normalisation = fit_normalisation(inputs, periods["train"], model_class.output_in_mm, settings.target_transform)
    _log_static_encoding(settings, normalisation, len(basins))
    basin_std = basin_target_std(inputs, periods["train"])

    def tensors(name: str, context: int | None = None) -> PeriodTensors:
        return PeriodTensors(inputs, periods[name], normalisation, settings, basin_std, device, context=context)

    train = tensors("train")
    if train.n_windows == 0:
        raise DataError(f"no training window of {settings.sequence_length} days with complete inputs and "
                        f"observed streamflow in {periods['train']} ({cache})")
    validation = tensors("validation") if "validation" in periods and settings.patience else None
    seed_everything(seed)
    options = {**settings.model_options, "name": settings.name, "n_basins": len(basins),
               "training": settings.training, "warmup": settings.warmup}
    model = model_class(options, len(inputs.dynamic_names), len(normalisation.static_names)).to(device)
    log.info("%s: %d basins, %d training windows, %d parameters, device %s", settings.name, len(basins),
             train.n_windows, sum(p.numel() for p in model.parameters()), device)
    resolved = {
        "settings": settings.to_dict(),
        "seed": seed,
        "forcing": forcing,
        "split": split,
        "periods": {name: {"start": str(p.start.date()), "end": str(p.end.date())} for name, p in periods.items()},
        "basins": list(basins),
        "cache": str(cache),
        "attributes": str(attributes),
        "device": str(device),
        "factors": dict(factors or {}),
        "static_inputs": static_summary(normalisation),
    }
    write_text_atomic(output / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    pooled_std = float(np.nanstd(inputs.target[:, inputs.period_slice(periods["train"])]))
    fingerprint = run_fingerprint(settings.to_dict(), seed, periods, list(basins), inputs.digest())
    trainer = Trainer(model, settings, train, output, seed, validation=validation, pooled_std=pooled_std,
                      fingerprint=fingerprint)
    trainer.fit()
    save_trained_model(output / MODEL_FILE, model, normalisation.to_dict(), settings.to_dict(), options)
    dataset = predict_test_period(model, settings, inputs, normalisation, periods, device, forcing=forcing,
                                  split=split, member=seed, factors=factors)
    written = write_predictions(dataset, output / "predictions.nc")
    # the run is complete: its checkpoint only served an interrupted training, and a re-run of a finished
    # run (snakemake --forcerun) must train again rather than ship these weights
    (output / CHECKPOINT).unlink(missing_ok=True)
    return written


def static_summary(normalisation) -> dict:
    """The static attributes' encoding as written to ``config.yaml``: how many inputs, the training
    basins with a missing value per attribute, the fill values and the one-hot categories."""
    encoding = normalisation.static_encoding
    return {"inputs": len(normalisation.static_names),
            "filled": {k: v for k, v in encoding.filled.items() if v},
            "fill_values": {k: v for k, v in encoding.fill.items() if encoding.filled.get(k)},
            "categories": dict(encoding.categories)}


def _log_static_encoding(settings: TrainSettings, normalisation, n_basins: int) -> None:
    encoding = normalisation.static_encoding
    if not encoding.attributes:
        return
    numeric = [a for a in encoding.attributes if a not in encoding.categories]
    filled = [f"{a} {encoding.filled[a]}" for a in numeric if encoding.filled.get(a)]
    uncategorised = [f"{a} {encoding.filled[a]}" for a in encoding.categories if encoding.filled.get(a)]
    log.info("%s: %d static inputs from %d attributes (%d numeric, one-hot: %s)", settings.name,
             len(normalisation.static_names), len(encoding.attributes), len(numeric),
             ", ".join(f"{a} {len(c)} categories" for a, c in encoding.categories.items()) or "none")
    if filled:
        log.info("%s: missing static attribute values filled with the training-basin mean (basins of %d): %s",
                 settings.name, n_basins, ", ".join(filled))
    if uncategorised:
        log.info("%s: basins without a category (all-zero one-hot, of %d): %s", settings.name, n_basins,
                 ", ".join(uncategorised))


def prediction_tensors(inputs, settings: TrainSettings, normalisation, periods: Mapping[str, Period],
                       device) -> PeriodTensors:
    """The test period's tensors with the spin-up of :func:`spinup_days` (no training windows needed)."""
    return PeriodTensors(inputs, periods["test"], normalisation, settings, np.ones(len(inputs.basins), "float32"),
                         device, context=spinup_days(settings, periods["train"]))


def predict_test_period(model, settings: TrainSettings, inputs, normalisation, periods: Mapping[str, Period],
                        device, *, forcing: str, split: str, member: int | str,
                        factors: Mapping[str, str] | None = None):
    """The prediction dataset (contract 2) of ``model`` over ``periods["test"]``: the one path from a
    model to its predictions, after training and when a saved run is reloaded (:func:`repredict`)."""
    model_class = type(model)
    test = prediction_tensors(inputs, settings, normalisation, periods, device)
    if settings.mode == "seq2seq":
        log.info("test period spun up over %d days before %s", test.offset, periods["test"].start.date())
    arrays = predict(model, test, normalisation, prediction_batch_size(settings, len(inputs.basins)),
                     clip_negative=settings.clip_negative_flow)
    negative = int(arrays["negative_qsim"])
    if negative:
        log.warning("%s: %d basin-days of negative simulated flow in the test period%s", settings.name, negative,
                    ", set to 0" if settings.clip_negative_flow else " (kept: clip_negative_flow is false)")
    fluxes = {name: (arrays[name], units) for name, units in model_class.fluxes.items()}
    components = {name: (arrays[name], *described) for name, described in model.component_outputs.items()
                  if name in arrays}
    return make_predictions(arrays["qsim"], arrays["qobs"], inputs.basins, test.period_dates, model=settings.name,
                            forcing=forcing, split=split, member=member, fluxes=fluxes, components=components,
                            attrs={"model_class": model_class.__name__, "training": settings.training,
                                   "qsim_negative_days": negative,
                                   "qsim_negative_clipped": int(settings.clip_negative_flow),
                                   **{f"factor:{k}": str(v) for k, v in (factors or {}).items()}})


def _saved_periods(run, test: Period | None) -> dict[str, Period]:
    periods = {name: Period(pd.Timestamp(p["start"]), pd.Timestamp(p["end"]))
               for name, p in run.config["periods"].items()}
    return {**periods, "test": test} if test is not None else periods


def _saved_inputs(run, cache: Path):
    config = run.config
    inputs = read_inputs(cache, config["attributes"], list(config["basins"]), run.settings, type(run.model))
    if inputs.dynamic_names != run.normalisation.dynamic_names:
        raise DataError(f"{run.run_dir}: the model reads {run.normalisation.dynamic_names}, the inputs give "
                        f"{inputs.dynamic_names}")
    return inputs


def run_test_tensors(run, cache: str | Path | None = None, test: Period | None = None,
                     device: str = "cpu") -> PeriodTensors:
    """The test-period tensors of a saved run (its spin-up and normalisation) — for analyses."""
    periods = _saved_periods(run, test)
    cache = Path(cache or run.config["cache"])
    inputs = _saved_inputs(run, cache)
    check_period(inputs, periods["test"], "test", cache)
    return prediction_tensors(inputs, run.settings, run.normalisation, periods, torch.device(device))


def repredict(run_dir: str | Path, cache: str | Path | None = None, test: Period | None = None,
              split: str | None = None, device: str = "cpu"):
    """Predictions of the saved run ``run_dir`` (contract 5) — by default exactly what its training
    wrote; with ``cache`` another forcing cache, with ``test`` another test period (named ``split``).
    Spin-up and normalisation stay the run's own; nothing is trained."""
    run = load_trained_run(run_dir, device)
    config = run.config
    periods = _saved_periods(run, test)
    cache = Path(cache or config["cache"])
    inputs = _saved_inputs(run, cache)
    check_period(inputs, periods["test"], "test", cache)
    forcing = config["forcing"] if cache == Path(config["cache"]) else cache.stem
    return predict_test_period(run.model, run.settings, inputs, run.normalisation, periods, torch.device(device),
                               forcing=forcing, split=split or config["split"], member=config["seed"],
                               factors=config.get("factors"))
