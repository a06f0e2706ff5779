"""The trainer's data path: tensors built once from the forcing cache, batches gathered in one index op.

For a set of basins, :func:`read_inputs` reads the forcing cache (docs/architecture.md, contract 1)
and ``attributes.nc`` once into arrays (:class:`RunInputs`), and :class:`PeriodTensors` turns one
period of them into tensors of shape (basins, days, ...) on the training device, covering the period
plus ``sequence_length − 1`` days of context before it (or a longer spin-up for test predictions). A
table of valid window ends (basin, day) is computed once: a window of L days ending on day e is valid when every input
of days e−L+1..e is finite and its target is observed (sequence-to-one: on day e; sequence-to-sequence:
on at least one day after the warm-up). A batch is one advanced-indexing gather of windows
(:meth:`PeriodTensors.batch`) — no per-sample Python and no DataLoader workers.

Normalisation (:class:`Normalisation`) uses the training period only: mean and standard deviation of
each dynamic input over all basins and training days, of each static attribute over the basins, and
of the target (unless the model predicts in mm/day, ``output_in_mm``). It is stored with the model.
The MC-LSTM mass input (precipitation) and the raw forcings of process models stay in physical units.

Static attributes (:class:`StaticEncoding`, fitted on the training basins with the normalisation and
saved with it in ``model.pt``, so a reloaded run encodes every basin as its training did):

- a numeric attribute is one input. A missing value (NaN, or not finite) is filled with the mean of
  the attribute over the training basins that have a value, and the attribute is standardised with
  the mean and standard deviation of those values, so a filled value is 0 — what Feng et al. (2022)'s
  code does (mhpi/dPLHBVrelease ``traindPLHBV.py``: statistics that skip NaN over the training
  basins, then ``attr_norm[np.isnan(attr_norm)] = 0.0``);
- a text attribute (CAMELS's ``dom_land_cover``, ``geol_1st_class``, ``geol_2nd_class``, ...) is
  one-hot encoded: one input ``<attribute>=<category>`` per category found in the training basins
  (sorted, blanks around a name stripped), 0 or 1, not standardised (a category of 1 basin in 531
  would otherwise get an input of about 23). An empty text (how ``attributes.nc`` stores a missing
  one, e.g. ``geol_2nd_class`` of a basin with a single geology class) and a category none of the
  training basins has (a basin predicted but not trained on) are encoded as all zeros, "none of the
  training categories"; the latter is logged as a warning naming the basins. Feng et al.'s code
  differs here: it turns each text attribute into its integer code among the categories of all 671
  basins (``pd.factorize(sort=True)``, -1 for a missing one) and standardises the codes like numbers;
- an attribute with no value in any training basin is a :class:`DataError` naming it.

How many training basins had a value filled (or no category), per attribute, is logged by
:func:`runoffbench.training.run.train_run` and written to the run's ``config.yaml``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.models.conceptual.pet import hargreaves
from runoffbench.models.nn.base import RAW_FORCINGS, NeuralModel
from runoffbench.periods import Period
from runoffbench.training.settings import TrainSettings

TARGET = "qobs"
#: cache variables (and the ``lat`` coordinate) from which :data:`RAW_FORCINGS` are derived
RAW_CACHE_VARIABLES = ("prcp", "tmax", "tmin", "dayl", "lat")
#: dynamic inputs computed from the cache, with the cache variables they need: the mean temperature
#: (T_max + T_min)/2 and Hargreaves (1985) PET, the inputs of Feng et al. (2022)'s parameter network
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {"tmean": ("tmax", "tmin"), "pet": ("tmax", "tmin", "lat")}

log = logging.getLogger(__name__)


def _is_text(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column)


def _missing(column: pd.Series) -> np.ndarray:
    """True where a raw attribute value is missing: None for text, NaN (or not finite) for numbers."""
    if _is_text(column):
        return column.isna().to_numpy()
    return ~np.isfinite(column.to_numpy("float64"))


@dataclass
class StaticEncoding:
    """How the static attributes become the model's static inputs (module docstring), fitted on the
    training basins by :func:`fit_static_encoding`."""

    attributes: list[str]
    #: text attribute → its categories in the training basins, sorted
    categories: dict[str, list[str]] = field(default_factory=dict)
    #: numeric attribute → the value a missing entry gets (its mean over the training basins)
    fill: dict[str, float] = field(default_factory=dict)
    #: attribute → number of training basins whose value was missing (filled, or no category)
    filled: dict[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The names of the model's static inputs: ``<attribute>`` or ``<attribute>=<category>``."""
        return [c for a in self.attributes
                for c in ([f"{a}={k}" for k in self.categories[a]] if a in self.categories else [a])]

    @classmethod
    def from_dict(cls, data: Mapping) -> StaticEncoding:
        return cls(attributes=list(data["attributes"]),
                   categories={k: list(v) for k, v in data.get("categories", {}).items()},
                   fill={k: float(v) for k, v in data.get("fill", {}).items()},
                   filled={k: int(v) for k, v in data.get("filled", {}).items()})

    def encode(self, table: pd.DataFrame) -> np.ndarray:
        """(N, len(columns)) float32 inputs of the raw attribute table (:attr:`RunInputs.static`), in
        physical units (numbers, with missing values filled) and 0/1 (one-hot)."""
        if list(table.columns) != list(self.attributes):
            raise DataError(f"the run was trained on the static attributes {self.attributes}, the inputs hold "
                            f"{list(table.columns)}")
        basins = np.asarray(table.index, dtype=str)
        parts = []
        for name in self.attributes:
            column, missing = table[name], _missing(table[name])
            if name in self.categories:
                if not _is_text(column):
                    raise DataError(f"static attribute {name} was text (categories {self.categories[name]}) when "
                                    "the run was trained, the attribute file now holds numbers")
                categories = self.categories[name]
                values = column.to_numpy(dtype=object)
                unseen = sorted({str(v) for v, m in zip(values, missing) if not m and v not in categories})
                if unseen:
                    shown = {c: [str(b) for b in basins[~missing & (values == c)][:5]] for c in unseen}
                    log.warning("static attribute %s: categories %s of basin(s) %s are not among the %d of the "
                                "training basins; encoded as all zeros (none of %s)", name, unseen, shown,
                                len(categories), categories)
                parts.append(np.stack([(values == c) & ~missing for c in categories], axis=-1).astype("float32")
                             if categories else np.zeros((len(table), 0), "float32"))
                continue
            if _is_text(column):
                raise DataError(f"static attribute {name} was numeric when the run was trained, the attribute "
                                "file now holds text")
            values = column.to_numpy("float32").copy()
            if missing.any():
                if name not in self.fill:
                    raise DataError(f"static attribute {name} is missing (NaN) for basin(s) "
                                    f"{[str(b) for b in basins[missing][:10]]} and the run has no fill value for "
                                    "it (trained before runoffbench filled missing attributes); retrain the run")
                values[missing] = np.float32(self.fill[name])
            parts.append(values[:, None])
        return np.concatenate(parts, axis=-1) if parts else np.zeros((len(table), 0), "float32")


