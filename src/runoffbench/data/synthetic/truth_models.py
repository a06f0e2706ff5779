"""The model structures that generate the synthetic streamflow, and their parameters from attributes.

Three structures, each with its own PET formula and snow routine, so that the benchmark's conceptual
models (EXP-HYDRO with Hamon PET; SAC-SMA + Snow-17 with Priestley–Taylor PET) match the generator
on at most a third of the basins each, and then still not exactly:

========================  ====================================  =====================  ============
structure                 runoff generation and routing         snow                   PET
========================  ====================================  =====================  ============
``exphydro``              bucket, exponential baseflow          threshold degree-day   Hamon
``sacsma_snow17``         SAC-SMA + gamma unit hydrograph       Snow-17                Priestley–Taylor
``gr4j_snow``             GR4J, groundwater exchange (x2)       CemaNeige-like         Oudin
========================  ====================================  =====================  ============

Every structure's runoff then passes, for a fraction φ, through the same slow nonlinear groundwater
store Q_g = G²/c (:func:`~runoffbench.data.synthetic.kernels.route_slow_store`), a structure none of
the benchmarked models has, and dry basins lose up to L mm/day to their channels:
q = max((1 − φ) q_structure + Q_g − L, 0).

All parameters are deterministic functions of the written attributes (camels_topo, soil, geol, vege
and the Daymet climate indices of camels_clim), so the attributes explain the behaviour: with the
slope index s = ln(slope_mean)/ln(250), the permeability index k = (geol_permeability + 16)/4 and the
root-zone storage capacity

    S_r = 1000 · max_water_content · (0.5 + 0.5 frac_forest) + 150 · min(aridity, 2.5)  [mm],

which grows with aridity as root zones adapt to longer dry spells (Gao et al., 2014):

- slow store: φ = (0.03 + 0.25 k + 0.1 frac_snow) · min(max(1.5 − 0.5 aridity, 0.2), 1) (permeable
  and snow-fed basins recharge more, dry ones less) and c = G_ref τ with G_ref = 50 mm,
  τ = 60 + 200 (1 − s) + 200 soil_porosity days (flat, porous basins drain slowly);
- channel loss (transmission losses of dry-land streams, which makes them intermittent):
  L = 0.06 min(max(aridity − 1.1, 0), 1.5) (0.5 + sand_frac/60) mm/day, q ← q − min(q, L);
- storage capacities (S_max, x1, uztwm + lztwm) scale with S_r; drainage rates and fast runoff
  (Q_max, uzk, lzsk, x3, x4, unit hydrograph) with slope and area; percolation and deep stores
  with soil texture, conductivity and geology; melt factors with forest cover and elevation; snow
  thresholds with latitude and elevation.

A structure is a :class:`TruthModel`: ``parameters(attributes)`` and ``simulate(params, forcings)``
for all basins at once; each run is spun up on its first three years (repeated in front of the
period and dropped) and the slow store starts at its equilibrium.

References
----------
Gao, H. et al. (2014): Climate controls how ecosystems size the root zone storage capacity at
    catchment scale. Geophys. Res. Lett. 41, 7916–7923.
Oudin, L. et al. (2005): Which potential evapotranspiration input for a lumped rainfall–runoff model?
    J. Hydrol. 303, 290–306.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from runoffbench.data.synthetic import kernels
from runoffbench.models.conceptual import exphydro, sacsma_snow17
from runoffbench.models.conceptual.pet import LATENT_HEAT, extraterrestrial_radiation, priestley_taylor

#: days of the spin-up (the first years repeated in front of the period)
SPINUP_DAYS = 3 * 365
#: reference store of the slow reservoir [mm]: c = G_REF · τ
G_REF = 50.0
SLOW_PARAMETER_NAMES: tuple[str, ...] = ("slow_fraction", "slow_c", "channel_loss")


@dataclass(frozen=True)
class TruthModel:
    """A streamflow-generating structure.

    Attributes:
        parameter_names: names of the columns of the parameter array.
        parameters: attributes (index gauge_id; landscape and climate columns) -> (basins, parameters).
        simulate: (parameters, forcings) -> dict of (basins, days) arrays ``q``, ``et`` [mm/day], ``swe``,
            ``soil`` [mm]; ``forcings`` has (basins, days) arrays prcp, tmax, tmin, srad, dayl and
            per-basin arrays lat, elev, and the dates.
    """

    parameter_names: tuple[str, ...]
    parameters: Callable[[pd.DataFrame], np.ndarray]
    simulate: Callable[[np.ndarray, dict], dict[str, np.ndarray]]


def _col(attributes: pd.DataFrame, name: str) -> np.ndarray:
    return attributes[name].to_numpy(dtype=float)


def slope_index(attributes: pd.DataFrame) -> np.ndarray:
    """s = ln(slope_mean [m/km]) / ln(250) in [0, 1]: 0 flat, 1 steep."""
    return np.clip(np.log(np.maximum(_col(attributes, "slope_mean"), 1.0)) / np.log(250.0), 0.0, 1.0)


def permeability_index(attributes: pd.DataFrame) -> np.ndarray:
    """k = (geol_permeability + 16) / 4 in [0, 1]: 0 tight (10⁻¹⁶ m²), 1 permeable (10⁻¹² m²)."""
    return np.clip((_col(attributes, "geol_permeability") + 16.0) / 4.0, 0.0, 1.0)


def root_zone_capacity(attributes: pd.DataFrame) -> np.ndarray:
    """S_r [mm] from soil water content, forest cover and aridity (see the module docstring)."""
    return (1000.0 * _col(attributes, "max_water_content") * (0.5 + 0.5 * _col(attributes, "frac_forest"))
            + 150.0 * np.minimum(_col(attributes, "aridity"), 2.5))


def slow_store_parameters(attributes: pd.DataFrame) -> np.ndarray:
    """(φ, c [mm·day], L [mm/day]) of the slow groundwater store and the channel loss per basin."""
    k = permeability_index(attributes)
    aridity = _col(attributes, "aridity")
    phi = ((0.03 + 0.25 * k + 0.1 * np.minimum(_col(attributes, "frac_snow"), 1.0))
           * np.clip(1.5 - 0.5 * aridity, 0.2, 1.0))
    tau = 60.0 + 200.0 * (1.0 - slope_index(attributes)) + 200.0 * _col(attributes, "soil_porosity")
    loss = 0.06 * np.clip(aridity - 1.1, 0.0, 1.5) * (0.5 + _col(attributes, "sand_frac") / 60.0)
    return np.column_stack([np.clip(phi, 0.02, 0.6), G_REF * tau, loss])


def _clip_to(params: np.ndarray, names: tuple[str, ...], bounds: dict[str, tuple[float, float]]) -> np.ndarray:
    low = np.array([bounds[name][0] for name in names])
    high = np.array([bounds[name][1] for name in names])
    return np.clip(params, low, high)


def _with_spinup(array: np.ndarray) -> np.ndarray:
    """(basins, days) -> the first SPINUP_DAYS days (or all) in front of the series."""
    return np.concatenate([array[:, :min(SPINUP_DAYS, array.shape[1])], array], axis=1)


def _spun_dates(dates: pd.DatetimeIndex) -> np.ndarray:
    values = np.asarray(dates, dtype="datetime64[D]")
    return np.concatenate([values[:min(SPINUP_DAYS, len(values))], values])


def _drop_spinup(out: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    return {name: np.ascontiguousarray(values[:, -n:]) for name, values in out.items()}


def _doy(dates: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(dates.day_of_year, dtype=float)[None, :]


# --- EXP-HYDRO ------------------------------------------------------------------------------------


def exphydro_parameters(attributes: pd.DataFrame) -> np.ndarray:
    """EXP-HYDRO parameters inside the original calibration bounds.

    f = 0.01 + 0.02 (−12.5 − geol_permeability); S_max = S_r; Q_max = 10 + 40 s;
    D_f = 1 + 2.5 (1 − frac_forest) + elev_mean/3500; T_max = 0.5 + 1.5 elev_mean/3500;
    T_min = −0.5 − 0.1 (gauge_lat − 30).
    """
    elevation = np.clip(_col(attributes, "elev_mean") / 3500.0, 0.0, 1.0)
    params = np.column_stack([
        0.01 + 0.02 * (-12.5 - _col(attributes, "geol_permeability")),
        root_zone_capacity(attributes),
        10.0 + 40.0 * slope_index(attributes),
        1.0 + 2.5 * (1.0 - _col(attributes, "frac_forest")) + elevation,
        0.5 + 1.5 * elevation,
        -0.5 - 0.1 * (_col(attributes, "gauge_lat") - 30.0),
    ])
    return _clip_to(params, exphydro.PARAMETER_NAMES, exphydro.PARAMETER_BOUNDS)


def run_exphydro(params: np.ndarray, forcings: dict) -> dict[str, np.ndarray]:
    """EXP-HYDRO (RK4, Hamon PET)."""
    tmean = 0.5 * (forcings["tmax"] + forcings["tmin"])
    n = tmean.shape[1]
    out = exphydro.simulate_batch(params, _with_spinup(forcings["prcp"]), _with_spinup(tmean),
                                  _with_spinup(forcings["dayl"]))
    return _drop_spinup({name: out[name] for name in ("q", "et", "swe", "soil")}, n)


# --- SAC-SMA + Snow-17 ----------------------------------------------------------------------------

SACSMA_PARAMETER_NAMES: tuple[str, ...] = sacsma_snow17.CALIBRATED_PARAMETERS + ("pet_coef",)


def sacsma_parameters(attributes: pd.DataFrame) -> np.ndarray:
    """SAC-SMA, Snow-17 and unit-hydrograph parameters (a-priori style: soils, geology, slope, forest).

    uztwm = 0.15 S_r, lztwm = 0.6 S_r, uzfwm = 15 + 12 soil_conductivity, lzfpm = 50 + 350 k,
    lzfsm = 20 + 80 (1 − k), uzk = 0.2 + 0.4 s, lzpk = 0.002 + 0.012 k, lzsk = 0.02 + 0.1 s,
    zperc = 20 + 150 (1 − clay/40), rexp = 1.2 + 2 clay/40, pfree = 0.05 + 0.4 sand/60,
    pctim = 0.005 + 0.02 (1 − forest), adimp = 0.02 + 0.1 (1 − forest)(1 − s); Snow-17 with scf = 1,
    melt factors falling with forest cover, pxtemp = 1 − 0.03 (lat − 30); gamma unit hydrograph of
    shape 2 + (1 − s) and scale 0.3 + 0.15 ln(area/10) − 0.3 s days; Priestley–Taylor coefficient
    0.95 + 0.25 min(max(aridity − 0.6, 0)/1.5, 1) (advection in dry climates; below the 1.26 of open
    water, so that the truth's ET stays within reach of the benchmark's Hamon-driven EXP-HYDRO).
    """
    s = slope_index(attributes)
    k = permeability_index(attributes)
    sr = root_zone_capacity(attributes)
    forest = _col(attributes, "frac_forest")
    clay = _col(attributes, "clay_frac")
    sand = _col(attributes, "sand_frac")
    elevation = np.clip(_col(attributes, "elev_mean") / 3500.0, 0.0, 1.0)
    area = np.maximum(_col(attributes, "area_gages2"), 1.0)
    values = {
        "scf": np.ones_like(s),
        "mfmax": 0.9 + 0.8 * (1.0 - forest) + 0.3 * elevation,
        "mfmin": 0.15 + 0.25 * (1.0 - forest),
        "uadj": 0.04 + 0.1 * (1.0 - forest),
        "si": 100.0 + 900.0 * np.clip(2.0 * _col(attributes, "frac_snow"), 0.0, 1.0),
        "pxtemp": 1.0 - 0.03 * (_col(attributes, "gauge_lat") - 30.0),
        "uztwm": 0.15 * sr,
        "uzfwm": 15.0 + 12.0 * _col(attributes, "soil_conductivity"),
        "lztwm": 0.6 * sr,
        "lzfpm": 50.0 + 350.0 * k,
        "lzfsm": 20.0 + 80.0 * (1.0 - k),
        "uzk": 0.2 + 0.4 * s,
        "lzpk": 0.002 + 0.012 * k,
        "lzsk": 0.02 + 0.1 * s,
        "zperc": 20.0 + 150.0 * np.clip(1.0 - clay / 40.0, 0.0, 1.0),
        "rexp": 1.2 + 2.0 * clay / 40.0,
        "pfree": 0.05 + 0.4 * sand / 60.0,
        "pctim": 0.005 + 0.02 * (1.0 - forest),
        "adimp": 0.02 + 0.1 * (1.0 - forest) * (1.0 - s),
        "unit_shape": 2.0 + (1.0 - s),
        "unit_scale": 0.3 + 0.15 * np.log(area / 10.0) - 0.3 * s,
        "pet_coef": 0.95 + 0.25 * np.clip((_col(attributes, "aridity") - 0.6) / 1.5, 0.0, 1.0),
    }
    params = np.column_stack([values[name] for name in SACSMA_PARAMETER_NAMES])
    bounds = {**sacsma_snow17.PARAMETER_BOUNDS, "unit_scale": (0.1, 5.0), "pet_coef": (0.9, 1.3)}
    return _clip_to(params, SACSMA_PARAMETER_NAMES, bounds)


def run_sacsma(params: np.ndarray, forcings: dict) -> dict[str, np.ndarray]:
    """Snow-17 + SAC-SMA + gamma unit hydrograph per basin (Priestley–Taylor PET × pet_coef)."""
    dates = forcings["dates"]
    n = len(dates)
    pet_unit = priestley_taylor(forcings["tmin"], forcings["tmax"], forcings["srad"], forcings["dayl"],
                                forcings["lat"][:, None], forcings["elev"][:, None], _doy(dates), alpha=1.0)
    tair = _with_spinup(0.5 * (forcings["tmax"] + forcings["tmin"]))
    prcp, pet_unit, spun = _with_spinup(forcings["prcp"]), _with_spinup(pet_unit), _spun_dates(dates)
    out = {name: np.empty_like(prcp) for name in ("q", "et", "swe", "soil")}
    for b in range(params.shape[0]):
        values = dict(zip(SACSMA_PARAMETER_NAMES, (float(v) for v in params[b])))
        coef = values.pop("pet_coef")
        run = sacsma_snow17.simulate(values, prcp[b], tair[b], coef * pet_unit[b], float(forcings["lat"][b]),
                                     float(forcings["elev"][b]), spun,
                                     initial_states={"swe": 0.0, **dict.fromkeys(
                                         ("uztwc", "uzfwc", "lztwc", "lzfsc", "lzfpc", "adimc"), 0.0)})
        out["q"][b], out["et"][b], out["swe"][b] = run["qsim"], run["et"], run["swe"]
        out["soil"][b] = run["soil_storage"]
    return _drop_spinup(out, n)


# --- GR4J + CemaNeige-like snow -------------------------------------------------------------------


def oudin_pet(tmean: np.ndarray, lat: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Oudin et al. (2005): PET = R_a/(λ ρ) · (T + 5)/100 for T > −5 °C, else 0 [mm/day]."""
    ra = extraterrestrial_radiation(lat, doy)
    return np.where(tmean > -5.0, ra / LATENT_HEAT * (tmean + 5.0) / 100.0, 0.0)


