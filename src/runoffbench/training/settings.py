"""Training settings: the ``models.<name>`` entry of kind ``nn``, checked and completed with defaults.

Training modes
--------------
``training: regional`` fits one model on the windows of all basins: an epoch is a random permutation
of every valid window (or ``batches_per_epoch`` batches of ``batch_size`` windows drawn from it).
``training: local`` fits one independent model per basin, all of them as one batched model (weights
with a leading basin dimension): every step takes ``batch_size`` windows *of each basin* still
training, the loss is the sum of the basins' own mean losses and the gradient norm is clipped per
basin, so no basin's update depends on another's; with ``patience``, early stopping is per basin
(:mod:`runoffbench.training.trainer`). An epoch of local training is as many steps as the basin with
the most windows needs to see each of them once (or ``batches_per_epoch``).

``train_years: N`` trains on the last N years of the split's training period only (Li & Zhao's data
amounts 1, 3, 6, 9, 12, 15): one contiguous block ending on the period's last day, from which the
normalisation statistics come as well; input windows may reach back before it, as at the start of
any period, so no window is cut (their targets before the block are not used: a sequence-to-sequence
loss sees the block's days only). A basin observed on fewer than
:data:`runoffbench.failures.MIN_OBSERVED_SHARE` of the block's days is left out and listed in
``failures.csv`` (fewer valid years than asked).

``basins_per_pass: N`` (local training): a step over many basins runs its forward and backward passes N
basins at a time and adds up their gradients (the basins are independent, so the step is the same), and
validation and prediction batches hold ``4 × batch_size`` windows of N basins — the memory of a step
over 531 basins with 365-day windows is then that of N basins (an LSTM-50 keeps ~0.3 GB per basin of 256
windows for its backward pass). Target noise is then drawn pass by pass (the same distribution, other
numbers).

``validation_fraction: f`` (0 < f < 1) holds the last f of the (data-amount) training period out as
the validation period of early stopping (``patience``): a contiguous block of whole days at its end,
so the data amount counts the held-out part and the networks train on the rest, from which the
normalisation comes; a split's own ``validation`` period is then not used.

``test_warmup`` (sequence-to-sequence models): the days before the test period over which the model
spins up its states for the test-period prediction; null (default) takes the training period's
length, Feng et al. (2022)'s protocol (the cache's first day limits it).

``target_transform`` (default ``none``): ``feng`` trains a network on log10(√q + 0.1) of the flow,
standardised (Feng et al. 2020/2022's LSTM, hydroDL's ``transNorm``), with the loss computed on that scale
for ``loss: rmse`` / ``mse`` (Feng's LSTM: RMSE); predictions are transformed back to mm/day. Not for
models that predict in mm/day (process models, MC-LSTM).

``clip_negative_flow`` (default true): negative simulated test-period flows are set to 0, as in
Kratzert et al. (2019)'s evaluation, and counted in the predictions' ``qsim_negative_days``
(:mod:`runoffbench.training.predict`).

Target noise
------------
``target_noise_std`` > 0 adds Gaussian noise to the training targets, ``target_noise: relative``
(default, Frame et al. 2023 and neuralhydrology) with a standard deviation of ``target_noise_std`` ×
each target value, ``pooled`` with ``target_noise_std`` × the pooled training-period standard
deviation (:func:`runoffbench.training.trainer.add_target_noise`).

Static attributes
-----------------
``static_attributes`` lists ``attributes.nc`` variables, or names a set of
:data:`STATIC_ATTRIBUTE_SETS`: ``static_attributes: feng2022`` stands for the 35 attributes of Feng
et al. (2022, WRR, Table A1). The name is expanded here, so the settings, ``config.yaml`` and the
run's fingerprint hold the list itself. Numeric attributes with missing values and text (categorical)
attributes are encoded as :mod:`runoffbench.training.data` describes (fill value, one-hot columns).

Learning-rate schedule
----------------------
``learning_rate`` is a number or a mapping ``{epoch: lr}``. Epochs count from 1 and key k applies
from epoch k on (as in neuralhydrology); keys below 1 (e.g. 0) apply from the first epoch, and epochs
before the smallest key use the smallest key's rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

from runoffbench.errors import ConfigError
from runoffbench.models.nn import NeuralModel, get_model

OPTIMIZERS = ("adam", "adadelta")
MODES = ("seq2one", "seq2seq")
TRAINING = ("regional", "local")
#: ``target_noise``: σ = target_noise_std × each target value (Frame et al. 2023) or × the pooled std
TARGET_NOISE_FORMS = ("relative", "pooled")
#: ``target_transform`` (runoffbench.training.data.TARGET_TRANSFORMS): ``feng`` = log10(√q + 0.1) before
#: standardisation, Feng et al. 2020/2022's LSTM target (with ``loss: rmse``)
TARGET_TRANSFORM_NAMES = ("none", "feng")

#: named lists of static attributes, usable as ``static_attributes: <name>``.
#: ``feng2022``: the 35 CAMELS attributes of Feng et al. (2022, WRR, Table A1), in the order of
#: ``attrnewLst`` in their released training script (github.com/mhpi/dPLHBVrelease,
#: hydroDL-dev/example/dPLHBV/traindPLHBV.py); ``geol_porostiy`` is CAMELS's spelling. Three are
#: categorical (dom_land_cover, geol_1st_class, geol_2nd_class) and three have missing values in
#: CAMELS-US (root_depth_50 in 24 basins, geol_porostiy in 3, geol_2nd_class in 138).
STATIC_ATTRIBUTE_SETS: dict[str, tuple[str, ...]] = {
    "feng2022": (
        "p_mean", "pet_mean", "p_seasonality", "frac_snow", "aridity", "high_prec_freq", "high_prec_dur",
        "low_prec_freq", "low_prec_dur", "elev_mean", "slope_mean", "area_gages2", "frac_forest", "lai_max",
        "lai_diff", "gvf_max", "gvf_diff", "dom_land_cover_frac", "dom_land_cover", "root_depth_50",
        "soil_depth_pelletier", "soil_depth_statsgo", "soil_porosity", "soil_conductivity", "max_water_content",
        "sand_frac", "silt_frac", "clay_frac", "geol_1st_class", "glim_1st_class_frac", "geol_2nd_class",
        "glim_2nd_class_frac", "carbonate_rocks_frac", "geol_porostiy", "geol_permeability",
    ),
}


@dataclass(frozen=True)
class TrainSettings:
    """Everything the trainer needs besides data; the model's own keys stay in ``model_options``."""

    name: str
    model: str
    dynamic_inputs: tuple[str, ...] = NeuralModel.default_dynamic_inputs
    static_attributes: tuple[str, ...] = ()
    training: str = "regional"
    mode: str = "seq2one"
    sequence_length: int = 365
    warmup: int = 0
    epochs: int = 30
    batch_size: int = 256
    optimizer: str = "adam"
    learning_rate: Mapping[int, float] = field(default_factory=lambda: {1: 1e-3})
    loss: str = "nse"
    clip_grad_norm: float | None = 1.0
    target_noise_std: float = 0.0
    target_noise: str = "relative"
    test_warmup: int | None = None
    clip_negative_flow: bool = True
    target_transform: str = "none"
    patience: int | None = None
    batches_per_epoch: int | None = None
    train_years: int | None = None
    validation_fraction: float | None = None
    basins_per_pass: int | None = None
    max_nan_batches: int = 5
    seeds: tuple[int, ...] = (0,)
    device: str = "auto"
    model_options: Mapping[str, Any] = field(default_factory=dict)

    def lr_for_epoch(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (counting from 1): the value of the largest key ≤ epoch."""
        keys = sorted(self.learning_rate)
        applicable = [k for k in keys if k <= epoch] or keys[:1]
        return self.learning_rate[applicable[-1]]

    def torch_device(self) -> torch.device:
        """``device: auto`` → ``cuda`` if available, else ``cpu``."""
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainSettings:
        """The inverse of :meth:`to_dict` (settings as written to ``model.pt`` and ``config.yaml``)."""
        values = dict(data)
        for key in ("dynamic_inputs", "static_attributes", "seeds"):
            values[key] = tuple(values[key])
        values["learning_rate"] = {int(k): float(v) for k, v in values["learning_rate"].items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (the resolved config written next to the run)."""
        data = asdict(self)
        for key in ("dynamic_inputs", "static_attributes", "seeds"):
            data[key] = list(data[key])
        data["learning_rate"] = {int(k): float(v) for k, v in self.learning_rate.items()}
        data["model_options"] = dict(self.model_options)
        return data


_OWN_KEYS = {f.name for f in fields(TrainSettings)} - {"name", "model_options"}
#: keys of a models.<name> entry that are not model options (``options`` holds more of them)
_WORKFLOW_KEYS = {"kind", "options", "forcings", "splits", "sweep", "factors", "base_model"}


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def parse_settings(name: str, entry: Mapping[str, Any]) -> TrainSettings:
    """Check ``models.<name>`` and split it into trainer settings and model options.

    Keys the trainer does not know, and those under ``options``, are passed on to the model class
    (``hidden_size``, ``dropout``...).
    Raises :class:`ConfigError` naming ``models.<name>.<key>``.
    """
    where = f"models.{name}"
    values = {k: v for k, v in entry.items() if k in _OWN_KEYS}
    options = {k: v for k, v in entry.items() if k not in _OWN_KEYS and k not in _WORKFLOW_KEYS}
    options.update(entry.get("options") or {})
    values.setdefault("model", name)
    model_class = get_model(values["model"])
    values.setdefault("dynamic_inputs", model_class.default_dynamic_inputs)
    unknown = sorted(set(options) - model_class.config_keys)
    _check(not unknown, f"{where}", f"unknown key(s) {', '.join(unknown)} for {model_class.__name__} (model "
           f"{values['model']!r}); its own keys: {', '.join(sorted(model_class.config_keys))}; trainer settings: "
           f"{', '.join(sorted(_OWN_KEYS))}")
    if isinstance(values.get("static_attributes"), str):
        named = values["static_attributes"]
        _check(named in STATIC_ATTRIBUTE_SETS, f"{where}.static_attributes",
               f"unknown attribute set {named!r}; known: {', '.join(STATIC_ATTRIBUTE_SETS)} (or a list of "
               "attributes.nc variables)")
        values["static_attributes"] = STATIC_ATTRIBUTE_SETS[named]
    for key in ("dynamic_inputs", "static_attributes", "seeds"):
        if key in values:
            _check(isinstance(values[key], (list, tuple)), f"{where}.{key}", f"expected a list, got {values[key]!r}")
            values[key] = tuple(values[key])
    repeated = sorted({a for a in values.get("static_attributes", ()) if values["static_attributes"].count(a) > 1})
    _check(not repeated, f"{where}.static_attributes", f"{repeated} listed more than once")
    rate = values.get("learning_rate", {1: 1e-3})
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        rate = {1: float(rate)}
    _check(isinstance(rate, Mapping) and len(rate) > 0, f"{where}.learning_rate",
           f"expected a number or {{epoch: lr}}, got {rate!r}")
    try:
        values["learning_rate"] = {int(k): float(v) for k, v in rate.items()}
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.learning_rate: keys must be epochs and values rates, got {rate!r}") from None
    _check(all(v > 0 for v in values["learning_rate"].values()), f"{where}.learning_rate", "rates must be positive")
    settings = TrainSettings(name=name, model_options=options, **values)
    _check(settings.optimizer in OPTIMIZERS, f"{where}.optimizer",
           f"unknown {settings.optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    _check(settings.mode in MODES, f"{where}.mode", f"unknown {settings.mode!r}; known: {', '.join(MODES)}")
    _check(settings.training in TRAINING, f"{where}.training",
           f"unknown {settings.training!r}; known: {', '.join(TRAINING)}")
    for key in ("sequence_length", "epochs", "batch_size", "max_nan_batches"):
        value = getattr(settings, key)
        _check(isinstance(value, int) and value >= 1, f"{where}.{key}", f"expected a positive integer, got {value!r}")
    _check(isinstance(settings.warmup, int) and 0 <= settings.warmup < settings.sequence_length, f"{where}.warmup",
           f"expected 0 <= warmup < sequence_length ({settings.sequence_length}), got {settings.warmup!r}")
    for key in ("patience", "batches_per_epoch", "train_years", "basins_per_pass"):
        value = getattr(settings, key)
        _check(value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1),
               f"{where}.{key}", f"expected a positive integer or null, got {value!r}")
    fraction = settings.validation_fraction
    _check(fraction is None
           or (isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 < fraction < 1),
           f"{where}.validation_fraction", f"expected a fraction 0 < f < 1 or null, got {fraction!r}")
    _check(settings.test_warmup is None
           or (isinstance(settings.test_warmup, int) and not isinstance(settings.test_warmup, bool)
               and settings.test_warmup >= 0),
           f"{where}.test_warmup", f"expected days >= 0 or null, got {settings.test_warmup!r}")
    _check(isinstance(settings.clip_negative_flow, bool), f"{where}.clip_negative_flow",
           f"expected true or false, got {settings.clip_negative_flow!r}")
    _check(settings.clip_grad_norm is None or settings.clip_grad_norm > 0, f"{where}.clip_grad_norm",
           "must be positive or null")
    _check(settings.target_noise_std >= 0, f"{where}.target_noise_std", "must be >= 0")
    _check(settings.target_transform in TARGET_TRANSFORM_NAMES, f"{where}.target_transform",
           f"unknown {settings.target_transform!r}; known: {', '.join(TARGET_TRANSFORM_NAMES)}")
    _check(settings.target_noise in TARGET_NOISE_FORMS, f"{where}.target_noise",
           f"unknown {settings.target_noise!r}; known: {', '.join(TARGET_NOISE_FORMS)}")
    _check(len(settings.dynamic_inputs) > 0, f"{where}.dynamic_inputs", "needs at least one variable")
    _check(settings.device == "auto" or settings.device.split(":")[0] in ("cpu", "cuda"), f"{where}.device",
           f"expected auto, cpu or cuda[:N], got {settings.device!r}")
    return settings
