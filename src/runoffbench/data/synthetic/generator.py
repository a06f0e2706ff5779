"""Generate the embedded synthetic CAMELS-US dataset (forcings, streamflow, attributes, truth).

The default every user sees first (config/config.yaml: 24 basins in 8 HUC-02 regions, 1980-2014) is
meant to be a fair, CAMELS-like testbed: no benchmarked model generated it, its attributes explain its
behaviour, and its two forcing products differ the way Daymet and NLDAS differ in real CAMELS.

Steps:

1. **Basins** (:mod:`.basins`): sites around HUC-02 region prototypes whose climate follows the
   medians of the real CAMELS tables (true precipitation = CAMELS' Daymet median / Daymet's bias
   below); 3 basins per region, so the default holds snowy (01, 14, 17), humid (03, 05), semi-arid
   (10, 12) and Mediterranean (18) basins.
2. **True weather** (:mod:`.weather`): Markov-chain occurrence, mixed-exponential amounts, seasonal
   temperature with lapse rate and AR(1) anomalies, radiation, humidity, day length.
3. **Two products**: Daymet = truth × :func:`daymet_bias_ratio` (a smooth high bias rising to +14 %
   at the Atlantic coast, Frame et al. 2023: "Daymet exhibits a large bias in the Eastern US") × 15 %
   daily noise; NLDAS-extended = truth × :func:`nldas_bias_ratio` (−6 % in the East, +6 % in the
   mountain West) × 25 % daily noise, a quarter of each day's precipitation reported on the next
   day (UTC day), and noisy, biased temperature/radiation/humidity. Daymet/NLDAS is thus 1.16–1.21
   in the East (real 01022500: NLDAS/Daymet = 0.82), 1.0 on the Plains and 0.94 in the Pacific
   North-West. Both products err; NLDAS is the one closer to the truth in the East.
4. **Attributes**: landscape tables (:mod:`.attributes`), then the climate indices of camels_clim
   from the written Daymet series (before the streamflow: the truth parameters use them).
5. **Truth streamflow** (:mod:`.truth_models`) from the TRUE precipitation, by one of three
   structures per basin, dealt out round-robin within each region (8 basins each in the default):
   EXP-HYDRO (Hamon PET), SAC-SMA + Snow-17 + gamma unit hydrograph (Priestley–Taylor PET) and
   GR4J + CemaNeige-like snow (Oudin PET, groundwater exchange; :mod:`.kernels`). Every structure's
   runoff then passes, for a fraction φ, through a slow quadratic groundwater store, and dry basins
   lose up to L mm/day to their channels (the intermittent streams). No benchmarked model has these
   parts, so none equals the generator exactly on any basin, and each benchmarked conceptual model
   shares its core structure with a third of the basins at most. All parameters are functions of
   the written attributes (soils, geology, vegetation, topography, climate), so a model that reads
   the attributes can learn the behaviour (Kratzert et al., 2019).
6. **Observations**: flow in cfs with 5 % noise, USGS rounding, multi-day gaps; the camels_hydro
   signatures from the written series.

With the default config the distributions sit inside CAMELS' (all 671 basins; test
``tests/test_synthetic_camels_like.py``): runoff ratio 0.10–0.81 (median 0.41; CAMELS 5–95 %
0.05–0.85, median 0.35), baseflow index 0.15–0.74 (0.54; CAMELS 0.19–0.72, 0.50), aridity
0.33–1.84 (0.90; CAMELS 0.36–2.37, 0.86), snow fraction 0–0.60 (0.15; CAMELS 0.00–0.67, 0.10); four
basins of 24 have zero-flow days, one on more than half of its days (CAMELS: 25 % and 1.8 %).

``truth.nc`` holds per basin and day the true precipitation, the noise-free streamflow ``q`` [mm/day]
(read by the config's ``generator`` external model), the structure's runoff ``q_structure`` and the
slow store's outflow ``q_slow``, ET, SWE, soil and slow stores; per basin ``truth_model`` (the
generating structure), ``params`` over every structure's parameter names (NaN where not the basin's)
and the two precipitation bias ratios.

Every value of the returned :class:`SyntheticDataset` is rounded to the precision it is written with,
so reading the files back gives exactly the in-memory values.

References
----------
Frame, J. M. et al. (2023): On strictly enforced mass conservation constraints for modelling the
    rainfall-runoff process. Hydrol. Process. 37, e14847.
Kratzert, F. et al. (2019): Towards learning universal, regional, and local hydrological behaviors via
    machine learning applied to large-sample datasets. Hydrol. Earth Syst. Sci. 23, 5089–5110.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.data.synthetic.attributes import assemble_tables, landscape_attributes
from runoffbench.data.synthetic.basins import make_basins
from runoffbench.data.synthetic.signatures import climate_indices, hydro_signatures
from runoffbench.data.synthetic.truth_models import (
    ALL_PARAMETER_NAMES,
    STRUCTURES,
    TRUTH_MODELS,
    assign_structures,
    simulate_truth,
)
from runoffbench.data.synthetic.weather import generate_weather
from runoffbench.data.synthetic.writer import FORCING_COLUMNS, write_dataset
from runoffbench.errors import ConfigError
from runoffbench.models.conceptual.pet import priestley_taylor

#: ft³ → mm³ factor used by neuralhydrology for cfs → mm/day: q_mm = C·Q·86400/(area_m2·10⁶)
CUBIC_FOOT_MM3 = 28316846.592
PRODUCTS: tuple[str, ...] = ("daymet", "nldas_extended")


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate: basin count, period, seed and the streamflow-generating structure(s).

    ``model``: ``"mixed"`` (three structures dealt out per region, the default) or one name of
    :data:`~runoffbench.data.synthetic.truth_models.TRUTH_MODELS` for every basin.
    """

    n_basins: int = 24
    start: str = "1980-01-01"
    end: str = "2014-12-31"
    seed: int = 0
    model: str = "mixed"

    def validate(self) -> None:
        if self.n_basins < 1:
            raise ConfigError(f"n_basins must be >= 1, got {self.n_basins}")
        if self.model != "mixed" and self.model not in TRUTH_MODELS:
            raise ConfigError(f"unknown truth model '{self.model}'; choose 'mixed' or one of {sorted(TRUTH_MODELS)}")
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
        truth: true precipitation, noise-free flow and its parts, stores, parameters, the generating
            structure per basin (``truth_model``) and both products' precipitation bias ratios.
    """

    forcings: dict[str, dict[str, pd.DataFrame]]
    streamflow_cfs: dict[str, pd.Series]
    streamflow_flags: dict[str, pd.Series]
    headers: pd.DataFrame
    attributes: pd.DataFrame
    truth: xr.Dataset


def daymet_bias_ratio(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth Daymet/true precipitation ratio: Daymet's high bias in the East (Frame et al., 2023).

    ratio = 1 + 0.07 (1 + tanh((lon + 88)/6)): 1.00 west of the Plains, 1.07 at 88 °W, 1.14 at the
    Atlantic coast. The field varies with longitude only; ``lat`` keeps the signature of a 2-d field.
    """
    return 1.0 + 0.07 * (1.0 + np.tanh((np.asarray(lon, dtype=float) + 88.0) / 6.0))


