"""Water balance of both conceptual models on the embedded synthetic data, through the registry.

Issue 3: P - ET - Q - deep losses - ΔS closes to <= 1e-6 mm over 30 years, routing store included,
on the synthetic data. Runs the adapters the calibration calls (``prepare`` once, ``simulate`` per
parameter set) on 30 years of generated CAMELS-US forcing of three basins, with parameter sets drawn
inside the default calibration bounds.
"""

from __future__ import annotations

import numpy as np
import pytest

from runoffbench.data.synthetic.generator import SyntheticConfig, generate_dataset
from runoffbench.models.conceptual import get_model


@pytest.fixture(scope="module")
def synthetic():
    return generate_dataset(SyntheticConfig(n_basins=3, start="1980-01-01", end="2009-12-31", seed=3))


def _parameter_sets(model, n, seed):
    rng = np.random.default_rng(seed)
    low = np.array([model.bounds[name][0] for name in model.parameter_names])
    high = np.array([model.bounds[name][1] for name in model.parameter_names])
    return low + (high - low) * rng.random((n, low.size))


@pytest.mark.parametrize("model_name", ["exphydro", "sacsma"])
def test_water_balance_closes_over_30_years_of_synthetic_data(synthetic, model_name):
    model = get_model(model_name)
    for k, (basin, frame) in enumerate(synthetic.forcings["daymet"].items()):
        assert frame.index.size >= 30 * 365
        header = synthetic.headers.loc[basin]
        forcings = {name: frame[name].to_numpy() for name in model.forcings}
        inputs = model.prepare(forcings, float(header["lat"]), float(header["elev"]), frame.index, {})
        for params in _parameter_sets(model, 3, seed=k):
            out = model.simulate(params, inputs)
            if model_name == "sacsma":
                water_in = out["rainfall"] + out["snowfall"]  # snowfall is scf-corrected
                losses = out["deep_loss"] - out["numerical_adjustment"]
                qsim = out["qsim"]
            else:
                water_in = forcings["prcp"]
                losses = np.zeros_like(water_in)
                qsim = out["q"]
            # days 1..n-1 against the change of the end-of-day storage from day 0 (no initial
            # states needed); storage = snow + soil (+ unit-hydrograph channel store for SAC-SMA)
            fluxes = water_in - out["et"] - qsim - losses
            residual = fluxes[1:].sum() - (out["storage"][-1] - out["storage"][0])
            assert abs(residual) <= 1e-6, (basin, params)
            assert out["et"].sum() > 1000.0 and qsim.sum() > 100.0
