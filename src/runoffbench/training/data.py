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
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
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


@dataclass
class Normalisation:
    """Training-period statistics: ``(x − mean) / std`` per dynamic input, static attribute and target."""

    dynamic_names: list[str]
    dynamic_mean: list[float]
    dynamic_std: list[float]
    static_names: list[str]
    static_mean: list[float]
    static_std: list[float]
    target_mean: float
    target_std: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Normalisation:
        return cls(**data)


@dataclass
class RunInputs:
    """The run's inputs in physical units, numpy arrays over the cache's full date range."""

    basins: list[str]
    dates: pd.DatetimeIndex
    dynamic: np.ndarray  # (N, D, n_dynamic)
    static: np.ndarray  # (N, n_static)
    mass: np.ndarray  # (N, D, 1) precipitation mm/day
    raw: np.ndarray | None  # (N, D, len(RAW_FORCINGS))
    target: np.ndarray  # (N, D) qobs mm/day
    dynamic_names: list[str]
    static_names: list[str]

    def period_slice(self, period: Period) -> slice:
        return slice(self.dates.searchsorted(period.start), self.dates.searchsorted(period.end, side="right"))

    def select(self, basins: list[str]) -> RunInputs:
        """The same inputs for a subset of the basins (in the order given)."""
        rows = [self.basins.index(b) for b in basins]
        return RunInputs(basins=list(basins), dates=self.dates, dynamic=self.dynamic[rows], static=self.static[rows],
                           mass=self.mass[rows], raw=None if self.raw is None else self.raw[rows],
                           target=self.target[rows], dynamic_names=self.dynamic_names, static_names=self.static_names)

    def observed_days(self, period: Period) -> np.ndarray:
        """Days with observed streamflow in ``period``, per basin."""
        return np.isfinite(self.target[:, self.period_slice(period)]).sum(axis=1)

    def digest(self) -> str:
        """sha256 of every input array, the dates and the variable names: the data a run trains on."""
        from runoffbench.training.saved_run import array_digest

        names = np.array([*self.basins, "|", *self.dynamic_names, "|", *self.static_names])
        return array_digest(self.dynamic, self.static, self.mass, self.raw, self.target,
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
    static = _read_static(attributes_path, basins, settings)
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
    )


def _read_static(attributes_path: str | Path, basins: list[str], settings: TrainSettings) -> np.ndarray:
    names = list(settings.static_attributes)
    if not names:
        return np.zeros((len(basins), 0), "float32")
    from runoffbench.data.cache import open_attributes

    attributes = open_attributes(attributes_path)
    absent = [n for n in names if n not in attributes.data_vars]
    if absent:
        raise DataError(f"models.{settings.name}.static_attributes: {absent} not in {attributes_path}")
    text = [n for n in names if attributes[n].dtype.kind not in "fiub"]
    if text:
        raise DataError(f"models.{settings.name}.static_attributes: {text} in {attributes_path} are not numeric")
    unknown = [b for b in basins if b not in attributes.indexes["basin"]]
    if unknown:
        raise DataError(f"basin(s) {unknown[:10]} have no attributes in {attributes_path}")
    table = np.stack([attributes[n].sel(basin=basins).values.astype("float64") for n in names], axis=-1)
    missing = [f"{basins[i]}: {names[j]}" for i, j in zip(*np.nonzero(~np.isfinite(table)))]
    if missing:
        raise DataError(f"{attributes_path}: static attribute(s) missing (NaN) for basin(s) {missing[:10]}")
    return table.astype("float32")


def check_period(inputs: RunInputs, period: Period, what: str, source: str | Path) -> None:
    """:class:`DataError` unless the cache covers ``period``."""
    if period.start < inputs.dates[0] or period.end > inputs.dates[-1]:
        raise DataError(
            f"the {what} period {period} lies outside the data of {source} "
            f"({inputs.dates[0].date()}..{inputs.dates[-1].date()})"
        )


def fit_normalisation(inputs: RunInputs, train: Period, target_in_mm: bool) -> Normalisation:
    """Statistics of the training period (dynamic, target) and of the run's basins (static)."""
    days = inputs.period_slice(train)
    dynamic = inputs.dynamic[:, days].reshape(-1, inputs.dynamic.shape[-1])
    target = inputs.target[:, days]
    return Normalisation(
        dynamic_names=list(inputs.dynamic_names),
        dynamic_mean=np.nanmean(dynamic, axis=0).astype(float).tolist() if dynamic.shape[1] else [],
        dynamic_std=_std(dynamic, 0).astype(float).tolist() if dynamic.shape[1] else [],
        static_names=list(inputs.static_names),
        static_mean=inputs.static.mean(axis=0).astype(float).tolist(),
        static_std=_std(inputs.static, 0).astype(float).tolist(),
        target_mean=0.0 if target_in_mm else float(np.nanmean(target)),
        target_std=1.0 if target_in_mm else float(_std(target, None)),
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
        self.x_s = tensor((inputs.static - np.asarray(n.static_mean, "float32")) / np.asarray(n.static_std, "float32"))
        self.x_mass = tensor(inputs.mass[:, window])
        self.x_raw = tensor(inputs.raw[:, window]) if inputs.raw is not None else None
        self.y = tensor((inputs.target[:, window] - n.target_mean) / n.target_std)
        self.target_mean, self.target_std = float(n.target_mean), float(n.target_std)
        self.basin_std = tensor(basin_std)
        self.steps = torch.arange(-self.length + 1, 1, device=device)
        self.window_basin, self.window_end = self._valid_windows()

    def to_mm(self, values: torch.Tensor) -> torch.Tensor:
        """Values in the units of ``y`` (standardised, or mm/day for ``output_in_mm`` models) in mm/day."""
        return values * self.target_std + self.target_mean

    def from_mm(self, values: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`to_mm`."""
        return (values - self.target_mean) / self.target_std

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