def fit_static_encoding(table: pd.DataFrame, source: str | Path = "") -> StaticEncoding:
    """The encoding of the raw attribute table of the training basins (module docstring).

    :class:`DataError` for an attribute without any value in these basins.
    """
    where = f" in {source}" if str(source) else ""
    categories, fill, filled = {}, {}, {}
    for name in table.columns:
        column, missing = table[name], _missing(table[name])
        if missing.all():
            raise DataError(f"static attribute {name} has no value in any of the {len(table)} training basin(s)"
                            f"{where} ({', '.join(map(str, table.index[:5]))}{', ...' if len(table) > 5 else ''}); "
                            "remove it from static_attributes")
        filled[name] = int(missing.sum())
        if _is_text(column):
            categories[name] = sorted({str(v) for v, m in zip(column.to_numpy(dtype=object), missing) if not m})
        else:
            fill[name] = float(column.to_numpy("float32")[~missing].mean())
    return StaticEncoding(list(table.columns), categories, fill, filled)


@dataclass
class Normalisation:
    """Training-period statistics: ``(x − mean) / std`` per dynamic input, static input and target.

    ``static_names`` are the model's static inputs (:attr:`StaticEncoding.columns`), ``static_encoding``
    how the attributes become them; a run saved without one had numeric attributes only, one input each.
    """

    dynamic_names: list[str]
    dynamic_mean: list[float]
    dynamic_std: list[float]
    static_names: list[str]
    static_mean: list[float]
    static_std: list[float]
    target_mean: float
    target_std: float
    static_encoding: StaticEncoding | None = None
    #: the target's transform before standardisation (:data:`TARGET_TRANSFORMS`); a run saved without: none
    target_transform: str = "none"

    def __post_init__(self) -> None:
        if self.static_encoding is None:
            self.static_encoding = StaticEncoding(list(self.static_names))
        elif isinstance(self.static_encoding, Mapping):
            self.static_encoding = StaticEncoding.from_dict(self.static_encoding)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Normalisation:
        return cls(**data)

    def target_to_mm(self, values):
        """Model units (standardised, transformed) of the target -> mm/day (numpy or torch)."""
        return TARGET_TRANSFORMS[self.target_transform][1](values * self.target_std + self.target_mean)

    def target_from_mm(self, values):
        """mm/day -> the model's target units: the inverse of :meth:`target_to_mm`."""
        return (TARGET_TRANSFORMS[self.target_transform][0](values) - self.target_mean) / self.target_std

    def static_inputs(self, table: pd.DataFrame) -> np.ndarray:
        """(N, n_static) float32 standardised static inputs of a raw attribute table."""
        values = self.static_encoding.encode(table)
        return (values - np.asarray(self.static_mean, "float32")) / np.asarray(self.static_std, "float32")


