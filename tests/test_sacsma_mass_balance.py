"""Water balance and input checking of the coupled Snow-17 + SAC-SMA + unit hydrograph model."""

import numpy as np
import pytest

from runoffbench.errors import ConfigError, DataError
from runoffbench.models.conceptual import sacsma_snow17, unit_hydrograph

N_DAYS = 30 * 365 + 7  # 30 years from 1990-01-01
STORES = ("uztwc", "uzfwc", "lztwc", "lzfsc", "lzfpc", "adimc")


def _forcing(seed: int):
    """Random daily weather with a seasonal temperature cycle that builds and melts snow."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64("1990-01-01") + np.arange(N_DAYS)
    doy = np.arange(N_DAYS) % 365.25
    tair = 5.0 - 12.0 * np.cos(2 * np.pi * doy / 365.25) + rng.normal(0.0, 4.0, N_DAYS)
    wet = rng.random(N_DAYS) < 0.35
    prcp = np.where(wet, rng.gamma(0.8, 12.0, N_DAYS), 0.0)
    pet = np.clip(2.5 - 2.0 * np.cos(2 * np.pi * doy / 365.25), 0.1, None)
    return prcp, tair, pet, dates


def _random_parameters(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    params = {name: rng.uniform(low, high)
              for name, (low, high) in sacsma_snow17.PARAMETER_BOUNDS.items()}
    params["adimp"] = rng.uniform(0.0, 0.3)  # keep pctim + adimp < 1
    params["pctim"] = rng.uniform(0.0, 0.3)
    return params


def _storage(out: dict, params: dict, t: int) -> float:
    pervious = 1.0 - params["pctim"] - params["adimp"]
    soil = pervious * sum(out[s][t] for s in STORES[:5]) + params["adimp"] * out["adimc"][t]
    return out["swe"][t] + soil + out["channel_storage"][t]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_water_balance_closes_over_30_years(seed):
    params = _random_parameters(seed)
    prcp, tair, pet, dates = _forcing(seed)
    initial = {"swe": 15.0, "uztwc": 5.0, "uzfwc": 10.0, "lztwc": 50.0, "lzfsc": 20.0,
               "lzfpc": 30.0, "adimc": 40.0}
    out = sacsma_snow17.simulate(params, prcp, tair, pet, 45.0, 1500.0, dates,
                                 initial_states=initial)
    pervious = 1.0 - params["pctim"] - params["adimp"]
    storage0 = initial["swe"] + pervious * sum(initial[s] for s in STORES[:5]) \
        + params["adimp"] * initial["adimc"]
    water_in = out["rainfall"].sum() + out["snowfall"].sum()
    water_out = out["et"].sum() + out["qsim"].sum() + out["deep_loss"].sum()
    residual = (water_in - water_out + out["numerical_adjustment"].sum()
                - (_storage(out, params, N_DAYS - 1) - storage0))
    assert out["snowfall"].sum() > 1000.0  # the forcing really builds snow packs
    assert out["et"].sum() > 5000.0 and out["qsim"].sum() > 1000.0
    assert out["deep_loss"].sum() > 0.0  # side > 0: deep recharge leaves the basin
    assert abs(out["numerical_adjustment"].sum()) < 0.01 * water_in
    assert abs(residual) <= 1e-6


def test_snowfall_is_scf_corrected_and_rain_is_not():
    params = _random_parameters(5)
    prcp, tair, pet, dates = _forcing(5)
    out = sacsma_snow17.simulate(params, prcp, tair, pet, 45.0, 1500.0, dates)
    snow_days = (prcp > 0) & (tair <= params["pxtemp"])
    np.testing.assert_allclose(out["snowfall"][snow_days], params["scf"] * prcp[snow_days])
    np.testing.assert_allclose(out["rainfall"][~snow_days], prcp[~snow_days])


def test_unit_hydrograph_is_normalised_and_conserves_flow():
    ordinates = unit_hydrograph.gamma_unit_hydrograph(1.294, 0.393, 1.0)
    assert ordinates.sum() == pytest.approx(1.0, abs=1e-12)
    assert ordinates[0] == pytest.approx(0.90516, abs=1e-4)  # Fortran: 230.837 / 255.022
    pulse = np.zeros(50)
    pulse[3] = 10.0
    routed, in_flight = unit_hydrograph.route(pulse, ordinates)
    assert routed.sum() == pytest.approx(10.0, abs=1e-12)
    np.testing.assert_allclose(np.cumsum(pulse) - np.cumsum(routed), in_flight, atol=1e-12)


def _one_year():
    prcp, tair, pet, dates = _forcing(0)
    return prcp[:365], tair[:365], pet[:365], dates[:365]


def test_out_of_bounds_parameter_names_parameter():
    params = _random_parameters(0) | {"uzk": 0.95}
    with pytest.raises(ConfigError, match="'uzk'"):
        sacsma_snow17.simulate(params, *_one_year()[:3], 45.0, 500.0, _one_year()[3])


def test_unknown_parameter_is_rejected():
    params = _random_parameters(0) | {"uzkk": 0.3}
    with pytest.raises(ConfigError, match="uzkk"):
        sacsma_snow17.simulate(params, *_one_year()[:3], 45.0, 500.0, _one_year()[3])


def test_missing_calibrated_parameter_is_rejected():
    params = _random_parameters(0)
    del params["scf"]
    with pytest.raises(ConfigError, match="scf"):
        sacsma_snow17.simulate(params, *_one_year()[:3], 45.0, 500.0, _one_year()[3])


def test_nan_forcing_names_the_day_index():
    prcp, tair, pet, dates = _one_year()
    tair = tair.copy()
    tair[123] = np.nan
    with pytest.raises(DataError, match=r"'tair'.*day index 123"):
        sacsma_snow17.simulate(_random_parameters(0), prcp, tair, pet, 45.0, 500.0, dates)


def test_negative_initial_state_is_rejected():
    with pytest.raises(ConfigError, match="'lzfpc'"):
        sacsma_snow17.simulate(_random_parameters(0), *_one_year()[:3], 45.0, 500.0,
                               _one_year()[3], initial_states={"lzfpc": -1.0})