def gr4j_parameters(attributes: pd.DataFrame) -> np.ndarray:
    """GR4J + snow parameters: x1 = 0.9 S_r, x2 = 0.3 − 1.4 k − 1.5 carbonate_rocks_frac (a groundwater
    loss in permeable and karst geology), x3 = 40 + 220 (1 − s), x4 = 1.1 + 1.5 ln(area/20)/ln(500)
    − 0.4 s days, ddf = 2 + 3 (1 − frac_forest), t_snow = 1 − 0.02 (lat − 30), θ = 0.6 + 0.3 elev/3500."""
    s = slope_index(attributes)
    area = np.maximum(_col(attributes, "area_gages2"), 1.0)
    params = np.column_stack([
        0.9 * root_zone_capacity(attributes),
        0.3 - 1.4 * permeability_index(attributes) - 1.5 * _col(attributes, "carbonate_rocks_frac"),
        40.0 + 220.0 * (1.0 - s),
        1.1 + 1.5 * np.clip(np.log(area / 20.0) / np.log(500.0), 0.0, 1.0) - 0.4 * s,
        2.0 + 3.0 * (1.0 - _col(attributes, "frac_forest")),
        1.0 - 0.02 * (_col(attributes, "gauge_lat") - 30.0),
        0.6 + 0.3 * np.clip(_col(attributes, "elev_mean") / 3500.0, 0.0, 1.0),
    ])
    low = np.array([50.0, -3.0, 10.0, 1.0, 0.5, -1.0, 0.0])
    high = np.array([2000.0, 1.0, 500.0, 5.0, 8.0, 2.0, 0.95])
    return np.clip(params, low, high)


