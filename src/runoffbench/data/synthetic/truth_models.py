"""Models that generate the synthetic streamflow, registered by name.

A truth model maps the landscape attributes to parameters (so that attributes carry information about
the hydrological response) and simulates all basins at once from the true forcings. Adding a model
(e.g. SAC-SMA) is one more :class:`TruthModel` entry in :data:`TRUTH_MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from runoffbench.models.conceptual import exphydro


@dataclass(frozen=True)
class TruthModel:
    """A streamflow-generating model.

    Attributes:
        parameter_names: names of the columns of the parameter array.
        parameters: landscape attributes (index gauge_id) -> (basins, parameters) array.
        simulate: (parameters, forcings) -> dict of (basins, days) arrays holding at least ``q``
            [mm/day]; ``forcings`` has (basins, days) arrays prcp, tmax, tmin, dayl.
    """

    parameter_names: tuple[str, ...]
    parameters: Callable[[pd.DataFrame], np.ndarray]
    simulate: Callable[[np.ndarray, dict[str, np.ndarray]], dict[str, np.ndarray]]


def _scaled(values: pd.Series, low: float, high: float) -> np.ndarray:
    return np.clip((values.to_numpy(dtype=float) - low) / (high - low), 0.0, 1.0)


def exphydro_parameters(landscape: pd.DataFrame) -> np.ndarray:
    """EXP-HYDRO parameters from attributes, inside the original calibration bounds.

    - S_max = 1300 · soil_depth_statsgo [m] · soil_porosity (+ up to 200 mm under forest),
    - f = 0.01 + 0.02 (−12.5 − geol_permeability) (tighter, faster-draining stores where permeable),
    - Q_max = 10 + 40 · ln(slope_mean)/ln(250) (steeper basins drain faster),
    - D_f = 1 + 3 · elev_mean/3500 (more melt energy per degree at altitude),
    - T_max = 0.5 + 1.5 · elev_mean/3500, T_min = −0.5 − 0.1 (gauge_lat − 30).
    """
    depth_store = 1300.0 * landscape["soil_depth_statsgo"] * landscape["soil_porosity"]
    smax = depth_store.to_numpy() + 200.0 * landscape["frac_forest"].to_numpy()
    f = 0.01 + 0.02 * (-12.5 - landscape["geol_permeability"].to_numpy())
    qmax = 10.0 + 40.0 * np.log(landscape["slope_mean"].to_numpy()) / np.log(250.0)
    elevation = _scaled(landscape["elev_mean"], 0.0, 3500.0)
    df = 1.0 + 3.0 * elevation
    tmax = 0.5 + 1.5 * elevation
    tmin = -0.5 - 0.1 * (landscape["gauge_lat"].to_numpy() - 30.0)
    params = np.column_stack([f, smax, qmax, df, tmax, tmin])
    low = np.array([exphydro.PARAMETER_BOUNDS[name][0] for name in exphydro.PARAMETER_NAMES])
    high = np.array([exphydro.PARAMETER_BOUNDS[name][1] for name in exphydro.PARAMETER_NAMES])
    return np.clip(params, low, high)


def run_exphydro(params: np.ndarray, forcings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """EXP-HYDRO (RK4, Hamon PET) from zero stores after a one-year spin-up on the first year."""
    tmean = 0.5 * (forcings["tmax"] + forcings["tmin"])
    spinup = min(365, tmean.shape[1])
    warm = exphydro.simulate_batch(params, forcings["prcp"][:, :spinup], tmean[:, :spinup],
                                   forcings["dayl"][:, :spinup])
    return exphydro.simulate_batch(params, forcings["prcp"], tmean, forcings["dayl"],
                                   initial_swe=warm["swe"][:, -1], initial_soil=warm["soil"][:, -1])


TRUTH_MODELS: dict[str, TruthModel] = {
    "exphydro": TruthModel(exphydro.PARAMETER_NAMES, exphydro_parameters, run_exphydro),
}
