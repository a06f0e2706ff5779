"""A tiny forcing cache for the trainer tests: three basins, gamma precipitation and streamflow as an
exponentially smoothed precipitation (a linear reservoir the networks can learn in a few steps)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.training import trainer as trainer_module

BASINS = ["01000001", "02000002", "03000003"]
LATITUDES = [40.0, 35.0, 45.0]


def training_forcings(dates: pd.DatetimeIndex, seed: int, qobs_scale: Sequence[float] = (1, 1, 1)) -> dict:
    """(basin, date) float32 arrays of every forcing variable and ``qobs`` (times ``qobs_scale`` per basin)."""
    rng = np.random.default_rng(seed)
    shape = (len(BASINS), len(dates))
    values = {v: rng.normal(10, 3, shape).astype("float32") for v in FORCING_VARIABLES}
    values["prcp"] = rng.gamma(0.5, 6, shape).astype("float32")
    values["tmin"] = values["tmax"] - 8
    kernel = np.exp(-np.arange(20) / 5.0) / 5.0
    values["qobs"] = np.stack(
        [np.convolve(p, kernel)[: len(dates)] * scale for p, scale in zip(values["prcp"], qobs_scale)]
    ).astype("float32")
    return values


def write_training_cache(path, dates: pd.DatetimeIndex, values: dict) -> None:
    """``values`` (from :func:`training_forcings`, possibly edited) as a forcing cache at ``path``."""
    cache = xr.Dataset(
        {k: (("basin", "date"), v) for k, v in values.items()},
        coords={"basin": BASINS, "date": dates, "lat": ("basin", LATITUDES)},
    )
    cache.to_netcdf(path)


def write_training_attributes(path) -> None:
    """``attributes.nc`` of :data:`BASINS` with two numeric attributes (``p_mean``, ``aridity``)."""
    xr.Dataset({"p_mean": ("basin", [2.0, 3.0, 1.0]), "aridity": ("basin", [1.0, 0.5, 0.8])},
               coords={"basin": BASINS}).to_netcdf(path)


def run_killed(monkeypatch, run: Callable[[], Path], after_epoch: int) -> None:
    """``run()`` killed (KeyboardInterrupt) right after the checkpoint of ``after_epoch``."""
    save = trainer_module.Trainer.save_checkpoint

    def killed(self):
        path = save(self)
        if self.epoch == after_epoch:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(trainer_module.Trainer, "save_checkpoint", killed)
    with pytest.raises(KeyboardInterrupt):
        run()
    monkeypatch.setattr(trainer_module.Trainer, "save_checkpoint", save)


def run_killed_and_resumed(monkeypatch, run: Callable[[], Path], after_epoch: int = 2) -> Path:
    """``run()`` killed right after the checkpoint of ``after_epoch``, then ``run()`` again (it resumes)."""
    run_killed(monkeypatch, run, after_epoch)
    return run()


def clipped_gradients(trainer, batch: dict) -> dict:
    """Every parameter's gradient after one batch's loss and the trainer's clipping (copies)."""
    trainer.model.zero_grad()
    trainer.batch_loss(batch).backward()
    trainer._clip()
    return {name: p.grad.clone() for name, p in trainer.model.named_parameters()}
