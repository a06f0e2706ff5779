"""SAC-SMA + Snow-17 + UH on overfull stores, parameters at their bounds and degenerate inputs.

Overfull stores (initial states above capacity) used to make SAC1's deficiency ratio negative,
``D ** rexp`` NaN, and the NaN increment count then gave garbage loop counts inside numba. These
tests pin the guards: every output finite, the water balance closed, in-capacity results unchanged.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from runoffbench.models.conceptual import get_model, sacsma, sacsma_snow17, unit_hydrograph
from tests.test_sacsma_mass_balance import N_DAYS, STORES, _forcing

BOUNDS = sacsma_snow17.PARAMETER_BOUNDS


def _corner(pattern: str) -> dict[str, float]:
    """Every parameter at its lower (``0``) or upper (``1``) bound, cycling through ``pattern``."""
    params = {name: BOUNDS[name][int(bit)]
              for name, bit in zip(BOUNDS, itertools.cycle(pattern))}
    if params["pctim"] + params["adimp"] >= 1.0:
        params["adimp"] = 0.39  # pctim + adimp < 1: keep some pervious area
    return params


def _random_corners(n: int, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [_corner("".join(rng.choice(["0", "1"], size=len(BOUNDS)))) for _ in range(n)]


CORNERS = [_corner("0"), _corner("1"), _corner("01"), _corner("10"), _corner("0011"),
           *_random_corners(11)]
OVERFULL = {"swe": 500.0, **dict.fromkeys(STORES, 2000.0)}
NCAR = {"swe": 0.0, **dict.fromkeys(STORES, 200.0)}
EMPTY = {"swe": 0.0, **dict.fromkeys(STORES, 0.0)}


def _run_and_residual(params, initial):
    prcp, tair, pet, dates = _forcing(3)
    out = sacsma_snow17.simulate(params, prcp, tair, pet, 45.0, 1500.0, dates, initial_states=initial)
    pervious = 1.0 - params["pctim"] - params["adimp"]
    storage0 = (initial["swe"] + pervious * sum(initial[s] for s in STORES[:5])
                + params["adimp"] * initial["adimc"])
    storage = out["swe"][-1] + out["soil_storage"][-1] + out["channel_storage"][-1]
    water_in = out["rainfall"].sum() + out["snowfall"].sum()
    residual = (water_in - out["et"].sum() - out["qsim"].sum() - out["deep_loss"].sum()
                + out["numerical_adjustment"].sum() - (storage - storage0))
    return out, water_in, residual


@pytest.mark.parametrize("initial", [OVERFULL, NCAR], ids=["2000mm", "ncar200mm"])
@pytest.mark.parametrize("params", CORNERS, ids=[f"corner{i}" for i in range(len(CORNERS))])
def test_overfull_states_at_the_bounds_stay_finite_and_close_the_balance(params, initial):
    out, _water_in, residual = _run_and_residual(params, initial)
    for name, values in out.items():
        assert values.shape == (N_DAYS,)
        assert np.isfinite(values).all(), name
    assert (out["qsim"] >= 0.0).all()
    assert abs(residual) <= 1e-6


@pytest.mark.parametrize("params", CORNERS, ids=[f"corner{i}" for i in range(len(CORNERS))])
def test_bounds_from_empty_stores_need_no_large_adjustment(params):
    out, water_in, residual = _run_and_residual(params, EMPTY)
    assert all(np.isfinite(values).all() for values in out.values())
    assert abs(residual) <= 1e-6
    assert np.abs(out["numerical_adjustment"]).sum() < 0.01 * water_in


def test_registry_adapter_is_finite_at_the_bounds():
    from tests.test_calibration import synthetic_basin

    model = get_model("sacsma")
    basin = synthetic_basin()
    inputs = model.prepare(basin.forcings, basin.lat, basin.elev, basin.dates, {})
    rng = np.random.default_rng(1)
    for _ in range(40):
        x = np.array([bounds[rng.integers(2)] for bounds in model.bounds.values()])
        if x[model.parameter_names.index("pctim")] + x[model.parameter_names.index("adimp")] >= 1:
            x[model.parameter_names.index("adimp")] = 0.39
        out = model.simulate(x, inputs)
        assert all(np.isfinite(values).all() for values in out.values())


def test_increment_count_is_range_checked():
    assert sacsma._increment_count(0.0, 0.0) == 1
    assert sacsma._increment_count(10.0, 14.9) == 5  # floor(1 + 0.2 * 24.9)
    assert sacsma._increment_count(np.nan, 1.0) == 1
    assert sacsma._increment_count(-50.0, 0.0) == 1
    assert sacsma._increment_count(np.inf, 0.0) == sacsma.MAX_INCREMENTS
    assert sacsma._increment_count(1e300, 1e300) == sacsma.MAX_INCREMENTS


def test_nan_state_does_not_crash():
    p = np.array([_corner("01")[name] for name in sacsma.PARAMETER_NAMES])
    initial = np.array([np.nan, 10.0, 10.0, 10.0, 10.0, 10.0])
    states, fluxes = sacsma.run_sacsma(np.full(50, 20.0), np.full(50, 2.0), p, initial)
    assert states.shape == (50, 6) and fluxes.shape == (50, 10)


def test_extreme_rain_day_is_applied_in_full():
    """Above 5 m of excess water a day, the increments get coarser but all water is applied."""
    p = np.array([_corner("01")[name] for name in sacsma.PARAMETER_NAMES])
    pxv = np.array([0.0, 1.0e5, 0.0])
    initial = np.full(6, 0.5)
    states, fluxes = sacsma.run_sacsma(pxv, np.zeros(3), p, initial)
    pervious = 1.0 - p[sacsma.PCTIM] - p[sacsma.ADIMP]

    def storage(s):
        return pervious * s[:5].sum() + p[sacsma.ADIMP] * s[5]

    flux = dict(zip(sacsma.FLUX_NAMES, fluxes.sum(axis=0)))
    residual = (pxv.sum() - flux["et"] - flux["channel_inflow"] - flux["deep_loss"]
                + flux["numerical_adjustment"] - (storage(states[-1]) - storage(initial)))
    assert np.isfinite(fluxes).all()
    assert abs(residual) <= 1e-6 * pxv.sum()


@pytest.mark.parametrize(
    ("deficit_p", "deficit_s", "expected"),
    [
        (0.0, 0.0, 0.25),     # both full: by size
        (0.5, -0.5, 1.0),     # undefined quotient: to the store with room
        (-0.5, 0.5, -1.0),
        (-1.0, 1.0 + 1e-15, -1.0),  # nearly singular: bounded
        (-2.6, 0.7, 0.25 * 2 * -2.6 / -1.9),  # overfull primary (NWS run, day 1): SAC1's value
    ],
)
def test_primary_fraction_is_sac1_where_defined_and_bounded(deficit_p, deficit_s, expected):
    assert sacsma._primary_fraction(0.25, deficit_p, deficit_s) == pytest.approx(expected)


def test_primary_fraction_in_capacity_is_sac1_bit_for_bit():
    rng = np.random.default_rng(0)
    for share, dp, ds in rng.random((1000, 3)):
        assert sacsma._primary_fraction(share, dp, ds) == min(share * 2.0 * dp / (dp + ds), 1.0)


@pytest.mark.parametrize(("shape", "scale"), [(5.0, 0.001), (1.0, 0.001), (5.0, 0.05)])
def test_unit_hydrograph_within_one_step_routes_immediately(shape, scale):
    """All of the gamma density lies within the first day: NCAR's code routed no water here."""
    np.testing.assert_array_equal(unit_hydrograph.gamma_unit_hydrograph(shape, scale, 1.0), [1.0])


