"""Training losses, registered by name (``models.<name>.loss``).

Every loss is ``loss(prediction, target, basin_std) -> scalar`` with ``prediction`` and ``target`` of
shape (B, T) (T = 1 for sequence-to-one) and ``basin_std`` (B,) the training-period standard deviation
of each sample's basin target, in the units of the target. Target values that are NaN (gaps inside a
sequence-to-sequence window) are left out.

``nse``
    NSE* (Kratzert et al. 2019, eq. 2): mean of (ŷ − y)² / (σ_b + ε)², ε = 0.1, σ_b the basin's
    training-period standard deviation — every basin weighs the same regardless of its flow variance.
``mse``
    Mean squared error.
``feng``
    Feng et al. (2022, WRR, "Differentiable, learnable, regionalized process-based models with
    multiphysical outputs can approach state-of-the-art hydrologic prediction accuracy"):
    RMSE(ŷ, y) + α·RMSE(log10(√(ŷ + 10⁻⁶) + 0.1), log10(√(y + 10⁻⁶) + 0.1)), α = 0.25; ŷ is clipped
    at 0 inside the logarithm. Meant for targets in mm/day.
``nse_squared``
    Normalised squared error of Li & Zhao: mean of (ŷ − y)² / σ_b², i.e. the basin's 1 − NSE with the
    training-period variance as reference (no ε, so it equals 1 − NSE summed over a whole period).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from runoffbench.errors import ConfigError

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

NSE_EPSILON = 0.1
FENG_ALPHA = 0.25


def _valid(prediction: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mask = ~torch.isnan(target)
    return prediction[mask], target[mask]


def _weighted_squared_error(prediction, target, weight):
    mask = ~torch.isnan(target)
    weight = weight.unsqueeze(-1).expand_as(target)
    return ((prediction[mask] - target[mask]) ** 2 * weight[mask]).mean()


def nse_star(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """NSE* of Kratzert et al. (2019): per-basin weighted squared error with ε = 0.1."""
    return _weighted_squared_error(prediction, target, 1.0 / (basin_std + NSE_EPSILON) ** 2)


def mse(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    prediction, target = _valid(prediction, target)
    return ((prediction - target) ** 2).mean()


def _log_sqrt(q: torch.Tensor) -> torch.Tensor:
    return torch.log10(torch.sqrt(q.clamp_min(0.0) + 1e-6) + 0.1)


def feng(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """RMSE + 0.25 · RMSE of log10(√(q + 1e-6) + 0.1) (Feng et al. 2022)."""
    prediction, target = _valid(prediction, target)
    rmse = torch.sqrt(((prediction - target) ** 2).mean())
    log_rmse = torch.sqrt(((_log_sqrt(prediction) - _log_sqrt(target)) ** 2).mean())
    return rmse + FENG_ALPHA * log_rmse


def normalised_squared_error(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """(ŷ − y)² / σ_b² averaged (Li & Zhao); σ_b is floored at 1e-6 for constant basins."""
    return _weighted_squared_error(prediction, target, 1.0 / basin_std.clamp_min(1e-6) ** 2)


LOSSES: dict[str, Loss] = {
    "nse": nse_star,
    "mse": mse,
    "feng": feng,
    "nse_squared": normalised_squared_error,
}


def get_loss(name: str) -> Loss:
    """The loss registered as ``name``; :class:`ConfigError` lists the known names."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ConfigError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}") from None
