"""Mass-conserving LSTM (MC-LSTM): precipitation is routed through cells that neither create nor delete water.

Hoedt, P.-J. et al. (2021): MC-LSTM: Mass-conserving LSTM. Proc. 38th ICML, PMLR 139, 4275–4286.
Frame, J. M. et al. (2023): On strictly enforced mass conservation constraints for modelling the
rainfall-runoff process. Hydrol. Process. 37, e14847 (Appendix B).
Nearing, G. et al. (2020): A deep learning architecture for conservative dynamical systems: application
to rainfall-runoff modeling. NeurIPS 2020 workshop "AI for Earth Sciences".
Li and Zhao: Robustness of the long short-term memory network in rainfall-runoff prediction improved
by the water balance constraint (eqs. 2–4).

With the mass input x_m,t (precipitation, mm/day, un-normalised), the auxiliary inputs
a_t = [x_d,t ; x_s] (normalised) and the cell states c_{t−1} ≥ 0 (mm), every gate reads the mass
input too (Frame et al. 2023 eqs. B3–B5; Li & Zhao eqs. 2–4; neuralhydrology's ``_MCLSTMCell``), so
that how today's rain is split between the cells can depend on how much rain falls::

    u_t = [g(x_m,t) ; a_t ; c_{t−1} / (Σ_j c_{t−1,j} + ε)]   per-sample L1 normalisation, ε = 1e-5
    i_t = σ(W_i u_t + b_i) / Σ_j σ(W_i u_t + b_i)_j      normalised sigmoid: Σ_j i_t,j = 1
    R_t = row-normalised ReLU(W_r u_t + b_r)             H × H, Σ_k R_t,jk = 1 for every row j
    o_t = σ(W_o u_t + b_o)
    m_t = R_tᵀ c_{t−1} + i_t x_m,t                       (m_t,k = Σ_j c_{t−1,j} R_t,jk + i_t,k x_m,t)
    h_t = o_t ⊙ m_t                                      outflow per cell, mm/day
    c_t = (1 − o_t) ⊙ m_t                                storage per cell, mm
    q_t = Σ_{k ∉ trash} h_t,k        trash_t = Σ_{k ∈ trash} h_t,k

so that Σ_t x_m,t = Σ_t (q_t + trash_t) + Σ_k c_T,k − Σ_k c_0,k exactly (up to rounding). The first
``n_trash`` cells (default 1) are the trash cells: their outflow leaves the basin without becoming
streamflow (evapotranspiration and other losses).

Two defects of the reference implementation are fixed:

1. the cell state entering the gates is normalised **per sample** (Σ over the cells of that sample),
   not by the L1 norm of the whole batch, so a prediction does not depend on the other samples;
2. a row of W_r u_t + b_r whose entries are all ≤ 0 would give a ReLU row of zeros and so delete
   the mass of cell j; such a row falls back to the identity row (cell j keeps its water), which is
   the redistribution the matrix starts from (b_r is initialised to the identity).

g(x_m,t), the mass input as the gates see it, is set by ``mass_gate_input``:

- ``raw`` (default): precipitation in mm/day, as neuralhydrology (and Hoedt et al.'s hydrology
  configuration, which leaves the mass input un-normalised) feed it;
- ``normalised``: the standardised precipitation as an auxiliary input (Nearing et al. 2020 feed it
  both as the conserved input and as a normalised auxiliary input);
- ``both``: raw and standardised.

Cell states and outputs are in mm (``output_in_mm``); the trainer feeds precipitation as ``x_mass``
and, unless ``mass_gate_input`` asks for it, drops it from the normalised ``x_d``. Outputs besides
``q``: ``trash`` (mm/day) and ``storage`` (Σ_k c_t,k, mm).

Config keys: ``hidden_size`` (64, including the trash cells), ``n_trash`` (1), ``mass_gate_input``
(``raw``), ``initial_output_bias`` (+3.0: neuralhydrology puts ``initial_forget_bias`` on the output
gate, and Hoedt et al.'s published configuration sets it to 3 — water leaves the cells readily at
first). ``training: local`` (Li & Zhao) gives every basin its own gate layer — weights
(n_basins, 2H + H², ·) and bias (n_basins, 2H + H²), initialised per basin as the regional layer — and
runs each batch as groups of one basin's samples against its basin's layer (the fused kernel's
per-group form): the k windows of each basin of a local training step as they come, any other batch
(prediction, attributions) sorted by basin and padded to equal groups with empty samples (no water, no
effect on the others), then put back in order. :class:`HybridMCLSTM` is Nearing et al. (2020)'s
variant whose gates read the hidden state of a standard LSTM (regional only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from runoffbench.errors import ConfigError
from runoffbench.models.nn.base import NeuralModel
from runoffbench.models.nn.kernels import mclstm_sequence
from runoffbench.models.nn.lstm import _equal_groups


class MCLSTM(NeuralModel):
    """MC-LSTM with precipitation as mass input and trash cells excluded from streamflow.

    The three gates share one linear layer ``gates`` over u_t = [g(x_m,t) ; a_t ; c_{t−1}/(Σc + ε)]
    whose output is split as [input gate (H) | output gate (H) | redistribution (H·H)]; its weight
    columns are [raw mass input (with ``mass_gate_input`` raw or both) | dynamic auxiliaries | static
    attributes | cell state] — the column order of neuralhydrology's cell. The sequence runs as one fused autograd
    node (:class:`~runoffbench.models.nn.kernels.MCLSTMRecurrence`): the static part of the gates is
    computed once per sample, each day is one gate product and one pass over the redistribution values
    (a numba kernel on the CPU), and the backward pass recomputes the redistribution pre-activations day
    by day instead of keeping T × B × H² values.
    """

    #: the keys of ``models.<name>`` this model reads (anything else is a config error)
    config_keys: ClassVar[frozenset[str]] = frozenset({"hidden_size", "n_trash", "initial_output_bias",
                                                       "mass_gate_input"})

    mass_input = True
    output_in_mm = True
    supports_local = True
    fluxes = {"trash": "mm/day", "storage": "mm"}
    #: values of ``mass_gate_input``: does the gate see the raw / the standardised precipitation
    MASS_GATE_INPUTS: ClassVar[dict[str, tuple[bool, bool]]] = {
        "raw": (True, False), "normalised": (False, True), "both": (True, True)}

    #: ``mass_gate_input`` when the config sets none
    default_mass_gate_input: ClassVar[str] = "raw"

    @classmethod
    def _mass_gate_input(cls, config: Mapping[str, Any]) -> tuple[bool, bool]:
        choice = config.get("mass_gate_input", cls.default_mass_gate_input)
        if choice not in cls.MASS_GATE_INPUTS:
            raise ConfigError(f"models.{config.get('name', 'mclstm')}.mass_gate_input: unknown {choice!r}; "
                              f"known: {', '.join(cls.MASS_GATE_INPUTS)}")
        return cls.MASS_GATE_INPUTS[choice]

    @classmethod
    def normalised_inputs(cls, dynamic_inputs: Sequence[str], config: Mapping[str, Any]) -> list[str]:
        """Standardised precipitation stays among the auxiliaries only with ``mass_gate_input`` asking for it."""
        _, standardised = cls._mass_gate_input(config)
        return [n for n in dynamic_inputs if n != "prcp" or standardised]

    def __init__(self, config: Mapping[str, Any], n_dynamic: int, n_static: int) -> None:
        super().__init__(config, n_dynamic, n_static)
        self.raw_mass_in_gates, _ = self._mass_gate_input(self.config)
        self.hidden_size = hidden = self.option("hidden_size", 64)
        self.n_trash = self.option("n_trash", 1)
        if not 1 <= self.n_trash < hidden:
            raise ConfigError(
                f"models.{self.config.get('name', 'mclstm')}.n_trash: need 1 <= n_trash < hidden_size "
                f"({hidden}), got {self.n_trash}"
            )
        self.n_aux = self._gate_input_width(int(self.raw_mass_in_gates) + n_dynamic, n_static)
        n_in, n_out = self.n_aux + hidden, 2 * hidden + hidden * hidden
        bias = torch.zeros(n_out)
        bias[hidden : 2 * hidden] = self.option("initial_output_bias", 3.0)
        bias[2 * hidden :] = torch.eye(hidden).flatten()
        if self.local:  # one gate layer per basin, each initialised as nn.Linear's
            bound = n_in**-0.5
            self.gates_weight = nn.Parameter(torch.empty(self.n_basins, n_out, n_in).uniform_(-bound, bound))
            self.gates_bias = nn.Parameter(bias.repeat(self.n_basins, 1))
        else:
            self.gates = nn.Linear(n_in, n_out)
            with torch.no_grad():
                self.gates.bias.copy_(bias)

    def _gate_input_width(self, n_dynamic: int, n_static: int) -> int:
        """Auxiliary columns of the gate layer: the dynamic ones (with the raw mass input) and the statics."""
        return n_dynamic + n_static

    def _gate_inputs(self, batch: Mapping[str, torch.Tensor], mass: torch.Tensor):
        """(dynamic (B, T, ·), static (B, ·)) auxiliaries of the gates."""
        x_d = batch["x_d"]
        x_s = batch["x_s"] if self.n_static else x_d.new_zeros(x_d.shape[0], 0)
        return (torch.cat([mass, x_d], dim=-1) if self.raw_mass_in_gates else x_d), x_s

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mass = batch["x_mass"].to(batch["x_d"].dtype)
        dynamic, static = self._gate_inputs(batch, mass)
        if self.local:
            h, c = self._local_sequence(dynamic, static, mass, batch["basin"])
        else:
            h, c = mclstm_sequence(dynamic, static, mass, self.gates.weight, self.gates.bias, self.hidden_size)
        return {
            "q": h[..., self.n_trash :].sum(dim=-1),
            "trash": h[..., : self.n_trash].sum(dim=-1),
            "storage": c.sum(dim=-1),
        }


    def _local_sequence(self, dynamic, static, mass, basin):
        """The recurrence with each sample's basin's gate layer (module docstring): groups of one basin."""
        groups = _equal_groups(basin)
        if groups is not None:  # a local training step: k windows of each basin, one basin after the other
            basins, _ = groups
            return mclstm_sequence(dynamic, static, mass, self.gates_weight[basins], self.gates_bias[basins],
                                   self.hidden_size)
        order = torch.argsort(basin, stable=True)
        basins, counts = torch.unique_consecutive(basin[order], return_counts=True)
        k = int(counts.max())
        first = torch.cumsum(counts, 0) - counts
        rank = torch.arange(len(basin), device=basin.device) - torch.repeat_interleave(first, counts)
        slot = torch.repeat_interleave(torch.arange(len(basins), device=basin.device), counts) * k + rank
        padded = len(basins) * k

        def pad(x):
            out = x.new_zeros(padded, *x.shape[1:])
            return out.index_copy(0, slot, x[order])

        h, c = mclstm_sequence(pad(dynamic), pad(static), pad(mass), self.gates_weight[basins],
                               self.gates_bias[basins], self.hidden_size)
        back = torch.empty_like(order)
        back[order] = slot  # sample i sits at padded row back[i]
        return h[back], c[back]


class HybridMCLSTM(MCLSTM):
    """Nearing et al. (2020)'s MC-LSTM: a standard LSTM whose hidden state feeds every MC gate.

    The LSTM (``lstm_hidden_size`` cells, default ``hidden_size``) reads the auxiliary inputs —
    the standardised precipitation among them (``mass_gate_input: normalised``, the default here:
    precipitation is both the conserved input and a normalised auxiliary input) and the static
    attributes — and the MC gates read its hidden state h_t instead of the raw auxiliaries::

        h_t = LSTM([g(x_m,t) ; x_d,t ; x_s])        u_t = [h_t ; c_{t−1}/(Σc + ε)]

    the mass part (one trash cell by default, q = Σ_{i ≥ 2} h_i) and its conservation are the
    MC-LSTM's. The LSTM does not read the MC cell states, so it runs over the whole window first
    (``torch.nn.LSTM``) and the MC recurrence is the fused kernel with h as its dynamic input.

    Config keys: those of :class:`MCLSTM` and ``lstm_hidden_size``.
    """

    config_keys: ClassVar[frozenset[str]] = MCLSTM.config_keys | {"lstm_hidden_size"}
    default_mass_gate_input: ClassVar[str] = "normalised"
    supports_local = False

    def _gate_input_width(self, n_dynamic: int, n_static: int) -> int:
        self.lstm_hidden_size = self.option("lstm_hidden_size", self.option("hidden_size", 64))
        self.lstm = nn.LSTM(n_dynamic + n_static, self.lstm_hidden_size, batch_first=True)
        return self.lstm_hidden_size

    def _gate_inputs(self, batch: Mapping[str, torch.Tensor], mass: torch.Tensor):
        dynamic, static = super()._gate_inputs(batch, mass)
        inputs = torch.cat([dynamic, static.unsqueeze(1).expand(-1, dynamic.shape[1], -1)], dim=-1)
        hidden, _ = self.lstm(inputs)
        return hidden, hidden.new_zeros(hidden.shape[0], 0)