def nldas_bias_ratio(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth NLDAS/true precipitation ratio: slightly dry in the East, wet in the mountain West.

    ratio = 1 + 0.03 (1 − tanh((lon + 105)/6)) − 0.03 (1 + tanh((lon + 88)/6)): 1.06 at 120 °W, 1.00
    on the Plains, 0.94 at the Atlantic coast. Daymet/NLDAS is thus 1.16–1.21 in the East (NLDAS/Daymet
    0.82 as at the real basin 01022500, with NLDAS the closer to the truth) and 0.94 in the Pacific
    North-West. Varies with longitude only (``lat`` as in :func:`daymet_bias_ratio`).
    """
    lon = np.asarray(lon, dtype=float)
    return 1.0 + 0.03 * (1.0 - np.tanh((lon + 105.0) / 6.0)) - 0.03 * (1.0 + np.tanh((lon + 88.0) / 6.0))


def _round2(values: np.ndarray) -> np.ndarray:
    """Round to 2 decimals and turn -0.0 into 0.0 (as written)."""
    return np.round(values, 2) + 0.0


def _lognormal(rng: np.random.Generator, sigma: float, shape) -> np.ndarray:
    """Multiplicative noise of mean 1: exp(N(−σ²/2, σ))."""
    return np.exp(rng.normal(-0.5 * sigma**2, sigma, shape))


def _products(weather: dict[str, np.ndarray], daymet_bias: np.ndarray, nldas_bias: np.ndarray,
              rng: np.random.Generator) -> dict[str, dict]:
    """Daymet-like and NLDAS-like products of the true weather, rounded as written.

    Daymet: true precipitation × its eastern bias × 15 % daily noise; temperature, radiation, vapour
    pressure as the truth. NLDAS: true precipitation × its (western) bias × 25 % daily noise with a
    quarter of each day's amount reported on the next day (a UTC rather than a local day), biased and
    noisy temperature, radiation and humidity.
    """
    shape = weather["prcp"].shape
    daymet = dict(weather, prcp=weather["prcp"] * daymet_bias[:, None] * _lognormal(rng, 0.15, shape))
    nldas_prcp = weather["prcp"] * nldas_bias[:, None] * _lognormal(rng, 0.25, shape)
    nldas_prcp[:, 1:] = 0.75 * nldas_prcp[:, 1:] + 0.25 * nldas_prcp[:, :-1]
    nldas = dict(
        weather,
        prcp=nldas_prcp,
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
    cfs = (q_true_mm * np.exp(rng.normal(0.0, 0.05, q_true_mm.shape)) * area_m2[:, None] * 1e6
           / (CUBIC_FOOT_MM3 * 86400.0))
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


def _truth_dataset(basins, dates, weather, truth, structures, config, daymet_bias, nldas_bias) -> xr.Dataset:
    coords = {"basin": basins.index.to_numpy(), "date": dates, "parameter": list(ALL_PARAMETER_NAMES)}
    flux = {"units": "mm/day"}
    data = {
        "prcp": (("basin", "date"), weather["prcp"], {"units": "mm/day", "long_name": "true precipitation"}),
        "q": (("basin", "date"), truth["q"], {**flux, "long_name": "true (noise-free) streamflow"}),
        "q_structure": (("basin", "date"), truth["q_structure"],
                        {**flux, "long_name": "runoff of the basin's truth structure before the slow store"}),
        "q_slow": (("basin", "date"), truth["q_slow"], {**flux, "long_name": "outflow of the slow groundwater store"}),
        "channel_loss": (("basin", "date"), truth["channel_loss"], {**flux, "long_name": "channel transmission loss"}),
        "et": (("basin", "date"), truth["et"], {**flux, "long_name": "actual evapotranspiration"}),
        "swe": (("basin", "date"), truth["swe"], {"units": "mm", "long_name": "snow water equivalent"}),
        "soil": (("basin", "date"), truth["soil"], {"units": "mm", "long_name": "soil / production store"}),
        "slow_store": (("basin", "date"), truth["slow_store"], {"units": "mm", "long_name": "slow groundwater store"}),
        "params": (("basin", "parameter"), truth["params"],
                   {"long_name": "true parameters (NaN where not of the basin's structure)"}),
        "truth_model": (("basin",), structures.astype(str), {"long_name": "structure that generated the streamflow"}),
        "daymet_bias": (("basin",), daymet_bias, {"long_name": "daymet / true precipitation ratio"}),
        "nldas_bias": (("basin",), nldas_bias, {"long_name": "nldas_extended / true precipitation ratio"}),
    }
    attrs = {"model": config.model, "truth_models": ", ".join(STRUCTURES), "seed": config.seed,
             "generator": "runoffbench.data.synthetic"}
    dataset = xr.Dataset(data, coords=coords, attrs=attrs)
    for name in ("q_structure", "q_slow", "channel_loss", "et", "swe", "soil", "slow_store"):
        dataset[name].encoding["dtype"] = "float32"  # diagnostics; q and prcp keep full precision
    return dataset


def generate_dataset(config: SyntheticConfig = SyntheticConfig()) -> SyntheticDataset:
    """Generate a synthetic CAMELS-US dataset in memory (deterministic for a given config)."""
    config.validate()
    rng = np.random.default_rng(config.seed)
    dates = pd.date_range(config.start, config.end, freq="D")
    basins = make_basins(config.n_basins, rng)
    weather = generate_weather(basins, dates, rng)
    lon, lat = basins["lon"].to_numpy(), basins["lat"].to_numpy()
    daymet_bias, nldas_bias = daymet_bias_ratio(lon, lat), nldas_bias_ratio(lon, lat)
    products = _products(weather, daymet_bias, nldas_bias, rng)
    area_m2 = np.round(basins["area_km2"].to_numpy() * 1e6).astype(np.int64)
    headers = pd.DataFrame({"lat": basins["lat"].round(2), "elev": basins["elev"].round(2), "area_m2": area_m2},
                           index=basins.index.rename("basin"))
    landscape = landscape_attributes(basins, area_m2, rng)

    # climate indices from the written Daymet series first: the truth parameters depend on them
    daymet = products["daymet"]
    tmean = 0.5 * (daymet["tmax"] + daymet["tmin"])
    doy = np.asarray(dates.day_of_year)[None, :]
    pet = priestley_taylor(daymet["tmin"], daymet["tmax"], daymet["srad"], daymet["dayl"],
                           headers["lat"].to_numpy()[:, None], headers["elev"].to_numpy()[:, None], doy)
    clim = pd.DataFrame([climate_indices(daymet["prcp"][b], tmean[b], pet[b], dates) for b in range(len(basins))],
                        index=basins.index)

    structures = assign_structures(basins, config.model)
    truth = simulate_truth(pd.concat([landscape, clim], axis=1), structures, {
        "prcp": weather["prcp"], "tmax": daymet["tmax"], "tmin": daymet["tmin"], "srad": daymet["srad"],
        "dayl": daymet["dayl"], "lat": headers["lat"].to_numpy(float), "elev": headers["elev"].to_numpy(float),
        "dates": dates})
    cfs = _observed_flow(truth["q"], area_m2, rng)
    flags = _flags(cfs, tmean)
    q_mm = cfs * CUBIC_FOOT_MM3 * 86400.0 / (area_m2[:, None] * 1e6)
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
        truth=_truth_dataset(basins, dates, weather, truth, structures, config, daymet_bias, nldas_bias),
    )


__all__ = ["PRODUCTS", "SyntheticConfig", "SyntheticDataset", "daymet_bias_ratio", "generate_dataset",
           "nldas_bias_ratio", "write_dataset"]