def run_gr4j(params: np.ndarray, forcings: dict) -> dict[str, np.ndarray]:
    """GR4J + CemaNeige-like snow (Oudin PET) per basin."""
    dates = forcings["dates"]
    n = len(dates)
    tmean = 0.5 * (forcings["tmax"] + forcings["tmin"])
    pet = _with_spinup(oudin_pet(tmean, forcings["lat"][:, None], _doy(dates)))
    prcp, tmean = _with_spinup(forcings["prcp"]), _with_spinup(tmean)
    rows = np.empty((params.shape[0], len(kernels.GR4J_OUTPUT_NAMES), prcp.shape[1]))
    for b in range(params.shape[0]):
        kernels.run_gr4j_snow(np.ascontiguousarray(params[b]), prcp[b], tmean[b], pet[b], rows[b])
    names = kernels.GR4J_OUTPUT_NAMES
    return _drop_spinup({name: rows[:, names.index(name)] for name in ("q", "et", "swe", "soil")}, n)


TRUTH_MODELS: dict[str, TruthModel] = {
    "exphydro": TruthModel(exphydro.PARAMETER_NAMES, exphydro_parameters, run_exphydro),
    "sacsma_snow17": TruthModel(SACSMA_PARAMETER_NAMES, sacsma_parameters, run_sacsma),
    "gr4j_snow": TruthModel(kernels.GR4J_PARAMETER_NAMES, gr4j_parameters, run_gr4j),
}
#: the structures in the order they are dealt out to the basins of a region
STRUCTURES: tuple[str, ...] = tuple(TRUTH_MODELS)
#: every parameter name of every structure plus the slow store's, the ``parameter`` axis of truth.nc
ALL_PARAMETER_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    [name for model in TRUTH_MODELS.values() for name in model.parameter_names] + list(SLOW_PARAMETER_NAMES)))


