"""Issue 10: the embedded synthetic default behaves like CAMELS.

The default dataset (24 basins, 1980-2014, seed 0, as config/config.yaml generates it) is compared with
the real CAMELS attribute tables in ../shared (all 671 basins; skipped when absent): runoff ratio,
baseflow index, aridity and snow fraction lie within CAMELS' range, ephemeral basins are as rare as
there. Its streamflow comes from three model structures recorded in truth.nc, every truth parameter
is a function of the written attribute tables, and the generator's own kernels close their water
balance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from runoffbench.data.camels_us import read_attributes
from runoffbench.data.synthetic import kernels, truth_models
from runoffbench.data.synthetic.generator import SyntheticConfig, generate_dataset, write_dataset

SAMPLE = Path(__file__).parents[2] / "shared" / "data" / "camels_us_sample"
SIGNATURES = ("runoff_ratio", "baseflow_index", "aridity", "frac_snow")


@pytest.fixture(scope="module")
def default():
    return generate_dataset(SyntheticConfig())  # what `runoffbench synth` and config/config.yaml write


@pytest.fixture(scope="module")
def camels():
    if not (SAMPLE / "camels_attributes_v2.0" / "camels_hydro.txt").is_file():
        pytest.skip("../shared CAMELS attribute tables not available")
    return read_attributes(SAMPLE)


@pytest.mark.parametrize("name", SIGNATURES)
def test_distribution_lies_within_camels(default, camels, name):
    ours = default.attributes[name].astype(float)
    real = camels[name].astype(float).dropna()
    lo5, q25, q75, hi95 = real.quantile([0.05, 0.25, 0.75, 0.95])
    q10, median, q90 = ours.quantile([0.1, 0.5, 0.9])
    slack = 0.01 * (hi95 - lo5)  # CAMELS' 5 % snow fraction is 0.0009: "no snow" within 1 % of the range
    assert q25 <= median <= q75, (name, median, (q25, q75))
    assert lo5 - slack <= q10 and q90 <= hi95 + slack, (name, (q10, q90), (lo5, hi95))
    assert real.min() <= ours.min() and ours.max() <= real.max(), name


def test_ephemeral_basins_are_as_rare_as_in_camels(default, camels):
    zero = default.attributes["zero_q_freq"]
    # CAMELS: 1.8 % of basins with zero flow on more than half of the days, 13 % on more than 5 %
    assert (zero > 0.5).sum() <= 2
    assert (zero > 0.05).mean() <= 2 * (camels["zero_q_freq"] > 0.05).mean()
    assert (default.attributes["q_mean"] > 0.05).all()
    assert (zero > 0.0).any()  # intermittent streams exist, as in CAMELS


def test_streamflow_comes_from_several_structures(default, tmp_path):
    structures = default.truth["truth_model"].to_series()
    counts = structures.value_counts()
    assert set(counts.index) == set(truth_models.STRUCTURES) and counts.min() >= 6
    # every region with three basins holds all three structures
    huc = default.attributes["huc_02"]
    for region, members in structures.groupby(huc):
        assert members.nunique() == min(3, len(members)), region
    # parameters of other structures are NaN; the slow store is everywhere
    params = default.truth["params"].to_pandas()
    for basin, name in structures.items():
        own = set(truth_models.TRUTH_MODELS[name].parameter_names) | set(truth_models.SLOW_PARAMETER_NAMES)
        assert set(params.columns[params.loc[basin].notna()]) == own, basin
    write_dataset(default, tmp_path)
    with xr.open_dataset(tmp_path / "truth.nc") as truth:  # what the config's `generator` model reads
        assert truth["q"].dims == ("basin", "date") and truth["q"].attrs["units"] == "mm/day"
        assert list(truth["truth_model"].values) == list(structures)
        np.testing.assert_allclose(truth["q"].values, default.truth["q"].values)


def test_truth_parameters_follow_from_the_written_attributes(tmp_path):
    dataset = generate_dataset(SyntheticConfig(n_basins=9, start="2000-01-01", end="2003-12-31", seed=5))
    write_dataset(dataset, tmp_path)
    written = read_attributes(tmp_path)
    structures = dataset.truth["truth_model"].to_series()
    params = dataset.truth["params"].to_pandas()
    for name, model in truth_models.TRUTH_MODELS.items():
        basins = list(structures.index[structures == name])
        assert basins, name
        expected = model.parameters(written.loc[basins])
        np.testing.assert_allclose(params.loc[basins, list(model.parameter_names)].to_numpy(), expected, rtol=1e-9)
    slow = truth_models.slow_store_parameters(written.loc[params.index])
    np.testing.assert_allclose(params[list(truth_models.SLOW_PARAMETER_NAMES)].to_numpy(), slow, rtol=1e-9)


def test_baseflow_index_follows_the_slow_store(default):
    # attributes that explain behaviour: the slow-store fraction (geology, snow, aridity) orders BFI
    phi = default.truth["params"].sel(parameter="slow_fraction").to_series()
    bfi = default.attributes["baseflow_index"]
    assert phi.corr(bfi, method="spearman") > 0.3


def test_kernels_close_the_water_balance():
    rng = np.random.default_rng(0)
    n = 3000
    days = np.arange(n)
    prcp = np.where(rng.random(n) < 0.35, rng.exponential(8.0, n), 0.0)
    tmean = 8.0 - 12.0 * np.cos(2 * np.pi * (days - 20) / 365.25) + rng.normal(0, 3, n)
    pet = np.clip(2.0 - 1.8 * np.cos(2 * np.pi * (days - 20) / 365.25), 0.0, None)
    for x2 in (-1.5, 0.0, 0.8):
        params = np.array([350.0, x2, 90.0, 2.3, 3.0, 1.0, 0.7])
        out = np.empty((len(kernels.GR4J_OUTPUT_NAMES), n))
        kernels.run_gr4j_snow(params, prcp, tmean, pet, out)
        row = dict(zip(kernels.GR4J_OUTPUT_NAMES, out))
        assert (row["q"] >= 0).all() and (row["swe"] >= 0).all() and row["swe"].max() > 20.0
        residual = (prcp[1:] - row["et"][1:] - row["q"][1:] + row["exchange"][1:]).sum() - (
            row["storage"][-1] - row["storage"][0])
        assert abs(residual) < 1e-8 * prcp.sum(), x2
    outflow, store = np.empty(n), np.empty(n)
    kernels.route_slow_store(0.3 * prcp, 5000.0, 20.0, outflow, store)
    assert (outflow >= 0).all()
    assert abs((0.3 * prcp).sum() - outflow.sum() - (store[-1] - 20.0)) < 1e-9 * prcp.sum()
    # nonlinear: the recession time scale G/Q = c/G grows as the store empties
    assert np.ptp(store / np.maximum(outflow, 1e-12)) > 100.0
