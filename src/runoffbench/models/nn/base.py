"""The interface every gradient-trained model implements (docs/architecture.md, "Models", kind ``nn``).

A model is a :class:`NeuralModel` constructed as ``Model(config, n_dynamic, n_static)`` where
``config`` is the model's entry ``models.<name>`` of the workflow config (hidden size, dropout, ...;
each model documents the keys it reads) completed by the trainer with

- ``n_basins`` (int): the number of basins of the run, and
- ``training`` (``"regional"`` or ``"local"``): one model for all basins, or one independent model
  per basin. A model with ``supports_local = True`` then carries weights with a leading basin
  dimension of size ``n_basins`` and selects them with ``batch["basin"]``;
- ``name`` and ``warmup``: the entry's name and the trainer's warm-up days.

The batch
---------
``forward(batch)`` receives a dict of tensors, all on the model's device, B samples of T days:

==========  ==================  =====================================================================
key         shape               content
==========  ==================  =====================================================================
``x_d``     (B, T, n_dynamic)   dynamic inputs, normalised with training-period mean/std
``x_s``     (B, n_static)       static attributes, normalised (``n_static`` may be 0)
``x_mass``  (B, T, 1)           precipitation in mm/day, not normalised (the MC-LSTM mass input)
``x_raw``   (B, T, k)           physical forcings in the order of :data:`RAW_FORCINGS` (process models)
``basin``   (B,)                int64 index of the sample's basin in the run's basin list
==========  ==================  =====================================================================

``x_mass`` and ``x_raw`` are only guaranteed when the class asks for them (``mass_input`` /
``needs_raw_forcing``); missing values never reach a model (windows with gaps are not sampled,
prediction fills gaps of inputs before calling it and masks the output).

It returns a dict with at least ``q`` (B, T): streamflow in mm/day when ``output_in_mm`` is set,
otherwise in normalised target units (the trainer de-normalises), plus optional internal fluxes and
states named as in the prediction contract (``et``, ``baseflow``, ``swe``, ``storage``, ...), each
(B, T), in mm/day (fluxes) or mm (stores), listed with their units in :attr:`NeuralModel.fluxes`, and
outputs with a component axis (B, T, C) listed in :attr:`NeuralModel.component_outputs` (the δ models'
dynamic parameters β^t, γ^t of every component), written to the predictions with dims
``(basin, date, component)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch

from runoffbench.errors import ConfigError

#: the channels of ``batch["x_raw"]``, in this order, with units:
#: precipitation [mm/day], mean temperature (T_max + T_min)/2 [°C], Hargreaves (1985) PET [mm/day],
#: daily maximum and minimum temperature [°C], day length [s], gauge latitude [°N], day of year [1–366]
RAW_FORCINGS: tuple[str, ...] = ("prcp", "tmean", "pet", "tmax", "tmin", "dayl", "lat", "doy")
#: the keys the trainer adds to a model's config (see the module docstring)
TRAINER_KEYS: frozenset[str] = frozenset({"name", "n_basins", "training", "warmup"})


class NeuralModel(torch.nn.Module):
    """Base class of the models the trainer fits (LSTM family, differentiable process models).

    Class attributes tell the trainer how to feed and read a model:

    ``mass_input``
        precipitation enters un-normalised as ``x_mass`` (MC-LSTM); :meth:`normalised_inputs` says
        whether ``prcp`` also stays in ``x_d``.
    ``default_dynamic_inputs``
        the dynamic inputs when the config names none (cache variables or the derived ``tmean`` and
        ``pet``, :data:`runoffbench.training.data.DERIVED_INPUTS`).
    ``output_in_mm``
        ``q`` is in mm/day; otherwise it is in normalised target units.
    ``needs_raw_forcing``
        the model reads ``x_raw`` (physical forcings, :data:`RAW_FORCINGS`).
    ``sequence_to_one_ok``
        the model may be trained on the last step of each window only (LSTM family); process
        models that need a long warm-up set it to ``False`` and are trained sequence-to-sequence.
    ``supports_local``
        the model can hold one independent set of weights per basin (leading basin dimension).
    ``fluxes``
        the optional outputs besides ``q`` and their units, e.g. ``{"et": "mm/day", "swe": "mm"}``.
    ``component_outputs``
        outputs of shape (B, T, C), one series per model component, name -> (units, long name); an
        instance may set its own (a δ model writes the parameters its variant makes dynamic).
    """

    mass_input: ClassVar[bool] = False
    output_in_mm: ClassVar[bool] = False
    needs_raw_forcing: ClassVar[bool] = False
    sequence_to_one_ok: ClassVar[bool] = True
    supports_local: ClassVar[bool] = False
    fluxes: ClassVar[Mapping[str, str]] = {}
    component_outputs: Mapping[str, tuple[str, str]] = {}
    default_dynamic_inputs: ClassVar[tuple[str, ...]] = ("prcp", "srad", "tmax", "tmin", "vp")
    #: the model's own keys of ``models.<name>`` (:meth:`option` reads only these and :data:`TRAINER_KEYS`)
    config_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: Mapping[str, Any], n_dynamic: int, n_static: int) -> None:
        super().__init__()
        self.config = dict(config)
        self.n_dynamic = int(n_dynamic)
        self.n_static = int(n_static)
        self.n_basins = int(self.config.get("n_basins", 1))
        self.local = self.config.get("training", "regional") == "local"
        if self.local and not self.supports_local:
            raise ConfigError(
                f"models.{self.config.get('name', type(self).__name__)}.training: "
                f"{type(self).__name__} does not support local (per-basin) training"
            )

    @classmethod
    def normalised_inputs(cls, dynamic_inputs: Sequence[str], config: Mapping[str, Any]) -> list[str]:
        """The dynamic inputs the model reads standardised in ``x_d`` (default: all of them)."""
        return list(dynamic_inputs)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def option(self, key: str, default: Any) -> Any:
        """``config[key]`` or ``default``; a value of the wrong type raises a :class:`ConfigError`."""
        if key not in self.config_keys | TRAINER_KEYS:  # keeps config_keys, which parse_settings checks, complete
            raise KeyError(f"{type(self).__name__} reads {key!r}, which it does not declare in config_keys")
        value = self.config.get(key, default)
        if default is not None and value is not None and not isinstance(value, type(default)):
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            raise ConfigError(
                f"models.{self.config.get('name', type(self).__name__)}.{key}: "
                f"expected {type(default).__name__}, got {value!r}"
            )
        return value


class ProcessModel(NeuralModel):
    """A differentiable process model (δ models, differentiable EXP-HYDRO): physical forcings
    (``x_raw``) in, flow in mm/day out, trained sequence-to-sequence after a spin-up of ``warmup``
    days (:attr:`default_warmup` when the trainer passes none)."""

    output_in_mm = True
    needs_raw_forcing = True
    sequence_to_one_ok = False
    #: spin-up days of a window (Feng et al. 2022: 365)
    default_warmup: ClassVar[int] = 365