@dataclass
class RunInputs:
    """The run's inputs in physical units, numpy arrays over the cache's full date range."""

    basins: list[str]
    dates: pd.DatetimeIndex
    dynamic: np.ndarray  # (N, D, n_dynamic)
    static: pd.DataFrame  # (N, n_attributes) raw: float32 numbers (NaN: missing), text (None: missing)
    mass: np.ndarray  # (N, D, 1) precipitation mm/day
    raw: np.ndarray | None  # (N, D, len(RAW_FORCINGS))
    target: np.ndarray  # (N, D) qobs mm/day
    dynamic_names: list[str]
    static_names: list[str]  # the attributes (the model's inputs: Normalisation.static_names)
    static_source: str = ""  # the attribute file, for messages

    def period_slice(self, period: Period) -> slice:
        return slice(self.dates.searchsorted(period.start), self.dates.searchsorted(period.end, side="right"))

    def select(self, basins: list[str]) -> RunInputs:
        """The same inputs for a subset of the basins (in the order given)."""
        rows = [self.basins.index(b) for b in basins]
        return RunInputs(basins=list(basins), dates=self.dates, dynamic=self.dynamic[rows],
                         static=self.static.iloc[rows], mass=self.mass[rows],
                         raw=None if self.raw is None else self.raw[rows], target=self.target[rows],
                         dynamic_names=self.dynamic_names, static_names=self.static_names,
                         static_source=self.static_source)

    def observed_days(self, period: Period) -> np.ndarray:
        """Days with observed streamflow in ``period``, per basin."""
        return np.isfinite(self.target[:, self.period_slice(period)]).sum(axis=1)

    def digest(self) -> str:
        """sha256 of every input array, the dates and the variable names: the data a run trains on."""
        from runoffbench.training.saved_run import array_digest

        names = np.array([*self.basins, "|", *self.dynamic_names, "|", *self.static_names])
        static = [np.array(["\0" if m else str(v) for v, m in zip(column, _missing(column))], "U")
                  if _is_text(column) else column.to_numpy("float32") for _, column in self.static.items()]
        return array_digest(self.dynamic, *static, self.mass, self.raw, self.target,
                            self.dates.asi8, names.astype("U"))


def _std(values: np.ndarray, axis) -> np.ndarray:
    std = np.nanstd(values, axis=axis)
    return np.where(np.isfinite(std) & (std > 0), std, 1.0)


def model_dynamic_names(settings: TrainSettings, model_class: type[NeuralModel]) -> list[str]:
    """The standardised dynamic inputs the model sees (:meth:`NeuralModel.normalised_inputs`)."""
    return model_class.normalised_inputs(settings.dynamic_inputs, settings.model_options)


