"""One trainer for every :class:`~runoffbench.models.nn.base.NeuralModel`.

Per epoch (numbered from 1): set the learning rate of the epoch (:meth:`TrainSettings.lr_for_epoch`),
draw a random permutation of the valid training windows, and for each batch gather the windows, add
relative Gaussian noise to the target (standard deviation ``target_noise_std`` × the training-period
standard deviation of the target), compute the loss on the last day (sequence-to-one) or on the days
after the warm-up (sequence-to-sequence), clip the gradient norm and step the optimiser (Adam or
Adadelta). A non-finite loss skips the batch with a warning; ``max_nan_batches`` of them in a row
abort with a :class:`TrainingError`.

With a validation period and ``patience``, the validation loss is computed after every epoch and
training stops after ``patience`` epochs without improvement; the weights of the best epoch are kept.

After every epoch a checkpoint (model, optimiser, epoch, random-number states of the sampler and of
torch, early-stopping state, log rows) is written atomically to ``checkpoint.pt``; a trainer created
on the same run directory resumes from it and, on the CPU, reaches the same final weights as an
uninterrupted run. The epoch log goes to ``training_log.csv`` (epoch, lr, loss, validation_loss,
skipped_batches, seconds).
"""

from __future__ import annotations

import copy
import logging
import math
import time
import warnings
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from runoffbench.errors import RunoffbenchError
from runoffbench.io import atomic_output
from runoffbench.models.nn.base import NeuralModel
from runoffbench.training.data import PeriodTensors
from runoffbench.training.losses import get_loss
from runoffbench.training.settings import TrainSettings

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
TRAINING_LOG = "training_log.csv"


class TrainingError(RunoffbenchError, RuntimeError):
    """Training cannot go on (repeated non-finite losses)."""


def make_optimizer(settings: TrainSettings, parameters) -> torch.optim.Optimizer:
    lr = settings.lr_for_epoch(1)
    if settings.optimizer == "adadelta":
        return torch.optim.Adadelta(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr)


def loss_slice(settings: TrainSettings) -> slice:
    """The days of a window the loss sees: the last (sequence-to-one) or those after the warm-up."""
    return slice(-1, None) if settings.mode == "seq2one" else slice(settings.warmup, None)