def assign_structures(basins: pd.DataFrame, model: str = "mixed") -> np.ndarray:
    """Structure name per basin: ``model`` everywhere, or for ``"mixed"`` the structures dealt out
    round-robin within each region (member m of region r gets STRUCTURES[(r + m) % 3]), so every
    region with three basins holds all three and the 24-basin default 8 basins of each."""
    if model != "mixed":
        return np.array([model] * len(basins))
    member = basins.groupby("region").cumcount().to_numpy()
    return np.array([STRUCTURES[(r + m) % len(STRUCTURES)] for r, m in zip(basins["region"], member)])


def simulate_truth(attributes: pd.DataFrame, structures: np.ndarray, forcings: dict) -> dict[str, np.ndarray]:
    """Noise-free streamflow of every basin from its structure and the slow store.

    Returns (basins, days) arrays q (total), q_structure, q_slow, channel_loss, et [mm/day], swe, soil,
    slow_store [mm], and (basins, parameters) ``params`` over :data:`ALL_PARAMETER_NAMES` (NaN where a parameter
    is not of the basin's structure).
    """
    nb, n = forcings["prcp"].shape
    out = {name: np.zeros((nb, n)) for name in ("q_structure", "et", "swe", "soil")}
    params = np.full((nb, len(ALL_PARAMETER_NAMES)), np.nan)
    for name, model in TRUTH_MODELS.items():
        rows = np.flatnonzero(structures == name)
        if not rows.size:
            continue
        chosen = {key: (value[rows] if isinstance(value, np.ndarray) else value) for key, value in forcings.items()}
        values = model.parameters(attributes.iloc[rows])
        sim = model.simulate(values, chosen)
        out["q_structure"][rows] = sim["q"]
        for key in ("et", "swe", "soil"):
            out[key][rows] = sim[key]
        params[np.ix_(rows, [ALL_PARAMETER_NAMES.index(p) for p in model.parameter_names])] = values
    slow = slow_store_parameters(attributes)
    params[:, [ALL_PARAMETER_NAMES.index(p) for p in SLOW_PARAMETER_NAMES]] = slow
    out["q_slow"] = np.empty((nb, n))
    out["slow_store"] = np.empty((nb, n))
    for b in range(nb):
        phi, c, _ = slow[b]
        inflow = phi * out["q_structure"][b]
        g0 = np.sqrt(c * inflow.mean())  # equilibrium with the mean recharge
        kernels.route_slow_store(inflow, float(c), float(g0), out["q_slow"][b], out["slow_store"][b])
    q = (1.0 - slow[:, :1]) * out["q_structure"] + out["q_slow"]
    out["channel_loss"] = np.minimum(q, slow[:, 2:3])
    out["q"] = q - out["channel_loss"]
    out["params"] = params
    return out