def daily_series(cache: xr.Dataset, name: str) -> np.ndarray:
    """(N, D) float64 values of a cache variable, a :data:`DERIVED_INPUTS` entry, ``lat`` or ``doy``."""
    shape = (cache.sizes["basin"], cache.sizes["date"])
    if name == "lat":
        return np.broadcast_to(np.asarray(cache["lat"].values, "float64")[:, None], shape)
    if name == "doy":
        return np.broadcast_to(pd.DatetimeIndex(cache["date"].values).day_of_year.to_numpy("float64"), shape)
    if name == "tmean":
        return 0.5 * (daily_series(cache, "tmax") + daily_series(cache, "tmin"))
    if name == "pet":
        return hargreaves(daily_series(cache, "tmin"), daily_series(cache, "tmax"), daily_series(cache, "lat"),
                          daily_series(cache, "doy"))
    return cache[name].values.astype("float64")


def _raw_forcings(cache: xr.Dataset) -> np.ndarray:
    """(N, D, k) physical forcings in the order of :data:`RAW_FORCINGS`."""
    return np.stack([daily_series(cache, name).astype("float32") for name in RAW_FORCINGS], axis=-1)


def read_inputs(
    cache_path: str | Path,
    attributes_path: str | Path,
    basins: list[str],
    settings: TrainSettings,
    model_class: type[NeuralModel],
) -> RunInputs:
    """Read the basins' forcings, target and attributes; :class:`DataError` names what is missing."""
    from runoffbench.data.cache import open_cache

    cache = open_cache(cache_path)
    cache = cache.assign_coords(basin=cache["basin"].astype(str))
    def available(name: str) -> bool:
        if name in DERIVED_INPUTS:
            return all(v in cache.variables for v in DERIVED_INPUTS[name])
        return name in cache.data_vars and name != TARGET

    absent = [v for v in settings.dynamic_inputs if not available(v)]
    if absent:
        derived = ", ".join(f"{k} from {'/'.join(v)}" for k, v in DERIVED_INPUTS.items())
        raise DataError(
            f"models.{settings.name}.dynamic_inputs: {absent} not in the forcing cache {cache_path} "
            f"(it holds {', '.join(v for v in cache.data_vars if v != TARGET)}; derived: {derived})"
        )
    needed = [(TARGET, "the target")]
    if model_class.mass_input:
        needed.append(("prcp", f"the mass input of {model_class.__name__}"))
    if model_class.needs_raw_forcing:
        needed += [(v, f"the physical forcings of {model_class.__name__}") for v in RAW_CACHE_VARIABLES]
    missing = [f"{v} ({why})" for v, why in needed if v not in cache.variables]
    if missing:
        raise DataError(f"models.{settings.name}: {', '.join(missing)} not in the forcing cache {cache_path}")
    unknown = [b for b in basins if b not in cache["basin"].values]
    if unknown:
        raise DataError(f"basin(s) {unknown[:10]} not in the forcing cache {cache_path}")
    cache = cache.sel(basin=basins)
    static = read_static_table(attributes_path, basins, settings)
    dynamic_names = model_dynamic_names(settings, model_class)
    return RunInputs(
        basins=list(basins),
        dates=pd.DatetimeIndex(cache["date"].values),
        dynamic=np.stack([daily_series(cache, v).astype("float32") for v in dynamic_names], axis=-1)
        if dynamic_names else np.zeros((len(basins), cache.sizes["date"], 0), "float32"),
        static=static,
        mass=cache["prcp"].values.astype("float32")[..., None],
        raw=_raw_forcings(cache) if model_class.needs_raw_forcing else None,
        target=cache[TARGET].values.astype("float32"),
        dynamic_names=dynamic_names,
        static_names=list(settings.static_attributes),
        static_source=str(attributes_path),
    )


def _category(value) -> str | None:
    """A text attribute value with the blanks around it stripped; None for an empty or missing one."""
    if isinstance(value, bytes):
        value = value.decode()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).strip() or None


def read_static_table(attributes_path: str | Path, basins: list[str], settings: TrainSettings) -> pd.DataFrame:
    """The raw table of the configured attributes (:attr:`RunInputs.static`), rows in ``basins`` order."""
    names = list(settings.static_attributes)
    index = pd.Index(list(basins), name="basin")
    if not names:
        return pd.DataFrame(index=index)
    from runoffbench.data.cache import open_attributes

    attributes = open_attributes(attributes_path)
    absent = [n for n in names if n not in attributes.data_vars]
    if absent:
        raise DataError(f"models.{settings.name}.static_attributes: {absent} not in {attributes_path}")
    other = [f"{n} ({attributes[n].dtype})" for n in names if attributes[n].dtype.kind not in "fiubOUS"]
    if other:
        raise DataError(f"models.{settings.name}.static_attributes: {other} in {attributes_path} are neither "
                        "numbers nor text")
    unknown = [b for b in basins if b not in attributes.indexes["basin"]]
    if unknown:
        raise DataError(f"basin(s) {unknown[:10]} have no attributes in {attributes_path}")
    columns = {}
    for name in names:
        values = attributes[name].sel(basin=list(basins)).values
        if values.dtype.kind in "fiub":
            columns[name] = pd.Series(values.astype("float32"), index=index)
        else:
            columns[name] = pd.Series([_category(v) for v in values], index=index, dtype=object)
    return pd.DataFrame(columns, index=index)


