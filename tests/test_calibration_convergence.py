"""SAC-SMA + Snow-17 calibration converges: synthetic basins whose flow SAC-SMA itself generated.

Two basins with realistic daily weather (wet-day Markov chain with gamma amounts, seasonal
temperature with autocorrelated anomalies, radiation lower on wet days): a humid rain-dominated one
(40.5 N, 300 m, ~1,100 mm/yr) and the snowy basin of ``test_calibration`` (42 N, 800 m). Their
"observed" flow is SAC-SMA's with known parameters (the NCAR calibration of 03049800), so a
calibration that converges recovers the training flows almost exactly; with the default algorithm
settings, SCE-UA must do so (NSE >= 0.95 on every seed) and not be worse than DDS at equal budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runoffbench.calibration.calibrate import BasinInputs, calibrate_basin, simulate_period
from runoffbench.calibration.objectives import nse
from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.models.conceptual import get_model
from runoffbench.models.conceptual.pet import day_length
from runoffbench.periods import Period, water_years
from tests.test_calibration import TRUE_PARAMETERS, synthetic_basin

#: model runs per calibration (a few seconds each for SAC-SMA on 7 years)
EVALUATIONS = 3000
SEEDS = (0, 1, 2)


def humid_basin(seed: int = 0) -> BasinInputs:
    """Seven water years (1994-10-01..2001-09-30) of humid, rain-dominated weather (40.5 N, 300 m)."""
    dates = pd.date_range("1994-10-01", "2001-09-30", freq="D")
    rng = np.random.default_rng(seed)
    n = dates.size
    doy = dates.day_of_year.to_numpy()
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)
    noise = rng.normal(0.0, 2.0, n)
    anomaly = np.zeros(n)
    for i in range(1, n):  # AR(1) temperature anomalies: warm and cold spells
        anomaly[i] = 0.7 * anomaly[i - 1] + noise[i]
    tmean = 10.0 + 12.0 * season + anomaly
    uniform = rng.random(n)
    wet = np.zeros(n, dtype=bool)
    for i in range(1, n):  # wet-day Markov chain: P(wet | wet) 0.6, P(wet | dry) 0.3
        wet[i] = uniform[i] < (0.6 if wet[i - 1] else 0.3)
    amount = rng.gamma(0.75, 9.0, n) * (1.0 + 0.2 * np.sin(2 * np.pi * doy / 365.25))
    prcp = np.where(wet, amount, 0.0)
    dtr = np.where(wet, 7.0, 12.0)  # diurnal temperature range
    dayl = day_length(40.5, doy)
    srad = np.where(wet, 0.45, 1.0) * (170.0 + 110.0 * season) * 43200.0 / dayl
    forcings = {"prcp": prcp, "tmax": tmean + dtr / 2, "tmin": tmean - dtr / 2, "srad": srad, "dayl": dayl}
    return BasinInputs("03000001", dates, forcings, 40.5, 300.0)


#: basin -> (inputs, train period: five water years after two spin-up years)
BASINS = {
    "humid": (humid_basin, water_years(1997, 2001)),
    "snowy": (synthetic_basin, water_years(1998, 2002)),
}


def sacsma_flow(inputs: BasinInputs) -> np.ndarray:
    model = get_model("sacsma")
    params = np.array([TRUE_PARAMETERS["sacsma"][name] for name in model.parameter_names])
    return simulate_period(model, params, inputs, Period(inputs.dates[0], inputs.dates[-1]), 0)["qsim"]


def train_nse(inputs, flow, train, **settings) -> float:
    """NSE over the train period of the calibrated parameters (re-simulated)."""
    model = get_model("sacsma")
    chosen = CalibrationSettings(evaluations=EVALUATIONS, spinup_years=2, **settings)
    result = calibrate_basin(model, inputs, flow, train, train, chosen)
    assert result.evaluations == EVALUATIONS * chosen.trials
    params = np.array([result.parameters[name] for name in model.parameter_names])
    qsim = simulate_period(model, params, inputs, train, 2)["qsim"]
    return nse(obs=flow[inputs.dates.get_indexer(train.dates)], sim=qsim)


@pytest.mark.parametrize("basin", sorted(BASINS))
def test_sceua_recovers_sacsma_flows_and_is_not_worse_than_dds(basin):
    make, train = BASINS[basin]
    inputs = make()
    flow = sacsma_flow(inputs)
    sceua = [train_nse(inputs, flow, train, algorithm="sceua", seed=seed) for seed in SEEDS]
    dds = [train_nse(inputs, flow, train, algorithm="dds", seed=seed) for seed in SEEDS]
    assert min(sceua) >= 0.95, f"SCE-UA train NSE {sceua}"
    assert np.median(sceua) >= np.median(dds), f"SCE-UA {sceua} vs DDS {dds}"
