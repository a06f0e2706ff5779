"""LSTM on ``torch.nn.LSTM`` (cuDNN on GPU) with a linear head.

Kratzert, F. et al. (2019): Towards learning universal, regional, and local hydrological behaviors via
machine learning applied to large-sample datasets. Hydrol. Earth Syst. Sci. 23, 5089–5110.
Frame, J. M. et al. (2023): On strictly enforced mass conservation constraints for modelling the
rainfall-runoff process. Hydrol. Process. 37, e14847 (Appendix A).

For each day t with input x_t = [x_d,t ; x_s] (the static attributes repeated at every step unless
``use_static: false``)::

    i_t = σ(W_i x_t + U_i h_{t−1} + b_i)      f_t = σ(W_f x_t + U_f h_{t−1} + b_f)
    g_t = tanh(W_g x_t + U_g h_{t−1} + b_g)   o_t = σ(W_o x_t + U_o h_{t−1} + b_o)
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t           h_t = o_t ⊙ tanh(c_t)
    q_t = w · dropout(h_t) + b

with b_f initialised to ``initial_forget_bias`` (so the cell remembers from the start of training).
The output is in normalised target units.

Config keys: ``hidden_size`` (256), ``dropout`` (0.4), ``initial_forget_bias`` (3.0),
``use_static`` (true). Local training (one model per basin) is supported: the weights then carry a
leading basin dimension and the recurrence runs as batched matrix products over basins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from runoffbench.models.nn.base import NeuralModel


class LSTM(NeuralModel):
    """Regional LSTM (``torch.nn.LSTM``) or, with ``training: local``, one LSTM per basin."""

    #: the keys of ``models.<name>`` this model reads (anything else is a config error)
    config_keys: ClassVar[frozenset[str]] = frozenset({"hidden_size", "dropout", "initial_forget_bias",
                                                       "use_static"})

    supports_local = True

    def __init__(self, config: Mapping[str, Any], n_dynamic: int, n_static: int) -> None:
        super().__init__(config, n_dynamic, n_static)
        self.hidden_size = self.option("hidden_size", 256)
        self.use_static = self.option("use_static", True)
        n_inputs = n_dynamic + (n_static if self.use_static else 0)
        forget_bias = self.option("initial_forget_bias", 3.0)
        self.dropout = nn.Dropout(self.option("dropout", 0.4))
        if self.local:
            self.cell = BasinLSTMCells(self.n_basins, n_inputs, self.hidden_size, forget_bias)
            self.head_weight = nn.Parameter(torch.empty(self.n_basins, self.hidden_size))
            self.head_bias = nn.Parameter(torch.zeros(self.n_basins))
            nn.init.uniform_(self.head_weight, -self.hidden_size**-0.5, self.hidden_size**-0.5)
        else:
            self.lstm = nn.LSTM(n_inputs, self.hidden_size, batch_first=True)
            self.head = nn.Linear(self.hidden_size, 1)
            with torch.no_grad():
                self.lstm.bias_hh_l0[self.hidden_size : 2 * self.hidden_size] = forget_bias
                self.lstm.bias_ih_l0[self.hidden_size : 2 * self.hidden_size] = 0.0

    def inputs(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[x_d ; x_s] with the statics repeated along time (or x_d alone)."""
        x_d = batch["x_d"]
        if not self.use_static or self.n_static == 0:
            return x_d
        x_s = batch["x_s"].unsqueeze(1).expand(-1, x_d.shape[1], -1)
        return torch.cat([x_d, x_s], dim=-1)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = self.inputs(batch)
        if self.local:
            basin = batch["basin"]
            h = self.dropout(self.cell(x, basin))
            q = torch.einsum("bth,bh->bt", h, self.head_weight[basin]) + self.head_bias[basin, None]
            return {"q": q}
        h, _ = self.lstm(x)
        return {"q": self.head(self.dropout(h)).squeeze(-1)}


class BasinLSTMCells(nn.Module):
    """LSTM cells with one weight set per basin: W (n_basins, n_inputs, 4H), U (n_basins, H, 4H).

    Sample b uses the weights of basin ``basin[b]``; the input projection of all steps is one
    batched product, the recurrence one batched product per step. Gate order i, f, g, o as in PyTorch.
    A batch of local training (k windows of each of A basins, one basin after the other) runs as A
    groups of k samples against the A weight sets; any other batch gathers one weight set per sample.
    """

    def __init__(self, n_basins: int, n_inputs: int, hidden_size: int, forget_bias: float) -> None:
        super().__init__()
        bound = hidden_size**-0.5
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(n_basins, n_inputs, 4 * hidden_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(n_basins, hidden_size, 4 * hidden_size).uniform_(-bound, bound))
        bias = torch.zeros(n_basins, 4 * hidden_size)
        bias[:, hidden_size : 2 * hidden_size] = forget_bias
        self.bias = nn.Parameter(bias)

    def forward(self, x: torch.Tensor, basin: torch.Tensor) -> torch.Tensor:
        groups = _equal_groups(basin)
        if groups is not None:  # k samples of each of A basins, in runs: (A, k·T) products, no weight copies
            basins, k = groups
            batch, steps, n_inputs = x.shape
            x = x.reshape(len(basins), k * steps, n_inputs)
            projected = torch.baddbmm(self.bias[basins, None, :], x, self.weight_ih[basins])
            projected = projected.view(batch, steps, -1)
            w_hh, rows = self.weight_hh[basins], (len(basins), k)
        else:
            projected = torch.bmm(x, self.weight_ih[basin]) + self.bias[basin, None, :]
            w_hh, rows = self.weight_hh[basin], (x.shape[0], 1)
        h = x.new_zeros(rows[0], rows[1], self.hidden_size)
        c = torch.zeros_like(h)
        outputs = []
        for projected_t in projected.unbind(1):
            gates = projected_t.view(*rows, -1) + torch.bmm(h, w_hh)
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h.reshape(-1, self.hidden_size))
        return torch.stack(outputs, dim=1)


def _equal_groups(basin: torch.Tensor) -> tuple[torch.Tensor, int] | None:
    """(basins, k) if ``basin`` is k samples of each basin in consecutive runs (local training batches)."""
    basins, counts = torch.unique_consecutive(basin, return_counts=True)
    if len(basins) > 1 and (counts != counts[0]).any():
        return None
    if len(torch.unique(basins)) != len(basins):
        return None
    return basins, int(counts[0])
