"""Entity-aware LSTM (EA-LSTM): the input gate depends on the static attributes only.

Kratzert, F. et al. (2019): Towards learning universal, regional, and local hydrological behaviors via
machine learning applied to large-sample datasets. Hydrol. Earth Syst. Sci. 23, 5089–5110 (eq. 5–10).

With dynamic inputs x_d,t and static attributes x_s of the basin::

    i   = σ(W_i x_s + b_i)                     (computed once per basin: the basin "embedding")
    f_t = σ(W_f x_d,t + U_f h_{t−1} + b_f)     g_t = tanh(W_g x_d,t + U_g h_{t−1} + b_g)
    o_t = σ(W_o x_d,t + U_o h_{t−1} + b_o)
    c_t = f_t ⊙ c_{t−1} + i ⊙ g_t              h_t = o_t ⊙ tanh(c_t)
    q_t = w · dropout(h_t) + b

b_f starts at ``initial_forget_bias``. :meth:`EALSTM.embedding` returns i per basin for analysis
(clustering of the embedding, Kratzert et al. 2019, section 4.3). Output in normalised target units.

The gate layers hold [f | o | g] (as neuralhydrology's); the recurrence runs as one fused autograd
node with a hand-written backward pass (:class:`~runoffbench.models.nn.kernels.EALSTMRecurrence`).

Config keys: ``hidden_size`` (256), ``dropout`` (0.4), ``initial_forget_bias`` (3.0).
Regional training only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from runoffbench.errors import ConfigError
from runoffbench.models.nn.base import NeuralModel
from runoffbench.models.nn.kernels import ealstm_sequence


class EALSTM(NeuralModel):
    """EA-LSTM with a linear head (requires at least one static attribute)."""

    #: the keys of ``models.<name>`` this model reads (anything else is a config error)
    config_keys: ClassVar[frozenset[str]] = frozenset({"hidden_size", "dropout", "initial_forget_bias"})

    def __init__(self, config: Mapping[str, Any], n_dynamic: int, n_static: int) -> None:
        super().__init__(config, n_dynamic, n_static)
        if n_static == 0:
            raise ConfigError(
                f"models.{self.config.get('name', 'ealstm')}.static_attributes: "
                "EA-LSTM needs at least one static attribute (its input gate is computed from them)"
            )
        self.hidden_size = hidden = self.option("hidden_size", 256)
        self.input_gate = nn.Linear(n_static, hidden)
        self.dynamic_gates = nn.Linear(n_dynamic, 3 * hidden)  # f, o, g
        self.recurrent_gates = nn.Linear(hidden, 3 * hidden, bias=False)
        self.dropout = nn.Dropout(self.option("dropout", 0.4))
        self.head = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.recurrent_gates.weight)
        with torch.no_grad():
            self.dynamic_gates.bias.zero_()
            self.dynamic_gates.bias[:hidden] = self.option("initial_forget_bias", 3.0)

    def embedding(self, x_s: torch.Tensor) -> torch.Tensor:
        """The input gate i = σ(W_i x_s + b_i), shape (basins, hidden_size)."""
        return torch.sigmoid(self.input_gate(x_s))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        i = self.embedding(batch["x_s"])
        gates = self.dynamic_gates
        hidden = ealstm_sequence(batch["x_d"].transpose(0, 1), i, gates.weight, gates.bias, self.recurrent_gates.weight)
        return {"q": self.head(self.dropout(hidden)).squeeze(-1).transpose(0, 1)}
