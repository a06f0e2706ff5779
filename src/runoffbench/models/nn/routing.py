"""Gamma unit-hydrograph routing with two learned parameters (Feng et al. 2022; dPL code).

The runoff q of a basin is delayed by a unit hydrograph (UH) with the shape of a gamma density,
sampled at the mid-points of L daily bins (L = 15 days by default)::

    α = max(a, 0) + 0.1,   θ = max(b, 0) + 0.5,   a ∈ [0, 2.9],  b ∈ [0, 6.5]
    w_k = (t_k)^(α−1) exp(−t_k/θ) / (Γ(α) θ^α),    t_k = k + 0.5,  k = 0 … L−1
    h_k = w_k / Σ_j w_j                              (Σ h_k = 1: routing conserves volume)
    Q_t = Σ_{k=0}^{L−1} h_k q_{t−k}                  (causal; q_{t<0} = 0)

a and b come from the parameter network through a sigmoid scaled to :data:`ROUTING_BOUNDS` (the
``routscaLst`` of the dPL code). The convolution runs as a grouped ``conv1d`` (one group per basin)
or through the FFT (zero-padded to T + L − 1, so it is linear, not circular); both give the same
result to rounding. Water still in the UH at the end of a window leaves it after its last day, so
Σ_t Q_t over a window is Σ_t q_t minus that tail.

References
----------
Feng, D., Liu, J., Lawson, K., Shen, C. (2022): Differentiable, learnable, regionalized process-based
    models with multiphysical outputs can approach state-of-the-art hydrologic prediction accuracy.
    Water Resour. Res. 58, e2022WR032404 (routing: mhpi/dPLHBVrelease ``UH_gamma``, ``UH_conv``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from runoffbench.errors import ConfigError

#: physical bounds of the two routing parameters (shape offset a, scale offset b)
ROUTING_BOUNDS: dict[str, tuple[float, float]] = {"a": (0.0, 2.9), "b": (0.0, 6.5)}
#: unit-hydrograph length of the dPL code [days]
DEFAULT_LENGTH = 15
METHODS: tuple[str, ...] = ("conv1d", "fft")


def scale_routing(unit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b) in physical units from ``unit`` (..., 2) in [0, 1]."""
    (a_low, a_high), (b_low, b_high) = ROUTING_BOUNDS["a"], ROUTING_BOUNDS["b"]
    return a_low + unit[..., 0] * (a_high - a_low), b_low + unit[..., 1] * (b_high - b_low)


def gamma_unit_hydrograph(a: torch.Tensor, b: torch.Tensor, length: int = DEFAULT_LENGTH) -> torch.Tensor:
    """The normalised gamma UH h (B, length) of parameters a, b (B,) (module docstring)."""
    alpha = (F.relu(a) + 0.1).unsqueeze(-1)
    theta = (F.relu(b) + 0.5).unsqueeze(-1)
    t = torch.arange(length, dtype=a.dtype, device=a.device) + 0.5
    log_w = (alpha - 1.0) * torch.log(t) - t / theta - torch.lgamma(alpha) - alpha * torch.log(theta)
    return torch.softmax(log_w, dim=-1)  # = w / Σ w, computed stably in log space


def route(q: torch.Tensor, uh: torch.Tensor, method: str = "conv1d") -> torch.Tensor:
    """Causal convolution Q_t = Σ_k h_k q_{t−k} of q (B, T) with per-sample UHs h (B, L)."""
    if method not in METHODS:
        raise ConfigError(f"unknown routing method {method!r}; choose one of {', '.join(METHODS)}")
    batch, steps = q.shape
    length = uh.shape[-1]
    if method == "fft":
        n = steps + length - 1
        spectrum = torch.fft.rfft(q, n=n) * torch.fft.rfft(uh, n=n)
        return torch.fft.irfft(spectrum, n=n)[:, :steps]
    # conv1d computes a cross-correlation: flip the kernel, pad the past with L − 1 zeros
    padded = F.pad(q.unsqueeze(0), (length - 1, 0))
    return F.conv1d(padded, uh.flip(-1).unsqueeze(1), groups=batch).squeeze(0)