def test_slow_unit_hydrograph_is_not_cut_on_its_rising_limb():
    """Shape 5, scale 5 days (mean lag 25 days): NCAR's cut stopped at day 2 with no ordinate."""
    ordinates = unit_hydrograph.gamma_unit_hydrograph(5.0, 5.0, 1.0)
    assert ordinates.sum() == pytest.approx(1.0, abs=1e-12)
    assert 20.0 < (np.arange(ordinates.size) * ordinates).sum() < 26.0
    pulse = np.zeros(200)
    pulse[0] = 10.0
    routed, in_flight = unit_hydrograph.route(pulse, ordinates)
    assert routed.sum() == pytest.approx(10.0, abs=1e-9) and in_flight[-1] == pytest.approx(0.0, abs=1e-9)


def test_coupled_kernel_matches_the_standalone_sac_kernel():
    """The coupled run equals SAC-SMA driven by its own rain + melt: catches a stale numba cache.

    (numba caches ``_run_coupled`` by the content of sacsma_snow17.py; a digest of the kernels it
    inlines is part of its cache key, so an edit of sacsma.py alone recompiles it.)
    """
    params = sacsma_snow17.validate_parameters(_corner("01"))
    prcp, tair, pet, dates = _forcing(4)
    out = sacsma_snow17.simulate(params, prcp, tair, pet, 45.0, 1500.0, dates, initial_states=NCAR)
    p = np.array([params[name] for name in sacsma.PARAMETER_NAMES])
    states, fluxes = sacsma.run_sacsma(out["rain_plus_melt"], pet, p, np.full(6, 200.0))
    for k, name in enumerate(STORES):
        np.testing.assert_array_equal(out[name], states[:, k])
    for k, name in enumerate(sacsma.FLUX_NAMES):
        np.testing.assert_array_equal(out[name], fluxes[:, k])
