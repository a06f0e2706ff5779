"""Training losses, registered by name (``models.<name>.loss``).

Every loss is ``loss(prediction, target, basin_std) -> scalar`` with ``prediction`` and ``target`` of
shape (B, T) (T = 1 for sequence-to-one) and ``basin_std`` (B,) the training-period standard deviation
of each sample's basin target in mm/day. Target values that are NaN (gaps inside a
sequence-to-sequence window) are left out.

Units. Each loss declares the units it is computed in (:attr:`Loss.units`); the trainer converts the
model's output and the target to them. ``nse``, ``feng`` and ``nse_squared`` work in mm/day, as the
papers write them (Kratzert et al. 2019 eq. 2 and Frame et al. 2023 eq. 2: s(b) and ε = 0.1 in
mm/day; Feng's log transform of flow in mm/day), whatever the model predicts; ``mse`` works on the
standardised target (the target the LSTM predicts), as Kratzert et al.'s code trains its MSE runs,
so that gradient clipping acts on the published scale.

``nse``
    NSE* (Kratzert et al. 2019, eq. 2): mean of (ŷ − y)² / (σ_b + ε)², ε = 0.1, σ_b the basin's
    training-period standard deviation — every basin weighs the same regardless of its flow variance.
``mse``
    Mean squared error.
``rmse``
    Root mean squared error on the standardised target (Feng et al. 2022's LSTM, hydroDL ``RmseLoss``;
    with ``target_transform: feng`` the target is log10(√q + 0.1) standardised).
``feng``
    Feng et al. (2022, WRR, "Differentiable, learnable, regionalized process-based models with
    multiphysical outputs can approach state-of-the-art hydrologic prediction accuracy", eq. 1, and
    ``RmseLossComb`` of their code): (1 − α)·RMSE(ŷ, y) + α·RMSE(log10(√(ŷ + 10⁻⁶) + 0.1),
    log10(√(y + 10⁻⁶) + 0.1)), α = 0.25; ŷ is clipped at 0 inside the logarithm. In mm/day.
``nse_squared``
    Normalised squared error of Li & Zhao: mean of (ŷ − y)² / σ_b², i.e. the basin's 1 − NSE with the
    training-period variance as reference (no ε, so it equals 1 − NSE summed over a whole period).

Per-basin losses
----------------
Each loss is a :class:`Loss`: K element-wise terms e_k (B, T) and a reduction of their means,
L = ρ(mean e_1, …, mean e_K) — ρ is the identity for the squared errors and
ρ(m₁, m₂) = (1 − α)√m₁ + α√m₂ for ``feng``. :meth:`Loss.sums` accumulates Σ e_k and the element count per
basin (over any number of batches) and :meth:`Loss.reduce` turns them into one loss per basin: the
validation loss of each basin (per-basin early stopping of local training) and the training loss of
local training, Σ_b L_b over the basins of a batch, so that every basin's weights see the gradient of
its own loss only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from runoffbench.errors import ConfigError

NSE_EPSILON = 0.1
FENG_ALPHA = 0.25
#: the units a loss is computed in (:attr:`Loss.units`)
MM_PER_DAY, STANDARDISED = "mm/day", "standardised"

#: (prediction, target, basin_std) → element-wise terms, each (B, T)
Terms = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Sequence[torch.Tensor]]


class Loss:
    """A loss of element-wise terms and a reduction of their means (module docstring)."""

    def __init__(self, name: str, terms: Terms, reduction: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 units: str = MM_PER_DAY) -> None:
        self.name = name
        self.terms = terms
        self.reduction = reduction
        self.units = units

    def _terms(self, prediction, target, basin_std) -> tuple[torch.Tensor, torch.Tensor]:
        """(K, B, T) terms with 0 where the target is NaN, and the (B, T) mask of observed days."""
        observed = ~torch.isnan(target)
        filled = torch.where(observed, target, torch.zeros_like(target))
        terms = torch.stack(list(self.terms(prediction, filled, basin_std.unsqueeze(-1).expand_as(target))))
        return torch.where(observed, terms, torch.zeros_like(terms)), observed

    def reduce(self, sums: torch.Tensor) -> torch.Tensor:
        """Losses from ``sums`` (K + 1, ...) = (Σ e_1, …, Σ e_K, count); NaN where the count is 0."""
        means = sums[:-1] / sums[-1]
        return means[0] if self.reduction is None else self.reduction(means)

    def __call__(self, prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
        terms, observed = self._terms(prediction, target, basin_std)
        count = observed.sum().to(terms.dtype)
        return self.reduce(torch.cat([terms.sum(dim=(1, 2)), count.unsqueeze(0)]))

    def sums(
        self,
        prediction: torch.Tensor,
        target: torch.Tensor,
        basin_std: torch.Tensor,
        basin: torch.Tensor,
        n_basins: int,
    ) -> torch.Tensor:
        """(K + 1, n_basins): per basin Σ of every term and the number of observed elements."""
        terms, observed = self._terms(prediction, target, basin_std)
        per_sample = torch.cat([terms.sum(dim=2), observed.sum(dim=1, dtype=terms.dtype).unsqueeze(0)])
        out = per_sample.new_zeros(per_sample.shape[0], n_basins)
        return out.index_add(1, basin, per_sample)


def _log_sqrt(q: torch.Tensor) -> torch.Tensor:
    return torch.log10(torch.sqrt(q.clamp_min(0.0) + 1e-6) + 0.1)


def _feng_reduction(means: torch.Tensor) -> torch.Tensor:
    return (1.0 - FENG_ALPHA) * torch.sqrt(means[0]) + FENG_ALPHA * torch.sqrt(means[1])


LOSSES: dict[str, Loss] = {
    "nse": Loss("nse", lambda p, y, s: [(p - y) ** 2 / (s + NSE_EPSILON) ** 2]),
    "mse": Loss("mse", lambda p, y, s: [(p - y) ** 2], units=STANDARDISED),
    "rmse": Loss("rmse", lambda p, y, s: [(p - y) ** 2], lambda means: torch.sqrt(means[0]), units=STANDARDISED),
    "feng": Loss("feng", lambda p, y, s: [(p - y) ** 2, (_log_sqrt(p) - _log_sqrt(y)) ** 2], _feng_reduction),
    "nse_squared": Loss("nse_squared", lambda p, y, s: [(p - y) ** 2 / s.clamp_min(1e-6) ** 2]),
}


def nse_star(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """NSE* of Kratzert et al. (2019): per-basin weighted squared error with ε = 0.1."""
    return LOSSES["nse"](prediction, target, basin_std)


def mse(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    return LOSSES["mse"](prediction, target, basin_std)


def feng(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """0.75 · RMSE + 0.25 · RMSE of log10(√(q + 1e-6) + 0.1) (Feng et al. 2022, eq. 1)."""
    return LOSSES["feng"](prediction, target, basin_std)


def normalised_squared_error(prediction: torch.Tensor, target: torch.Tensor, basin_std: torch.Tensor) -> torch.Tensor:
    """(ŷ − y)² / σ_b² averaged (Li & Zhao); σ_b is floored at 1e-6 for constant basins."""
    return LOSSES["nse_squared"](prediction, target, basin_std)


def get_loss(name: str) -> Loss:
    """The loss registered as ``name``; :class:`ConfigError` lists the known names."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ConfigError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}") from None
