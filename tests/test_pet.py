"""PET formulas against hand-computed values (FAO-56 worked examples and step-by-step arithmetic)."""

import numpy as np
import pytest

from runoffbench.models.conceptual import pet


def test_extraterrestrial_radiation_and_day_length_match_fao56_examples():
    # FAO-56 examples 8 and 9: 20 deg S on 3 September (day 246): Ra = 32.2 MJ m-2 d-1, N = 11.7 h
    assert pet.extraterrestrial_radiation(-20.0, 246) == pytest.approx(32.2, abs=0.05)
    assert pet.day_length(-20.0, 246) / 3600.0 == pytest.approx(11.7, abs=0.05)


def test_day_length_is_twelve_hours_at_equator_and_polar_extremes():
    assert pet.day_length(0.0, np.arange(1, 366)) == pytest.approx(np.full(365, 43200.0))
    assert pet.day_length(80.0, 172) == pytest.approx(86400.0)
    assert pet.day_length(80.0, 355) == pytest.approx(0.0)


def test_hamon_hand_value():
    # 29.8 * 12 h * 0.611 exp(17.3*20/257.3) / 293.2 = 2.85947 mm/day
    assert pet.hamon(20.0, 12 * 3600.0) == pytest.approx(2.85947, abs=1e-5)
    assert pet.hamon(np.array([-10.0, 0.0, 20.0]), 43200.0)[0] < pet.hamon(0.0, 43200.0)


def test_hargreaves_hand_value():
    # Ra = 32.194 MJ -> 13.140 mm; 0.0023 * 13.140 * (22.5 + 17.8) * sqrt(15) = 4.7172 mm/day
    assert pet.hargreaves(15.0, 30.0, -20.0, 246) == pytest.approx(4.7172, abs=1e-3)
    assert pet.hargreaves(-40.0, -30.0, 45.0, 10) == 0.0


def test_priestley_taylor_hand_value():
    # 40 N, day 180, z = 500 m, Tmin 12, Tmax 28 C, srad 250 W/m2 over 13 h:
    # Ra = 41.729, Rs = 11.700, Rso = 31.714, Rnl = 0.9381, Rn = 8.0709 MJ m-2 d-1,
    # Delta = 0.14474 kPa/C, P = 95.528 kPa, gamma = 0.063526 kPa/C
    # PET = 1.26/2.45 * 0.14474 * 8.0709 / (0.14474 + 0.063526) = 2.8847 mm/day
    value = pet.priestley_taylor(12.0, 28.0, 250.0, 13 * 3600.0, 40.0, 500.0, 180)
    assert value == pytest.approx(2.8847, abs=1e-3)
    doubled = pet.priestley_taylor(12.0, 28.0, 250.0, 13 * 3600.0, 40.0, 500.0, 180, alpha=2.52)
    assert doubled == pytest.approx(2 * value)


def test_priestley_taylor_is_vectorised_and_non_negative():
    doy = np.arange(1, 366)
    values = pet.priestley_taylor(-25.0 + 0 * doy, -15.0 + 0 * doy, 20.0, 8 * 3600.0, 47.0, 300.0, doy)
    assert values.shape == (365,)
    assert np.all(values >= 0.0)
