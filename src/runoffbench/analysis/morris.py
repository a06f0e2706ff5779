"""Sensitivity of a network to its static inputs (Kratzert et al. 2019, Sect. 2.7 and 3.4, Fig. 7, Table 4).

As in the paper's variant of the method of Morris (1991), the elementary effects are the gradients of
the predicted flow with respect to the standardised static inputs: for every test day t of a basin,
∂q̂_t/∂x_s (autograd through the reloaded network, contract 5, in evaluation mode), then per basin the
mean of their absolute values over the test days. Each basin's values are divided by its largest, so
the most sensitive attribute of every basin has sensitivity 1 (rank 1) and the basins weigh alike in
the ranking over basins (Table 4: the attributes ordered by the mean of these normalised values).

Batched: every (basin, test day) is one sequence-to-one window, ``windows_per_batch`` of them are one
forward and one backward pass. A window's static inputs are its own leaf tensor, so the gradient of the
sum of the batch's outputs is, row by row, each window's own ∂q̂_t/∂x_s — no Python loop over days or
basins. Days whose window lacks an input are left out (as in prediction). The flow is in mm/day (the
network's output de-standardised), before negative values are set to 0, and the gradients are per unit
of the standardised attribute. A sequence-to-sequence network predicts all days from one pass and
would need a backward pass per day; the registry requires ``mode: seq2one`` (the paper's setting).

Result (contract 6): a row per basin and attribute — ``basin, attribute, sensitivity, rank, gradient``
(the un-normalised mean absolute gradient in mm/day per standard deviation of the attribute).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from runoffbench.errors import DataError

log = logging.getLogger(__name__)


def complete_windows(tensors) -> tuple[torch.Tensor, torch.Tensor]:
    """Basin and end index of every window ending in the test period whose inputs are all present."""
    ok = torch.isfinite(tensors.x_d).all(-1) & torch.isfinite(tensors.x_mass).all(-1)
    if tensors.x_raw is not None:
        ok &= torch.isfinite(tensors.x_raw).all(-1)
    if tensors.x_s.numel():
        ok &= torch.isfinite(tensors.x_s).all(-1, keepdim=True)
    bad = torch.nn.functional.pad((~ok).to(torch.int64).cumsum(dim=1), (1, 0))
    ends = torch.arange(max(tensors.offset, tensors.length - 1), tensors.x_d.shape[1], device=tensors.device)
    complete = (bad[:, ends + 1] - bad[:, ends - tensors.length + 1]) == 0
    basin, end = torch.nonzero(complete, as_tuple=True)
    return basin, ends[end]


def mean_absolute_gradients(model, tensors, windows_per_batch: int, target_std: float = 1.0) -> np.ndarray:
    """(basins, static inputs): the mean over the test days of |∂q̂_t/∂x_s| (NaN for a basin without a
    complete window); the output is multiplied by ``target_std`` (de-standardised flow)."""
    n_basins, n_static = tensors.x_s.shape
    basin, end = complete_windows(tensors)
    sums = torch.zeros(n_basins, n_static, dtype=torch.float64, device=tensors.device)
    counts = torch.zeros(n_basins, dtype=torch.float64, device=tensors.device)
    frozen = [p for p in model.parameters() if p.requires_grad]
    model.eval()
    try:
        for parameter in frozen:  # only the inputs' gradients are needed
            parameter.requires_grad_(False)
        # cuDNN's LSTM runs its backward pass in training mode only; the native kernel is the same network
        with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
            for first in range(0, len(basin), windows_per_batch):
                b, e = basin[first : first + windows_per_batch], end[first : first + windows_per_batch]
                batch = tensors.gather(b, e)
                x_s = batch["x_s"].detach().clone().requires_grad_(True)
                batch["x_s"] = x_s
                q = model(batch)["q"][:, -1]
                (gradient,) = torch.autograd.grad(q.sum(), x_s)
                sums.index_add_(0, b, gradient.abs().to(torch.float64))
                counts.index_add_(0, b, torch.ones_like(b, dtype=torch.float64))
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)
    return (sums / counts[:, None]).cpu().numpy() * target_std  # 0 / 0: NaN


def normalise(gradients: np.ndarray) -> np.ndarray:
    """Each row divided by its largest value (NaN for a row whose largest is 0 or NaN)."""
    largest = np.where(np.isfinite(gradients), gradients, -np.inf).max(axis=1, initial=-np.inf)
    largest = np.where(largest > 0, largest, np.nan)
    return gradients / largest[:, None]


def sensitivity_table(run, tensors, windows_per_batch: int = 0) -> pd.DataFrame:
    """The registered per-run function (kind ``morris``): a row per basin and static input with its
    normalised ``sensitivity``, its ``rank`` within the basin (1: most sensitive) and the ``gradient``."""
    from runoffbench.training.run import prediction_batch_size

    names = list(run.normalisation.static_names)
    if not names:
        raise DataError(f"morris: {run.run_dir} has no static inputs")
    size = windows_per_batch or prediction_batch_size(run.settings, len(run.config["basins"]))
    scale = 1.0 if run.model.output_in_mm else float(run.normalisation.target_std)
    gradients = mean_absolute_gradients(run.model, tensors, size, scale)
    sensitivity = normalise(gradients)
    basins = list(run.config["basins"])
    table = pd.DataFrame({"basin": np.repeat(basins, len(names)), "attribute": names * len(basins),
                          "sensitivity": sensitivity.ravel(), "gradient": gradients.ravel()})
    table.insert(3, "rank", table.groupby("basin")["sensitivity"].rank(ascending=False, method="min"))
    log.info("morris: gradients of %d basins x %d static inputs", len(basins), len(names))
    return table


def rank_attributes(table: pd.DataFrame) -> pd.DataFrame:
    """Table 4: per model (and forcing and split, where the table has several), the attributes ordered by
    their mean normalised sensitivity over the basins (and members): ``attribute, sensitivity, rank``."""
    missing = [c for c in ("basin", "attribute", "sensitivity") if c not in table.columns]
    if missing:
        raise DataError(f"morris ranking: the table lacks {missing} (runoffbench analyse morris)")
    keys = [c for c in ("model", "forcing", "split") if c in table.columns]
    per_basin = table.groupby([*keys, "basin", "attribute"], sort=False)["sensitivity"].mean().reset_index()
    means = per_basin.groupby([*keys, "attribute"], sort=False)["sensitivity"].agg(["mean", "count"]).reset_index()
    means = means.rename(columns={"mean": "sensitivity", "count": "basins"})
    means = means.sort_values([*keys, "sensitivity"], ascending=[True] * len(keys) + [False], kind="stable")
    ranks = means.groupby(keys)["sensitivity"] if keys else means["sensitivity"]
    means["rank"] = ranks.rank(ascending=False, method="min").astype(int)
    return means.reset_index(drop=True)


def morris_summary(table: pd.DataFrame, attributes=None) -> dict[str, pd.DataFrame]:
    """The experiment-level products of kind ``morris``: ``ranking`` (:func:`rank_attributes`)."""
    return {"ranking": rank_attributes(table)}


def ranking_table(table: pd.DataFrame, models=None):
    """Table 4 (output kind ``morris_ranking``): the ranking of :func:`rank_attributes` — its product
    ``tables/<id>_ranking.csv``, or the per-basin table, which is ranked first — as a
    :class:`~runoffbench.evaluation.tables.BuiltTable`, a block per model (and forcing and split, where
    there are several); ``models`` labels and orders the models (:mod:`runoffbench.plots.labels`)."""
    from runoffbench.evaluation.tables import BuiltTable
    from runoffbench.plots.labels import run_labels

    if "basin" in table.columns:
        table = rank_attributes(table)
    missing = [c for c in ("attribute", "sensitivity", "rank") if c not in table.columns]
    if missing:
        raise DataError(f"morris ranking table: the table lacks {missing} (tables/<id>_ranking.csv of a morris "
                        "analysis)")
    keys = [c for c in ("model", "forcing", "split") if c in table.columns and (c == "model" or table[c].nunique() > 1)]
    if "model" in table.columns:  # the display labels, sorted in their order
        labels = run_labels(table["model"].astype(str), models)
        table = table.assign(model=pd.Categorical(table["model"].astype(str).map(labels),
                                                  categories=list(dict.fromkeys(labels.values())), ordered=True))
    ranked = table.sort_values([*keys, "rank"], kind="stable")
    shown = pd.DataFrame({
        **({"model": ranked[keys].astype(str).agg(", ".join, axis=1)} if keys else {}),
        "rank": ranked["rank"].astype(int).to_numpy(),
        "attribute": ranked["attribute"].to_numpy(),
        "mean sensitivity": [f"{v:.3f}" for v in ranked["sensitivity"]],
        **({"basins": ranked["basins"].astype(int).to_numpy()} if "basins" in ranked.columns else {}),
    })
    return BuiltTable(shown.reset_index(drop=True),
                      "Static attributes ranked by their sensitivity: the mean over basins (and seeds) of the mean "
                      "absolute gradient of the predicted flow with respect to the standardised attribute, each basin "
                      "divided by its largest (Kratzert et al. 2019, Table 4).",
                      ("mean sensitivity: 1 for an attribute that is the most sensitive one in every basin; basins: "
                       "the basins averaged over.",), group="model" if keys else None)
