"""Robustness to noisy catchment attributes (Kratzert et al. 2019, Sect. 3.3 and Fig. 6).

Gaussian noise of standard deviation σ is added to the standardised static inputs of a trained run
(contract 5) and the test period is predicted again, ``draws`` times per basin and σ; each draw is
scored with the NSE. As in the authors' code (``eval_robustness``), every basin and repetition gets
its own noise vector ε ~ N(0, σ² I) over all static inputs, σ = 0 is the unperturbed run, and the
predictions go through the run's own prediction path (spin-up, normalisation, negative flow set to
0). The draws are batched: ``draws_per_batch`` copies of the basins with their own noisy attributes
form one prediction batch (no Python loop over basins or days), so the full paper (531 basins ×
10 σ × 50 draws) is 500 batches of 531 × 10 "basins" per network.

Result (contract 6): one row per basin, σ and draw with its NSE, ``results/<experiment>/analyses/
<id>/<model>/<forcing>/<split>/<member>.csv``; registered as the kind ``static_noise`` of
:mod:`runoffbench.analysis.registry` (:func:`noise_table`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from runoffbench.errors import ConfigError

log = logging.getLogger(__name__)

#: Kratzert et al. 2019, Fig. 6: σ = 0.1 … 1.0 and 50 draws per basin and σ
PAPER_SIGMAS = tuple(round(0.1 * k, 1) for k in range(1, 11))
PAPER_DRAWS = 50


def nse_rows(qobs: np.ndarray, qsim: np.ndarray) -> np.ndarray:
    """NSE of every row of (n, days) arrays over the days where both are finite (NaN if undefined)."""
    valid = np.isfinite(qobs) & np.isfinite(qsim)
    obs = np.where(valid, qobs, 0.0)
    count = valid.sum(axis=1)
    mean = obs.sum(axis=1) / np.maximum(count, 1)
    error = np.where(valid, (qsim - qobs) ** 2, 0.0).sum(axis=1)
    variance = np.where(valid, (qobs - mean[:, None]) ** 2, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((count > 1) & (variance > 0), 1.0 - error / variance, np.nan)


def _replicated(tensors, copies: int, x_s: torch.Tensor):
    """``tensors`` with its basins repeated ``copies`` times and the static inputs ``x_s``."""
    batch = copy.copy(tensors)
    for name in ("x_d", "x_mass", "x_raw", "y"):
        value = getattr(tensors, name)
        if value is not None:
            setattr(batch, name, value.repeat(copies, *([1] * (value.dim() - 1))))
    batch.basin_std = tensors.basin_std.repeat(copies)
    batch.x_s = x_s
    return batch


def static_noise_nse(run, tensors, sigmas: Sequence[float], draws: int, seed: int, draws_per_batch: int,
                     batch_size: int) -> pd.DataFrame:
    """NSE of every basin under ``draws`` noise draws per σ (and σ = 0 once): columns basin, sigma, draw, NSE.

    ``run`` is a :class:`~runoffbench.training.saved_run.TrainedRun`, ``tensors`` the
    :class:`~runoffbench.training.data.PeriodTensors` of its test period.
    """
    from runoffbench.training.predict import predict

    n_static = tensors.x_s.shape[-1]
    if run.settings.training == "local":
        raise ConfigError(f"static-attribute noise: {run.run_dir} is a local (per-basin) run; its basins' own "
                          "weights cannot be replicated with other attributes")
    if n_static == 0:
        raise ConfigError(f"static-attribute noise needs a model with static inputs; {run.run_dir} has none "
                          f"(models.{run.settings.name}.static_attributes is empty)")
    if draws < 1 or draws_per_batch < 1 or any(s < 0 for s in sigmas):
        raise ConfigError(f"static-attribute noise: draws ({draws}) and draws_per_batch ({draws_per_batch}) must be "
                          f">= 1 and every sigma >= 0 (got {list(sigmas)})")
    basins = list(run.config["basins"])
    n_basins = len(basins)
    rng = np.random.default_rng(seed)
    jobs = [(0.0, 0)] + [(float(sigma), draw) for sigma in sigmas for draw in range(draws)]
    rows = []
    for first in tqdm(range(0, len(jobs), draws_per_batch), desc="static-attribute noise", unit="batch",
                      mininterval=5):
        chunk = jobs[first : first + draws_per_batch]
        scales = np.repeat([sigma for sigma, _ in chunk], n_basins)[:, None]
        noise = rng.normal(0.0, 1.0, (len(chunk) * n_basins, n_static)) * scales
        x_s = tensors.x_s.repeat(len(chunk), 1) + torch.as_tensor(noise, dtype=tensors.x_s.dtype, device=tensors.device)
        arrays = predict(run.model, _replicated(tensors, len(chunk), x_s), run.normalisation, batch_size,
                         clip_negative=run.settings.clip_negative_flow)
        scores = nse_rows(arrays["qobs"].astype("float64"), arrays["qsim"].astype("float64"))
        for k, (sigma, draw) in enumerate(chunk):
            rows.append(pd.DataFrame({"basin": basins, "sigma": sigma, "draw": draw,
                                      "NSE": scores[k * n_basins : (k + 1) * n_basins]}))
    log.info("%d predictions of %d basins under noise (sigmas %s, %d draws, seed %d)", len(jobs), n_basins,
             list(sigmas), draws, seed)
    return pd.concat(rows, ignore_index=True)


def noise_table(run, tensors, sigmas: Sequence[float] = PAPER_SIGMAS, draws: int = PAPER_DRAWS, seed: int = 0,
                draws_per_batch: int = 10) -> pd.DataFrame:
    """The registered per-run function (:mod:`runoffbench.analysis.registry`, kind ``static_noise``):
    :func:`static_noise_nse` with as many windows per batch as the run predicts at once per copy."""
    from runoffbench.training.run import prediction_batch_size

    batch_size = prediction_batch_size(run.settings, len(run.config["basins"]) * draws_per_batch)
    return static_noise_nse(run, tensors, sigmas, draws, seed, draws_per_batch, batch_size)


def analyse_run(run_dir, sigmas: Sequence[float] = PAPER_SIGMAS, draws: int = PAPER_DRAWS, seed: int = 0,
                draws_per_batch: int = 10, cache=None, device: str = "cpu") -> pd.DataFrame:
    """:func:`static_noise_nse` of the saved run ``run_dir`` over its test period, with the run's model,
    forcing, split, member and the seed as columns (:func:`runoffbench.analysis.registry.analyse_run`)."""
    from runoffbench.analysis.registry import analyse_run as registered

    return registered("static_noise", run_dir, {"sigmas": list(sigmas), "draws": draws, "seed": seed,
                                                 "draws_per_batch": draws_per_batch}, cache=cache, device=device)