def check_period(inputs: RunInputs, period: Period, what: str, source: str | Path) -> None:
    """:class:`DataError` unless the cache covers ``period``."""
    if period.start < inputs.dates[0] or period.end > inputs.dates[-1]:
        raise DataError(
            f"the {what} period {period} lies outside the data of {source} "
            f"({inputs.dates[0].date()}..{inputs.dates[-1].date()})"
        )


def _feng_forward(q):
    """Feng et al.'s streamflow transform log10(√q + 0.1) (hydroDL ``transNorm`` of runoff; q < 0 as 0)."""
    if isinstance(q, torch.Tensor):
        return torch.log10(torch.sqrt(q.clamp_min(0.0)) + 0.1)
    return np.log10(np.sqrt(np.maximum(q, 0.0)) + 0.1)


def _feng_inverse(z):
    """(10^z − 0.1)², with 10^z − 0.1 clamped at 0 (no negative flow; monotone)."""
    if isinstance(z, torch.Tensor):
        return (torch.pow(10.0, z) - 0.1).clamp_min(0.0) ** 2
    return np.maximum(np.power(10.0, z) - 0.1, 0.0) ** 2


def _identity(values):
    return values


#: transforms of the target before standardisation, name -> (forward, inverse): ``feng`` is the
#: log10(√q + 0.1) of Feng et al. 2020/2022's LSTM (hydroDL), whose RMSE loss then works on the transformed,
#: standardised flow (``loss: rmse``)
TARGET_TRANSFORMS = {"none": (_identity, _identity), "feng": (_feng_forward, _feng_inverse)}


def fit_normalisation(inputs: RunInputs, train: Period, target_in_mm: bool,
                      target_transform: str = "none") -> Normalisation:
    """Statistics of the training period (dynamic, target — after ``target_transform``) and of the run's
    basins (static: the :class:`StaticEncoding` and the mean and standard deviation of each numeric
    attribute's values)."""
    days = inputs.period_slice(train)
    dynamic = inputs.dynamic[:, days].reshape(-1, inputs.dynamic.shape[-1])
    target = TARGET_TRANSFORMS[target_transform][0](inputs.target[:, days])
    encoding = fit_static_encoding(inputs.static, inputs.static_source)
    static_mean, static_std = [], []
    for name in encoding.attributes:
        if name in encoding.categories:  # one-hot columns stay 0/1
            static_mean += [0.0] * len(encoding.categories[name])
            static_std += [1.0] * len(encoding.categories[name])
            continue
        column = inputs.static[name]
        values = column.to_numpy("float32")[~_missing(column)]
        static_mean.append(encoding.fill[name])
        static_std.append(float(_std(values, None)))
    return Normalisation(
        dynamic_names=list(inputs.dynamic_names),
        dynamic_mean=np.nanmean(dynamic, axis=0).astype(float).tolist() if dynamic.shape[1] else [],
        dynamic_std=_std(dynamic, 0).astype(float).tolist() if dynamic.shape[1] else [],
        static_names=encoding.columns,
        static_mean=static_mean,
        static_std=static_std,
        target_mean=0.0 if target_in_mm else float(np.nanmean(target)),
        target_std=1.0 if target_in_mm else float(_std(target, None)),
        static_encoding=encoding,
        target_transform=target_transform,
    )


