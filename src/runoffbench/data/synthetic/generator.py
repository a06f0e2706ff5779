"""Generate the embedded synthetic CAMELS-US dataset (forcings, streamflow, attributes, truth).

Steps: draw basin sites (:mod:`.basins`) → true weather (:mod:`.weather`) → two forcing products
(Daymet ≈ truth with 5 % multiplicative precipitation noise; NLDAS-extended = truth × a smooth
location bias field, Frame et al. 2023's Daymet/NLDAS contrast) → landscape attributes → truth-model
parameters and noise-free flow from the TRUE precipitation → observed flow in cfs (5 % noise, USGS
rounding, multi-day gaps) → climate indices and signatures from the written series.

Every value of the returned :class:`SyntheticDataset` is rounded to the precision it is written with,
so reading the files back gives exactly the in-memory values.

References
----------
Frame, J. M. et al. (2023): On strictly enforced mass conservation constraints for modelling the
    rainfall-runoff process. Hydrol. Process. 37, e14847.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.data.synthetic.attributes import assemble_tables, landscape_attributes
from runoffbench.data.synthetic.basins import make_basins
from runoffbench.data.synthetic.signatures import climate_indices, hydro_signatures
from runoffbench.data.synthetic.truth_models import TRUTH_MODELS
from runoffbench.data.synthetic.weather import generate_weather
from runoffbench.data.synthetic.writer import FORCING_COLUMNS, write_dataset
from runoffbench.errors import ConfigError
from runoffbench.models.conceptual.pet import priestley_taylor

#: ft³ → mm³ factor used by neuralhydrology for cfs → mm/day: q_mm = C·Q·86400/(area_m2·10⁶)
CUBIC_FOOT_MM3 = 28316846.592
PRODUCTS: tuple[str, ...] = ("daymet", "nldas_extended")


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate: basin count, period, seed and the streamflow-generating model."""

    n_basins: int = 24
    start: str = "1980-01-01"
    end: str = "2014-12-31"
    seed: int = 0
    model: str = "exphydro"

    def validate(self) -> None:
        if self.n_basins < 1:
            raise ConfigError(f"n_basins must be >= 1, got {self.n_basins}")
        if self.model not in TRUTH_MODELS:
            raise ConfigError(f"unknown truth model '{self.model}'; choose one of {sorted(TRUTH_MODELS)}")
        if pd.Timestamp(self.end) - pd.Timestamp(self.start) < pd.Timedelta(days=730):
            raise ConfigError(f"the period {self.start}..{self.end} must span at least two years")


@dataclass
class SyntheticDataset:
    """The generated data, holding exactly the values that are written.

    Attributes:
        forcings: product -> basin -> frame (DatetimeIndex; columns dayl, prcp, srad, swe, tmax, tmin, vp).
        streamflow_cfs: basin -> series of discharge [cfs], NaN where the file has -999.
        streamflow_flags: basin -> series of USGS quality flags (A, A:e, M).
        headers: index basin; lat, elev [m], area_m2 [m²] as in the forcing-file headers.
        attributes: index gauge_id; every column of the seven CAMELS attribute tables.
        truth: true precipitation, parameters, noise-free flow and stores, model name, NLDAS bias.
    """

    forcings: dict[str, dict[str, pd.DataFrame]]
    streamflow_cfs: dict[str, pd.Series]
    streamflow_flags: dict[str, pd.Series]
    headers: pd.DataFrame
    attributes: pd.DataFrame
    truth: xr.Dataset