class Trainer:
    """Fits ``model`` on ``train`` windows, optionally early-stopped on ``validation``."""

    def __init__(
        self,
        model: NeuralModel,
        settings: TrainSettings,
        train: PeriodTensors,
        run_dir: str | Path,
        seed: int,
        validation: PeriodTensors | None = None,
        noise_scale: float = 1.0,
    ) -> None:
        self.model = model
        self.settings = settings
        self.train_data = train
        self.validation = validation if settings.patience is not None else None
        self.run_dir = Path(run_dir)
        self.seed = seed
        self.noise_scale = noise_scale
        self.loss = get_loss(settings.loss)
        self.optimizer = make_optimizer(settings, model.parameters())
        self.device = train.device
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.window = loss_slice(settings)
        self.epoch = 0
        self.rows: list[dict] = []
        self.best_loss = math.inf
        self.best_state: dict | None = None
        self.bad_epochs = 0

    # -- checkpoints -------------------------------------------------------------------------
    def _state(self) -> dict:
        return {
            "epoch": self.epoch,
            "settings": self.settings.to_dict(),
            "seed": self.seed,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None,
            "rows": self.rows,
            "best_loss": self.best_loss,
            "best_state": self.best_state,
            "bad_epochs": self.bad_epochs,
        }

    def save_checkpoint(self) -> Path:
        path = self.run_dir / CHECKPOINT
        with atomic_output(path) as temporary:
            torch.save(self._state(), temporary)
        return path

    def resume(self) -> bool:
        """Load ``checkpoint.pt`` of the run directory if it belongs to the same settings and seed."""
        path = self.run_dir / CHECKPOINT
        if not path.is_file():
            return False
        state = torch.load(path, map_location=self.device, weights_only=False)
        if state["settings"] != self.settings.to_dict() or state["seed"] != self.seed:
            log.warning("%s belongs to other settings or another seed; training from scratch", path)
            return False
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        if state["cuda_rng"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        self.epoch, self.rows = state["epoch"], state["rows"]
        self.best_loss, self.best_state, self.bad_epochs = state["best_loss"], state["best_state"], state["bad_epochs"]
        log.info("resumed from %s after epoch %d", path, self.epoch)
        return True

    # -- one epoch ---------------------------------------------------------------------------
    def _step(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target = batch["y"][:, self.window]
        if self.settings.target_noise_std > 0:
            noise = torch.randn(target.shape, generator=self.generator, device=self.device, dtype=target.dtype)
            target = target + noise * self.settings.target_noise_std * self.noise_scale
        prediction = self.model(batch)["q"][:, self.window]
        return self.loss(prediction, target, batch["basin_std"])

    def train_epoch(self) -> tuple[float, int]:
        """One pass over the training windows: mean loss of the batches used, batches skipped."""
        self.model.train()
        data, size = self.train_data, self.settings.batch_size
        order = torch.randperm(data.n_windows, generator=self.generator, device=self.device)
        total, used, skipped, in_a_row = 0.0, 0, 0, 0
        batches = range(0, data.n_windows, size)
        for start in tqdm(batches, desc=f"epoch {self.epoch}/{self.settings.epochs}", unit="batch",
                          leave=False, mininterval=5):
            loss = self._step(data.batch(order[start : start + size]))
            value = float(loss.detach())
            if not math.isfinite(value):
                skipped += 1
                in_a_row += 1
                warnings.warn(f"epoch {self.epoch}: non-finite loss in batch {start // size}, batch skipped",
                              RuntimeWarning, stacklevel=2)
                if in_a_row >= self.settings.max_nan_batches:
                    raise TrainingError(
                        f"{in_a_row} batches in a row had a non-finite loss (epoch {self.epoch}); "
                        f"check the inputs or lower the learning rate (models.{self.settings.name}.learning_rate)"
                    )
                continue
            in_a_row = 0
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.settings.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.clip_grad_norm)
            self.optimizer.step()
            total += value
            used += 1
        return (total / used if used else math.nan), skipped

    @torch.no_grad()
    def validation_loss(self) -> float:
        """Loss over every valid validation window (no noise, evaluation mode)."""
        self.model.eval()
        data, size = self.validation, self.settings.batch_size
        total, count = 0.0, 0
        for start in range(0, data.n_windows, size):
            rows = torch.arange(start, min(start + size, data.n_windows), device=self.device)
            batch = data.batch(rows)
            prediction = self.model(batch)["q"][:, self.window]
            total += float(self.loss(prediction, batch["y"][:, self.window], batch["basin_std"])) * len(rows)
            count += len(rows)
        return total / count if count else math.nan

    # -- the loop ----------------------------------------------------------------------------
    def fit(self) -> list[dict]:
        """Train (resuming if a checkpoint exists) and leave the final weights in the model."""
        self.resume()
        while self.epoch < self.settings.epochs and not self._stopped():
            self.epoch += 1
            lr = self.settings.lr_for_epoch(self.epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            started = time.perf_counter()
            loss, skipped = self.train_epoch()
            validation = self.validation_loss() if self.validation is not None else math.nan
            if self.validation is not None:
                if validation < self.best_loss:
                    self.best_loss, self.bad_epochs = validation, 0
                    self.best_state = copy.deepcopy(self.model.state_dict())
                else:
                    self.bad_epochs += 1
            row = {"epoch": self.epoch, "lr": lr, "loss": loss, "validation_loss": validation,
                   "skipped_batches": skipped, "seconds": round(time.perf_counter() - started, 3)}
            self.rows.append(row)
            log.info("epoch %d/%d: loss %.5f, validation %.5f, lr %g, %.1f s", self.epoch, self.settings.epochs,
                     loss, validation, lr, row["seconds"])
            self.write_log()
            self.save_checkpoint()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.rows

    def _stopped(self) -> bool:
        stop = self.validation is not None and self.bad_epochs >= self.settings.patience
        if stop:
            log.info("early stopping after epoch %d (best validation loss %.5f)", self.epoch, self.best_loss)
        return stop

    def write_log(self) -> Path:
        path = self.run_dir / TRAINING_LOG
        with atomic_output(path) as temporary:
            pd.DataFrame(self.rows).to_csv(temporary, index=False)
        return path