class PeriodTensors:
    """Normalised tensors of one period (with its context days) on ``device``, and its valid windows.

    The context is the ``sequence_length − 1`` days before the period (the first window's history) or
    ``context`` days, as far as the data reach back.
    """

    def __init__(
        self,
        inputs: RunInputs,
        period: Period,
        normalisation: Normalisation,
        settings: TrainSettings,
        basin_std: np.ndarray,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        context: int | None = None,
    ) -> None:
        days = inputs.period_slice(period)
        context = settings.sequence_length - 1 if context is None else context
        first = max(days.start - context, 0)
        self.period_dates = inputs.dates[days]
        self.offset = days.start - first  # index of the period's first day in the tensors
        self.length = settings.sequence_length
        self.warmup = settings.warmup
        self.mode = settings.mode
        self.device = device
        window = slice(first, days.stop)
        n = normalisation

        def tensor(values: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(values), dtype=dtype, device=device)

        dynamic = ((inputs.dynamic[:, window] - np.asarray(n.dynamic_mean, "float32"))
                   / np.asarray(n.dynamic_std, "float32"))
        self.x_d = tensor(dynamic)
        self.x_s = tensor(n.static_inputs(inputs.static))
        self.x_mass = tensor(inputs.mass[:, window])
        self.x_raw = tensor(inputs.raw[:, window]) if inputs.raw is not None else None
        self.normalisation = n
        self.y = tensor(n.target_from_mm(inputs.target[:, window]))
        self.y[:, : self.offset] = float("nan")  # the context's days are inputs, never targets (train_years)
        self.target_mean, self.target_std = float(n.target_mean), float(n.target_std)
        self.basin_std = tensor(basin_std)
        self.steps = torch.arange(-self.length + 1, 1, device=device)
        self.window_basin, self.window_end = self._valid_windows()

    def to_mm(self, values: torch.Tensor) -> torch.Tensor:
        """Values in the units of ``y`` (standardised — after the target transform —, or mm/day for
        ``output_in_mm`` models) in mm/day."""
        return self.normalisation.target_to_mm(values)

    def from_mm(self, values: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`to_mm`."""
        return self.normalisation.target_from_mm(values)

    def _input_ok(self) -> torch.Tensor:
        """(N, D) True where every input of the day is finite."""
        ok = torch.isfinite(self.x_d).all(-1) & torch.isfinite(self.x_mass).all(-1)
        if self.x_raw is not None:
            ok &= torch.isfinite(self.x_raw).all(-1)
        return ok

    def _valid_windows(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Basin and end index of every window ending in the period with complete inputs and a target."""
        bad = (~self._input_ok()).to(torch.int64).cumsum(dim=1)
        bad = torch.nn.functional.pad(bad, (1, 0))  # bad[:, e + 1] − bad[:, s] = gaps in days s..e
        ends = torch.arange(self.offset, self.x_d.shape[1], device=self.device)
        starts = ends - self.length + 1
        in_range = starts >= 0
        ends, starts = ends[in_range], starts[in_range]
        complete = (bad[:, ends + 1] - bad[:, starts]) == 0
        observed = ~torch.isnan(self.y)
        if self.mode == "seq2one":
            has_target = observed[:, ends]
        else:
            counted = torch.nn.functional.pad(observed.to(torch.int64).cumsum(dim=1), (1, 0))
            has_target = (counted[:, ends + 1] - counted[:, starts + self.warmup]) > 0
        basin, end = torch.nonzero(complete & has_target, as_tuple=True)
        return basin, ends[end]

    @property
    def n_windows(self) -> int:
        return int(self.window_basin.numel())

    def gather(self, basin: torch.Tensor, end: torch.Tensor) -> dict[str, torch.Tensor]:
        """The windows ending on ``end`` of ``basin`` (both (B,) int64) as one batch."""
        days = end[:, None] + self.steps  # (B, L)
        rows = basin[:, None]
        batch = {
            "x_d": self.x_d[rows, days],
            "x_s": self.x_s[basin],
            "x_mass": self.x_mass[rows, days],
            "y": self.y[rows, days],
            "basin": basin,
            "basin_std": self.basin_std[basin],
        }
        if self.x_raw is not None:
            batch["x_raw"] = self.x_raw[rows, days]
        return batch

    def batch(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        """Rows of the valid-window table as one batch."""
        return self.gather(self.window_basin[rows], self.window_end[rows])


def basin_target_std(inputs: RunInputs, train: Period) -> np.ndarray:
    """Per-basin training-period standard deviation of the target in mm/day (s(b) of NSE*)."""
    target = inputs.target[:, inputs.period_slice(train)]
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a basin without observations: std 1, no windows
        std = np.nanstd(target, axis=1)
    return np.where(np.isfinite(std), std, 1.0).astype("float32")
