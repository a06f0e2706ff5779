"""The δ models of Feng et al. (2022): an LSTM parameter network driving differentiable HBV.

A parameter network g (linear + ReLU, LSTM, dropout, linear; Feng et al.'s ``CudnnLstmModel``) reads
the normalised dynamic inputs and the static attributes, x_t = [x_d,t ; x_s], and outputs, through a
sigmoid, unit-scaled HBV parameters for each of C components plus the two routing parameters::

    u_t = σ(g(x_1 … x_t)) ∈ (0, 1)^(n·C + 2),     θ = θ_min + u (θ_max − θ_min)

Static parameters (and routing) take g's output on one day of the window: the last one in training
(Feng et al.'s code, ``staind = −1``), and in test-period prediction the last day of the spin-up
before the test period (``batch["static_day"]``, set by :func:`runoffbench.training.predict.predict`):
with the spin-up over the training period that is the network's output at the end of the training
period, Feng et al. 2022's test protocol, and flow on a test day never depends on later forcings.
Dynamic parameters (β^t, γ^t) take each day's output. HBV (:mod:`~runoffbench.models.nn.hbv`; on the CPU as the
fused recursion of :mod:`~runoffbench.models.nn.hbv_kernel`, except δn(NN_r)) runs the C components on
the raw precipitation, mean temperature and Hargreaves (1985) PET of ``x_raw`` (computed by the data
path with :func:`runoffbench.models.conceptual.pet.hargreaves`); the component mean of the runoff is
routed by a gamma unit hydrograph (:mod:`~runoffbench.models.nn.routing`).

Warm-up (sequence-to-sequence training): the first ``warmup`` days of every window (365 in the
paper; all of the window if it is shorter) run without gradient to spin up the stores from
:data:`~runoffbench.models.nn.hbv.INITIAL_STORAGE`; the rest runs with gradient from those stores.
The trainer computes the loss after the same warm-up: it completes the model config with
``warmup`` (the ``models.<name>.warmup`` setting, ``mode: seq2seq``); without it the model uses
:attr:`DeltaHBV.default_warmup` = 365.

Variants (config key ``variant``, Feng et al. 2022, Table 1):

=========================  ============  =================================================
variant                    paper         structure
=========================  ============  =================================================
``dpl_hbv``                dPL+HBV (δ1)  1 component, static parameters, γ = 1
``delta_n``                δn            C components (``components``, 16), static, γ = 1
``delta_n_beta_t``         δn(β^t)       dynamic β, static γ
``delta_n_gamma_t``        δn(γ^t)       dynamic ET shape γ, static β
``delta_n_gamma_t_beta_t`` δn(γ^t,β^t)   dynamic β and γ
``delta_n_nn_r``           δn(NN_r)      static, γ learned, recharge fraction from a network
=========================  ============  =================================================

Every variant with dynamic parameters or a neural recharge learns the ET shape γ (Feng et al. 2022
use γ in all of them); dPL+HBV and δn keep γ = 1, the original HBV.

δn(NN_r) replaces the effective-rainfall fraction (SM/FC)^β by a network with the inputs of Feng et
al. 2022, Table 1 — θ_FC, β, S_s, S_s/θ_FC and P_r + I_snow::

    r = σ(MLP(FC/FC_max, u_β, SM/FC_max, SM/FC, ln(1 + P_in)))

with P_in = rain + snowmelt reaching the soil, u_β the unit-scaled β and FC_max = 1000 mm the upper
bound of FC. Two deviations, for the conditioning of the network's inputs only: FC and SM are
divided by FC_max and P_in is log-transformed (mm/day values of 0–100 into a tanh layer would
saturate it). One MLP (``recharge_hidden`` tanh units) shared by all basins and components; r ∈
(0, 1) multiplies the water input, so the water balance still closes (the mass-conserving form).

Outputs (B, T): ``q`` routed streamflow [mm/day] and the unrouted component means of ``et``
(actual ET), ``q0`` (upper-zone fast flow), ``q1`` (upper-zone interflow), ``baseflow`` (Q2, lower
zone) [mm/day] and ``swe`` (snowpack + liquid water in the pack) [mm]; also ``q_components``
(B, T, C), the unrouted runoff of every component, and the dynamic parameters of the variant,
``beta_t`` (β^t, the shape of the recharge function, in [1, 6]) and ``gamma_t`` (γ^t, the ET shape, in
[0.3, 5]), each (B, T, C): day t's value of every component (:attr:`DeltaHBV.component_outputs`,
written to the predictions with dims ``(basin, date, component)``; a static parameter is not written).

Config keys: ``variant`` (``delta_n_gamma_t_beta_t``), ``components`` (16; 1 for ``dpl_hbv``),
``hidden_size`` (256), ``dropout`` (0.5), ``routing`` (true), ``uh_length`` (15),
``routing_method`` (``conv1d`` or ``fft``), ``recharge_hidden`` (16), ``warmup`` (365).

References
----------
Feng, D., Liu, J., Lawson, K., Shen, C. (2022): Differentiable, learnable, regionalized process-based
    models with multiphysical outputs can approach state-of-the-art hydrologic prediction accuracy.
    Water Resour. Res. 58, e2022WR032404 (code: mhpi/dPLHBVrelease).
Hargreaves, G. H., Samani, Z. A. (1985): Reference crop evapotranspiration from temperature. Appl. Eng.
    Agric. 1(2), 96–99.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn

from runoffbench.errors import ConfigError
from runoffbench.models.nn import hbv, hbv_kernel, routing
from runoffbench.models.nn.base import RAW_FORCINGS, ProcessModel


class Variant(NamedTuple):
    """What distinguishes the δ models: components, dynamic parameters, γ, neural recharge."""

    paper_name: str
    single_component: bool
    dynamic: frozenset[str]
    learn_gamma: bool
    nn_recharge: bool


VARIANTS: dict[str, Variant] = {
    "dpl_hbv": Variant("dPL+HBV (δ1)", True, frozenset(), False, False),
    "delta_n": Variant("δn", False, frozenset(), False, False),
    "delta_n_beta_t": Variant("δn(β^t)", False, frozenset({"beta"}), True, False),
    "delta_n_gamma_t": Variant("δn(γ^t)", False, frozenset({"gamma"}), True, False),
    "delta_n_gamma_t_beta_t": Variant("δn(γ^t,β^t)", False, frozenset({"beta", "gamma"}), True, False),
    "delta_n_nn_r": Variant("δn(NN_r)", False, frozenset(), True, True),
}
_PRCP, _TEMP, _PET = (RAW_FORCINGS.index(name) for name in ("prcp", "tmean", "pet"))
#: the dynamic parameters written as outputs: units and long name
COMPONENT_OUTPUTS: dict[str, tuple[str, str]] = {
    "beta": ("1", "dynamic HBV parameter beta^t (shape of the recharge function (SM/FC)^beta) per component"),
    "gamma": ("1", "dynamic HBV parameter gamma^t (shape of the ET function (SM/(LP FC))^gamma) per component"),
}


def get_variant(name: str) -> Variant:
    """The variant called ``name``; :class:`ConfigError` lists the valid ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        valid = ", ".join(f"{key} ({variant.paper_name})" for key, variant in VARIANTS.items())
        raise ConfigError(f"unknown δ-model variant {name!r}; valid: {valid}") from None


