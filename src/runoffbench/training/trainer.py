"""One trainer for every :class:`~runoffbench.models.nn.base.NeuralModel`.

Per epoch (numbered from 1): set the learning rate of the epoch (:meth:`TrainSettings.lr_for_epoch`),
draw the epoch's batches (:meth:`Trainer.epoch_batches`), and for each batch gather the windows, add
Gaussian noise to the target (:func:`add_target_noise`), compute the loss on the last day
(sequence-to-one) or on the days after the warm-up (sequence-to-sequence) in the loss's units
(:attr:`~runoffbench.training.losses.Loss.units`: mm/day for NSE*, whatever the model predicts),
clip the gradient norm and step the optimiser (Adam or Adadelta). A non-finite loss skips the batch
with a warning; ``max_nan_batches`` of them in a row abort with a :class:`TrainingError`.

Regional training (one model): the batches are a random permutation of all valid training windows
(the first ``batches_per_epoch`` × ``batch_size`` of it, if set); the loss is the batch mean; the
gradient norm of all weights is clipped to ``clip_grad_norm``.

Local training (one independent model per basin, weights with a leading basin dimension): each
step takes ``batch_size`` windows of every basin still training, each basin cycling through its own
random permutation of its windows; the loss is Σ_b L_b, the sum of each basin's mean loss over its
windows (:meth:`~runoffbench.training.losses.Loss.sums`), and the gradient norm is clipped per basin —
so the gradient (and, with Adam/Adadelta, the update) of basin b's weights depends on basin b's
data only.

Early stopping (``patience`` and a validation period): after every epoch the validation loss is
computed over every valid validation window — one value (regional) or one per basin (local). A model
whose loss has not improved for ``patience`` epochs stops; the weights of its best epoch are kept.
In local training a stopped basin's weights are set back to its best ones and stay there (its
windows are no longer sampled, and its slice of every weight is restored after each optimiser step)
while the other basins go on; training ends when every basin has stopped or after ``epochs``. A
basin without any validation window never stops early and keeps its last weights.

After every epoch a checkpoint (model, optimiser, epoch, random-number states of the sampler and of
torch, early-stopping state, log rows, the run's fingerprint) is written atomically to
``checkpoint.pt``; a trainer created on the same run directory for the same run — the same
fingerprint (:func:`~runoffbench.training.saved_run.run_fingerprint`: settings, seed, periods,
basins, input data, code) — resumes from it and, on the CPU, reaches the same final weights as an
uninterrupted run. A checkpoint of another run is ignored with a log line naming what differs, and
one that is not made of tensors and plain values is refused
(:func:`~runoffbench.training.saved_run.load_tensors`). The epoch log goes to ``training_log.csv``
(epoch, lr, loss, validation_loss, skipped_batches, seconds; local training adds basins_training,
the basins not yet stopped).
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

from runoffbench.errors import ConfigError, RunoffbenchError
from runoffbench.io import atomic_output
from runoffbench.models.nn.base import NeuralModel
from runoffbench.training.data import PeriodTensors
from runoffbench.training.losses import STANDARDISED, get_loss
from runoffbench.training.saved_run import load_tensors
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


def add_target_noise(target_mm: torch.Tensor, std: float, form: str, pooled_std: float,
                     generator: torch.Generator) -> torch.Tensor:
    """The target (mm/day) plus Gaussian noise, a regulariser against over-fitting the observations.

    ``relative`` (default): heteroscedastic, the standard deviation is ``std`` × each target value —
    Frame et al. (2023), Sect. 2.2.3, and neuralhydrology's ``BaseTrainer`` (which adds
    (y + μ/σ)·ε, ε ~ N(0, std), to the standardised target y: noise std × the value in physical
    units), so that near-zero flows get near-zero noise. ``pooled``: homoscedastic, ``std`` × the
    training-period standard deviation of the target over all basins (``pooled_std``, mm/day).
    """
    noise = torch.randn(target_mm.shape, generator=generator, device=target_mm.device, dtype=target_mm.dtype)
    scale = target_mm.abs() if form == "relative" else pooled_std
    return target_mm + noise * std * scale


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
        pooled_std: float = 1.0,
        fingerprint: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.train_data = train
        self.validation = validation if settings.patience is not None else None
        self.run_dir = Path(run_dir)
        self.seed = seed
        self.pooled_std = pooled_std
        self.fingerprint = dict(fingerprint or {})
        self.loss = get_loss(settings.loss)
        self.optimizer = make_optimizer(settings, model.parameters())
        self.device = train.device
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.window = loss_slice(settings)
        self.local = settings.training == "local"
        self.n_basins = int(train.x_d.shape[0])
        if self.local:
            wrong = [name for name, value in model.state_dict().items() if value.shape[:1] != (self.n_basins,)]
            if wrong:
                raise ConfigError(f"models.{settings.name}.training: local training needs every weight per basin "
                                  f"(leading dimension {self.n_basins}); {type(model).__name__} has {wrong}")
        self.epoch = 0
        self.rows: list[dict] = []
        units = self.n_basins if self.local else 1
        self.best_loss = torch.full((units,), math.inf, dtype=torch.float64)
        self.bad_epochs = torch.zeros(units, dtype=torch.int64)
        self.stopped = torch.zeros(units, dtype=torch.bool)
        self.best_state: dict | None = None

    # -- checkpoints -------------------------------------------------------------------------
    def _state(self) -> dict:
        return {
            "epoch": self.epoch,
            "fingerprint": self.fingerprint,
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
            "stopped": self.stopped,
        }

    def save_checkpoint(self) -> Path:
        path = self.run_dir / CHECKPOINT
        with atomic_output(path) as temporary:
            torch.save(self._state(), temporary)
        return path

    def resume(self) -> bool:
        """Load ``checkpoint.pt`` of the run directory if it belongs to the same run (fingerprint)."""
        path = self.run_dir / CHECKPOINT
        if not path.is_file():
            return False
        state = load_tensors(path, self.device)
        saved = state.get("fingerprint", {}) if isinstance(state, dict) else {}
        differing = sorted(k for k in {*saved, *self.fingerprint} if saved.get(k) != self.fingerprint.get(k))
        if differing:
            log.warning("%s belongs to another run (it differs in: %s); training from scratch", path,
                        ", ".join(differing))
            return False
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        if state["cuda_rng"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        self.epoch, self.rows, self.best_state = state["epoch"], state["rows"], state["best_state"]
        self.best_loss, self.bad_epochs, self.stopped = (
            state[key].cpu() for key in ("best_loss", "bad_epochs", "stopped"))
        log.info("resumed from %s after epoch %d", path, self.epoch)
        return True

    # -- one epoch ---------------------------------------------------------------------------
    def epoch_batches(self) -> list[torch.Tensor]:
        """Rows of the training-window table, one tensor per batch (module docstring)."""
        data, size, limit = self.train_data, self.settings.batch_size, self.settings.batches_per_epoch
        if not self.local:
            order = torch.randperm(data.n_windows, generator=self.generator, device=self.device)
            return list(order[: limit * size if limit else None].split(size))
        counts = torch.bincount(data.window_basin, minlength=self.n_basins)
        offsets = torch.cumsum(counts, 0) - counts  # the window table is sorted by basin
        basins = torch.nonzero((counts > 0) & ~self.stopped.to(self.device)).squeeze(1)
        if basins.numel() == 0:
            return []
        counts, offsets = counts[basins], offsets[basins]
        widest = int(counts.max())
        steps = limit or math.ceil(widest / size)
        keys = torch.rand(len(basins), widest, generator=self.generator, device=self.device)
        keys.masked_fill_(torch.arange(widest, device=self.device) >= counts[:, None], 2.0)  # padding last
        order = keys.argsort(dim=1)  # a permutation of each basin's windows, then its padding
        position = torch.arange(steps * size, device=self.device)[None, :] % counts[:, None]
        rows = order.gather(1, position) + offsets[:, None]  # (basins, steps × size), cycling
        return [rows[:, k * size : (k + 1) * size].reshape(-1) for k in range(steps)]

    def _in_loss_units(self, prediction: torch.Tensor, target: torch.Tensor, noise: bool):
        """Prediction and target (model units) in the loss's units; the target noisy with ``noise``."""
        data = self.train_data
        prediction, target = data.to_mm(prediction), data.to_mm(target)
        if noise and self.settings.target_noise_std > 0:
            target = add_target_noise(target, self.settings.target_noise_std, self.settings.target_noise,
                                      self.pooled_std, self.generator)
        if self.loss.units == STANDARDISED:
            return data.from_mm(prediction), data.from_mm(target)
        return prediction, target

    def batch_loss(self, batch: dict[str, torch.Tensor], noise: bool = True) -> torch.Tensor:
        """The training loss of one batch (with target noise unless ``noise`` is False)."""
        prediction, target = self._in_loss_units(self.model(batch)["q"][:, self.window],
                                                 batch["y"][:, self.window], noise)
        if not self.local:
            return self.loss(prediction, target, batch["basin_std"])
        sums = self.loss.sums(prediction, target, batch["basin_std"], batch["basin"], self.n_basins)
        return self.loss.reduce(sums[:, sums[-1] > 0]).sum()  # Σ over the batch's basins of their own loss

    def _clip(self) -> None:
        """Clip the gradient norm: of all weights (regional) or of each basin's slice (local)."""
        limit = self.settings.clip_grad_norm
        if limit is None:
            return
        if not self.local:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), limit)
            return
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if grads:
            norm = torch.stack([g.pow(2).reshape(g.shape[0], -1).sum(1) for g in grads]).sum(0).sqrt()
            scale = (limit / (norm + 1e-6)).clamp(max=1.0)
            for g in grads:
                g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))

    def _hold_stopped_basins(self) -> None:
        """Local training: put the stopped basins' best weights back (the optimiser may have moved them)."""
        if not self.local or not self.stopped.any():
            return
        stopped = self.stopped.to(self.device)
        with torch.no_grad():
            for name, value in self.model.state_dict().items():
                value[stopped] = self.best_state[name][stopped]

    def train_epoch(self) -> tuple[float, int]:
        """One pass over the epoch's batches: mean loss of the batches used, batches skipped."""
        self.model.train()
        data = self.train_data
        batches = self.epoch_batches()
        total, used, skipped, in_a_row = 0.0, 0, 0, 0
        for number, rows in enumerate(tqdm(batches, desc=f"epoch {self.epoch}/{self.settings.epochs}",
                                           unit="batch", leave=False, mininterval=5)):
            self.optimizer.zero_grad(set_to_none=True)
            value = 0.0
            for part in self._passes(rows):  # one pass, or passes of basins_per_pass basins (local training)
                loss = self.batch_loss(data.batch(part))
                part_value = float(loss.detach())
                value += part_value
                if math.isfinite(part_value):
                    loss.backward()  # the basins' gradients add up: Σ_b L_b over the passes
            if not math.isfinite(value):
                skipped += 1
                in_a_row += 1
                warnings.warn(f"epoch {self.epoch}: non-finite loss in batch {number}, batch skipped",
                              RuntimeWarning, stacklevel=2)
                if in_a_row >= self.settings.max_nan_batches:
                    raise TrainingError(
                        f"{in_a_row} batches in a row had a non-finite loss (epoch {self.epoch}); "
                        f"check the inputs or lower the learning rate (models.{self.settings.name}.learning_rate)"
                    )
                continue
            in_a_row = 0
            self._clip()
            self.optimizer.step()
            self._hold_stopped_basins()
            total += value
            used += 1
        return (total / used if used else math.nan), skipped

    def _passes(self, rows: torch.Tensor) -> list[torch.Tensor]:
        """The rows of one step (basin after basin in local training) in passes of at most ``basins_per_pass``
        basins, so that a step over many basins fits in memory; one pass otherwise."""
        per_pass = self.settings.basins_per_pass
        if not self.local or not per_pass:
            return [rows]
        basin = self.train_data.window_basin[rows]
        firsts = torch.nonzero(torch.diff(basin, prepend=basin[:1] - 1)).squeeze(1)  # each basin's first row
        return list(torch.tensor_split(rows, firsts[per_pass::per_pass].cpu()))

    @torch.no_grad()
    def validation_losses(self) -> torch.Tensor:
        """Loss over every valid validation window: (1,) regional, (n_basins,) local (NaN: no window)."""
        self.model.eval()
        # no gradients: larger batches, as many windows as four training steps take (local: of every basin)
        data = self.validation
        size = 4 * self.settings.batch_size * (min(self.n_basins, self.settings.basins_per_pass or self.n_basins)
                                               if self.local else 1)
        sums = None
        for start in range(0, data.n_windows, size):
            rows = torch.arange(start, min(start + size, data.n_windows), device=self.device)
            batch = data.batch(rows)
            prediction, target = self._in_loss_units(self.model(batch)["q"][:, self.window],
                                                     batch["y"][:, self.window], noise=False)
            part = self.loss.sums(prediction, target, batch["basin_std"], batch["basin"], self.n_basins).double()
            sums = part if sums is None else sums + part
        if sums is None:
            return torch.full_like(self.best_loss, math.nan)
        if not self.local:
            sums = sums.sum(dim=1, keepdim=True)
        return self.loss.reduce(sums).cpu()

    def _early_stopping(self, losses: torch.Tensor) -> None:
        """Update best losses, best weights (per basin in local training) and the stopped flags."""
        finite = torch.isfinite(losses)
        improved = (~finite | (losses < self.best_loss)) & ~self.stopped
        self.best_loss = torch.where(improved & finite, losses, self.best_loss)
        self.bad_epochs = torch.where(improved, 0, self.bad_epochs + (~self.stopped).long())
        state = self.model.state_dict()
        if self.best_state is None:
            self.best_state = copy.deepcopy(state)
        elif self.local:
            mask = improved.to(self.device)
            for name, value in state.items():
                self.best_state[name][mask] = value[mask]
        elif bool(improved[0]):
            self.best_state = copy.deepcopy(state)
        newly = (self.bad_epochs >= self.settings.patience) & ~self.stopped
        self.stopped |= newly
        if self.local and newly.any():
            log.info("epoch %d: %d basin(s) stopped early, %d still training", self.epoch, int(newly.sum()),
                     int((~self.stopped).sum()))
            self._hold_stopped_basins()

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
            validation = math.nan
            if self.validation is not None:
                losses = self.validation_losses()
                self._early_stopping(losses)
                validation = float(losses.nanmean()) if torch.isfinite(losses).any() else math.nan
            row = {"epoch": self.epoch, "lr": lr, "loss": loss, "validation_loss": validation,
                   "skipped_batches": skipped, "seconds": round(time.perf_counter() - started, 3)}
            if self.local:
                row["basins_training"] = int((~self.stopped).sum())
            self.rows.append(row)
            log.info("epoch %d/%d: loss %.5f, validation %.5f, lr %g, %.1f s", self.epoch, self.settings.epochs,
                     loss, validation, lr, row["seconds"])
            self.write_log()
            self.save_checkpoint()
        self.write_log()  # also when resuming a finished run whose log was deleted (Snakemake re-runs)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.rows

    def _stopped(self) -> bool:
        stop = self.validation is not None and bool(self.stopped.all())
        if stop:
            log.info("early stopping after epoch %d (best validation loss %s)", self.epoch,
                     f"{float(self.best_loss.nanmean()):.5f}")
        return stop

    def write_log(self) -> Path:
        path = self.run_dir / TRAINING_LOG
        with atomic_output(path) as temporary:
            pd.DataFrame(self.rows).to_csv(temporary, index=False)
        return path