def nldas_bias_ratio(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth NLDAS/true precipitation ratio: under-catch in the west, over-estimation in the south-east.

    ratio = 1 + 0.2 tanh((lon + 97)/10) + 0.1 tanh((38 − lat)/5), clipped to [0.7, 1.3].
    """
    ratio = 1.0 + 0.2 * np.tanh((np.asarray(lon) + 97.0) / 10.0) + 0.1 * np.tanh((38.0 - np.asarray(lat)) / 5.0)
    return np.clip(ratio, 0.7, 1.3)


def _round2(values: np.ndarray) -> np.ndarray:
    """Round to 2 decimals and turn -0.0 into 0.0 (as written)."""
    return np.round(values, 2) + 0.0


def _products(weather: dict[str, np.ndarray], bias: np.ndarray, rng: np.random.Generator) -> dict[str, dict]:
    """Daymet-like and NLDAS-like products of the true weather, rounded as written."""
    shape = weather["prcp"].shape
    daymet = dict(weather, prcp=weather["prcp"] * np.exp(rng.normal(0.0, 0.05, shape)))
    nldas = dict(
        weather,
        prcp=weather["prcp"] * bias[:, None] * np.exp(rng.normal(0.0, 0.1, shape)),
        tmax=weather["tmax"] + 0.3 + rng.normal(0.0, 0.8, shape),
        tmin=weather["tmin"] - 0.2 + rng.normal(0.0, 0.8, shape),
        srad=weather["srad"] * 0.95 * np.exp(rng.normal(0.0, 0.08, shape)),
        vp=weather["vp"] * 1.02,
    )
    out = {}
    for name, product in (("daymet", daymet), ("nldas_extended", nldas)):
        product["tmin"] = np.minimum(product["tmin"], product["tmax"])
        product["swe"] = np.zeros(shape)
        out[name] = {k: _round2(product[k]) for k in FORCING_COLUMNS}
    return out


def _observed_flow(q_true_mm: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Observed discharge [cfs]: 5 % noise, 3 significant digits and 2 decimals, multi-day gaps as NaN."""
    cfs = q_true_mm * np.exp(rng.normal(0.0, 0.05, q_true_mm.shape)) * area_m2[:, None] * 1e6 / (CUBIC_FOOT_MM3 * 86400.0)
    magnitude = np.floor(np.log10(np.where(cfs > 0, cfs, 1.0)))
    digits = (2 - magnitude).astype(int)
    cfs = np.round(np.round(cfs * 10.0**digits) / 10.0**digits, 2) + 0.0
    nb, nt = cfs.shape
    for b in np.flatnonzero(rng.random(nb) < 0.4):
        for _ in range(int(rng.integers(1, 4))):
            length = int(rng.integers(5, 60))
            start = int(rng.integers(0, max(1, nt - length)))
            cfs[b, start:start + length] = np.nan
    return cfs


def _flags(cfs: np.ndarray, tmean: np.ndarray) -> np.ndarray:
    """USGS qualification codes: M for missing, A:e (estimated) on ice-affected cold days, else A."""
    return np.where(np.isnan(cfs), "M", np.where(tmean < -8.0, "A:e", "A"))


def _truth_dataset(basins, dates, weather, params, sim, model, config, bias) -> xr.Dataset:
    names = list(TRUTH_MODELS[model].parameter_names)
    coords = {"basin": basins.index.to_numpy(), "date": dates, "parameter": names}
    data = {
        "prcp": (("basin", "date"), weather["prcp"], {"units": "mm/day", "long_name": "true precipitation"}),
        "q": (("basin", "date"), sim["q"], {"units": "mm/day", "long_name": "true (noise-free) streamflow"}),
        "params": (("basin", "parameter"), params, {"long_name": f"true {model} parameters"}),
        "nldas_bias": (("basin",), bias, {"long_name": "nldas_extended / true precipitation ratio"}),
        "model": (("basin",), np.array([model] * len(basins)), {"long_name": "generating model"}),
    }
    for state in ("swe", "soil", "et"):
        if state in sim:
            data[state] = (("basin", "date"), sim[state], {"units": "mm/day" if state == "et" else "mm"})
    attrs = {"model": model, "seed": config.seed, "generator": "runoffbench.data.synthetic"}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def generate_dataset(config: SyntheticConfig = SyntheticConfig()) -> SyntheticDataset:
    """Generate a synthetic CAMELS-US dataset in memory (deterministic for a given config)."""
    config.validate()
    rng = np.random.default_rng(config.seed)
    dates = pd.date_range(config.start, config.end, freq="D")
    basins = make_basins(config.n_basins, rng)
    weather = generate_weather(basins, dates, rng)
    bias = nldas_bias_ratio(basins["lon"].to_numpy(), basins["lat"].to_numpy())
    products = _products(weather, bias, rng)
    area_m2 = np.round(basins["area_km2"].to_numpy() * 1e6).astype(np.int64)
    headers = pd.DataFrame({"lat": basins["lat"].round(2), "elev": basins["elev"].round(2), "area_m2": area_m2},
                           index=basins.index.rename("basin"))
    landscape = landscape_attributes(basins, area_m2, rng)

    model = TRUTH_MODELS[config.model]
    params = model.parameters(landscape)
    daymet = products["daymet"]
    sim = model.simulate(params, {"prcp": weather["prcp"], "tmax": daymet["tmax"], "tmin": daymet["tmin"],
                                  "dayl": daymet["dayl"]})
    cfs = _observed_flow(sim["q"], area_m2, rng)
    tmean = 0.5 * (daymet["tmax"] + daymet["tmin"])
    flags = _flags(cfs, tmean)

    q_mm = cfs * CUBIC_FOOT_MM3 * 86400.0 / (area_m2[:, None] * 1e6)
    pet = priestley_taylor(daymet["tmin"], daymet["tmax"], daymet["srad"], daymet["dayl"],
                           headers["lat"].to_numpy()[:, None], headers["elev"].to_numpy()[:, None],
                           np.asarray(dates.day_of_year)[None, :])
    clim = pd.DataFrame([climate_indices(daymet["prcp"][b], tmean[b], pet[b], dates) for b in range(len(basins))],
                        index=basins.index)
    hydro = pd.DataFrame([hydro_signatures(q_mm[b], daymet["prcp"][b], dates) for b in range(len(basins))],
                         index=basins.index)

    ids = basins.index
    forcings = {name: {basin: pd.DataFrame({k: arrays[k][b] for k in FORCING_COLUMNS}, index=dates)
                       for b, basin in enumerate(ids)} for name, arrays in products.items()}
    return SyntheticDataset(
        forcings=forcings,
        streamflow_cfs={basin: pd.Series(cfs[b], index=dates, name="q_cfs") for b, basin in enumerate(ids)},
        streamflow_flags={basin: pd.Series(flags[b], index=dates, name="flag") for b, basin in enumerate(ids)},
        headers=headers,
        attributes=assemble_tables(landscape, clim, hydro),
        truth=_truth_dataset(basins, dates, weather, params, sim, config.model, config, bias),
    )


__all__ = ["PRODUCTS", "SyntheticConfig", "SyntheticDataset", "generate_dataset", "nldas_bias_ratio", "write_dataset"]