class ParameterNetwork(nn.Module):
    """Feng et al.'s parameter LSTM: linear + ReLU, LSTM, dropout, linear (raw, pre-sigmoid output)."""

    def __init__(self, n_inputs: int, hidden_size: int, n_outputs: int, dropout: float) -> None:
        super().__init__()
        self.inflow = nn.Linear(n_inputs, hidden_size)
        self.lstm = nn.LSTM(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(torch.relu(self.inflow(x)))
        return self.head(self.dropout(h))


class RechargeNetwork(nn.Module):
    """δn(NN_r): r = σ(MLP(FC/FC_max, u_β, SM/FC_max, SM/FC, ln(1 + P_in))), element-wise on (B, C)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(5, hidden_size), nn.Tanh(), nn.Linear(hidden_size, 1))
        self.fc_max = hbv.PARAMETER_BOUNDS["fc"][1]

    def forward(self, soil: torch.Tensor, fc: torch.Tensor, water_input: torch.Tensor,
                unit_beta: torch.Tensor) -> torch.Tensor:
        features = torch.stack([fc / self.fc_max, unit_beta, soil / self.fc_max,
                                torch.clamp(soil, min=hbv.WETNESS_FLOOR) / fc, torch.log1p(water_input)], dim=-1)
        return torch.sigmoid(self.mlp(features)).squeeze(-1)


class DeltaHBV(ProcessModel):
    """δ models: LSTM-parameterised multi-component HBV with gamma UH routing (module docstring)."""

    #: the keys of ``models.<name>`` this model reads (anything else is a config error)
    config_keys: ClassVar[frozenset[str]] = frozenset({"variant", "components", "hidden_size", "dropout", "routing",
                                                       "uh_length", "routing_method", "recharge_hidden"})

    fluxes: ClassVar[Mapping[str, str]] = {
        "et": "mm/day", "q0": "mm/day", "q1": "mm/day", "baseflow": "mm/day", "swe": "mm",
    }
    #: the parameter network's inputs in Feng et al. 2022: P, T_mean, E_p (Hargreaves), + attributes
    default_dynamic_inputs: ClassVar[tuple[str, ...]] = ("prcp", "tmean", "pet")

    def __init__(self, config: Mapping[str, Any], n_dynamic: int, n_static: int) -> None:
        super().__init__(config, n_dynamic, n_static)
        self.variant_name = self.option("variant", "delta_n_gamma_t_beta_t")
        self.variant = get_variant(self.variant_name)
        self.components = self._components()
        self.warmup = self.option("warmup", self.default_warmup)
        self.use_routing = self.option("routing", True)
        self.uh_length = self.option("uh_length", routing.DEFAULT_LENGTH)
        self.routing_method = self.option("routing_method", "conv1d")
        if self.routing_method not in routing.METHODS:
            raise ConfigError(f"models.{self._name()}.routing_method: unknown {self.routing_method!r}; "
                              f"choose one of {', '.join(routing.METHODS)}")
        self.learned = tuple(n for n in hbv.PARAMETER_NAMES if n != "gamma" or self.variant.learn_gamma)
        n_outputs = len(self.learned) * self.components + (2 if self.use_routing else 0)
        self.parameter_network = ParameterNetwork(
            n_dynamic + n_static, self.option("hidden_size", 256), n_outputs, self.option("dropout", 0.5)
        )
        self.recharge = RechargeNetwork(self.option("recharge_hidden", 16)) if self.variant.nn_recharge else None
        #: the dynamic parameters as outputs (B, T, C), contract 2's component variables
        self.component_outputs = {f"{name}_t": COMPONENT_OUTPUTS[name] for name in hbv.PARAMETER_NAMES
                                  if name in self.variant.dynamic}

    def _name(self) -> str:
        return self.config.get("name", type(self).__name__)

    def _components(self) -> int:
        default = 1 if self.variant.single_component else 16
        components = self.option("components", default)
        if components < 1 or (self.variant.single_component and components != 1):
            allowed = "1" if self.variant.single_component else "a positive integer"
            raise ConfigError(f"models.{self._name()}.components: {self.variant_name} needs {allowed}, "
                              f"got {components}")
        return components

    def physical_parameters(
        self, batch: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """The parameters of a batch.

        Returns:
            HBV parameters (B, T', 13, C) in physical units (T' = T with dynamic parameters, else 1;
            γ = 1 where the variant does not learn it), the routing parameters (a, b) as (B, 2) (None
            without routing) and the unit-scaled β (B, T', C).
        """
        x_d = batch["x_d"]
        x = x_d if self.n_static == 0 else torch.cat([x_d, batch["x_s"].unsqueeze(1).expand(-1, x_d.shape[1], -1)], -1)
        raw = self.parameter_network(x)
        batch_size, steps, _ = raw.shape
        static_day = int(batch.get("static_day", steps - 1)) % steps
        n_hbv = len(self.learned) * self.components
        unit = torch.sigmoid(raw[..., :n_hbv]).view(batch_size, steps, len(self.learned), self.components)
        length = steps if self.variant.dynamic else 1
        columns, unit_beta = [], None
        for name in hbv.PARAMETER_NAMES:
            if name not in self.learned:  # γ = 1: the original HBV evapotranspiration
                columns.append(unit.new_ones(batch_size, length, self.components))
                continue
            series = unit[:, :, self.learned.index(name)]
            if name not in self.variant.dynamic:
                series = series[:, static_day : static_day + 1].expand(-1, length, -1)
            columns.append(hbv.scale_parameter(name, series))
            unit_beta = series if name == "beta" else unit_beta
        route = None
        if self.use_routing:
            route = torch.stack(routing.scale_routing(torch.sigmoid(raw[:, static_day, n_hbv:])), dim=-1)
        return torch.stack(columns, dim=2), route, unit_beta

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        params, route, unit_beta = self.physical_parameters(batch)
        x_raw = batch["x_raw"].to(params.dtype)
        forcing = (x_raw[..., _PRCP], x_raw[..., _TEMP], x_raw[..., _PET])
        steps = forcing[0].shape[1]
        warm = min(self.warmup, steps)
        dynamic = params.shape[1] > 1

        def window(tensor: torch.Tensor, part: slice) -> torch.Tensor:
            return tensor[:, part] if dynamic else tensor

        state, parts = None, []
        if warm > 0:
            with torch.no_grad():
                spin, state = hbv_kernel.simulate(*(f[:, :warm] for f in forcing), window(params, slice(0, warm)),
                                                  recharge_fraction=self.recharge,
                                                  unit_beta=window(unit_beta, slice(0, warm)))
            parts.append(spin)
        if warm < steps:
            run, _ = hbv_kernel.simulate(*(f[:, warm:] for f in forcing), window(params, slice(warm, None)), state,
                                         recharge_fraction=self.recharge,
                                         unit_beta=window(unit_beta, slice(warm, None)))
            parts.append(run)
        series = {name: torch.cat([part[name] for part in parts], dim=1) for name in parts[0]}
        q = series["q"].mean(-1)
        if route is not None:
            q = routing.route(q, routing.gamma_unit_hydrograph(route[:, 0], route[:, 1], self.uh_length),
                              self.routing_method)
        return {
            "q": q,
            "et": series["et"].mean(-1),
            "q0": series["q0"].mean(-1),
            "q1": series["q1"].mean(-1),
            "baseflow": series["q2"].mean(-1),
            "swe": (series["snowpack"] + series["meltwater"]).mean(-1),
            "q_components": series["q"],
            **{f"{name}_t": params[:, :, hbv.PARAMETER_NAMES.index(name)] for name in self.variant.dynamic},
        }
