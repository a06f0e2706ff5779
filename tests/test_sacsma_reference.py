"""Snow-17 + SAC-SMA + unit hydrograph against the NWS/NCAR Fortran run of basin 03049800.

The Fortran run had two settings that differ from this package's defaults, and the model has to be
given them to reproduce it:

- **No areal depletion curve**: ``adc`` is 11 zeros. The NCAR driver reads ``adc1`` .. ``adc11``
  from the Snow-17 parameter file (``read_snow17_params`` in its ``gauge_calib``), and
  ``calib_03049800_snow17_params.parm`` has no such lines, so the array stays zero. Every time the
  pack falls below its last reference value ``SB`` (the ``AESC19`` branch onto the curve), the
  cover is 0, raised to the 0.05 floor, and ``SBAESC`` is set to 0. Between ``SB`` and ``SBWS``
  the cover is then :math:`(W - SB)/(SBWS - SB)` instead of starting from the curve's value. This
  explains the 2011-02-13..17 event that the earlier version of this test reported: after a
  0.34 mm snowfall on 02-12 the Fortran cover is 0.37 on 02-13 and 0.05 from 02-14 on, so the pack
  keeps its ~46.6 mm through the 2.3 degC day of 02-14. With the default curve the cover stays
  near 1: 8.7 mm melts on 02-14, and the SWE drops from 46.4 to 37.8 mm.
- **No sensible heat in the rain-on-snow energy balance**: the surface pressure ``PA`` is 0, so
  ``QH = 7.5 * 0.000646 * PA * UADJ * TA`` is 0. This is inferred from the output. With the
  zero curve but the 978.9 hPa of the basin's 296.6 m, 442 days are off by more than 0.1 mm,
  largest 2.31 mm (1981-02-21). The differences arise on rain-on-snow days (rain above 6 mm/day)
  and stay in the pack. 1 hPa still leaves 2.4e-3 mm, and only ``PA`` ~ 0 reproduces every day. One
  public version of the NCAR ``lump_driver`` declares ``pa`` and passes it to ``EXSNOW19`` without
  ever setting it.

With both settings, this float64 code reproduces the single-precision Fortran to the precision of
its printout on every day of 1980-2014 (12,784 days):

| reference column | NSE | max abs diff | mean abs diff |
|---|---:|---:|---:|
| swe | 1 - 3e-16 | 3.3e-6 mm | 4.0e-8 mm |
| raim (rain + melt) | 1 - 9e-16 | 3.7e-6 mm/day | 5.7e-8 mm/day |
| uztwc | constant (PET = 0) | 3.0e-7 mm | |
| uzfwc | 1 - 2e-15 | 7.5e-6 mm | 7.6e-8 mm |
| lztwc | constant (PET = 0) | 3.7e-6 mm | |
| lzfsc | 1 - 2e-15 | 6.9e-6 mm | 6.0e-8 mm |
| lzfpc | 1 - 1e-14 | 1.9e-6 mm | 2.7e-7 mm |
| adimc | 1 - 8e-13 | 1.5e-5 mm | 1.1e-5 mm |
| mod_flow_unrouted | 1 - 4e-16 | 1.4e-6 mm/day | 5.2e-8 mm/day |
| mod_flow_routed | 1 - 4e-16 | 1.3e-6 mm/day | 5.1e-8 mm/day |

No single-precision comparison of ``PACK19``/``AESC19`` (the ``TWE``-vs-``SB`` test of the
depletion curve, ``NEGHS == 0``, ``WATER < NEGHS``, the ripe-pack excess test) changes a result
here, so no float32 emulation is needed. Before this, the test used the defaults
(``DEFAULT_ADC``, pressure from the elevation): SWE NSE 0.99852, 212 days off by more than 1 mm
and 582 by more than 0.1 mm, max 12.92 mm on 2011-02-17, and routed flow max 4.26 mm/day. The
zero curve alone leaves 109 days above 1 mm (max 2.31 mm), and the zero pressure alone leaves 65
(max 12.92 mm).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runoffbench.models.conceptual import sacsma_snow17

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sacsma_nws_03049800"
COLUMNS = ("year month day hour swe pcp pcp_scf raim et pet tair uztwc uzfwc lztwc lzfsc lzfpc "
           "adimc mod_flow_unrouted mod_flow_routed obs_flow").split()
# Gauge latitude and mean elevation of 03049800 from the CAMELS attribute tables.
LATITUDE, ELEVATION = 40.52, 296.6
INITIAL_STATES = {"swe": 0.0, "uztwc": 200.0, "uzfwc": 200.0, "lztwc": 200.0,
                  "lzfsc": 200.0, "lzfpc": 200.0, "adimc": 200.0}
# The Fortran run's depletion curve (no adc lines in its parameter file) and surface pressure.
REFERENCE_ADC = np.zeros(11)
REFERENCE_PRESSURE = 0.0

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared reference data absent")


def _read_parameters() -> dict[str, float]:
    params = {}
    for path in sorted(REFERENCE.glob("calib_03049800_*_params.parm")):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2:
                params[fields[0]] = float(fields[1])
    return params


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    path = REFERENCE / "test_model_output_1.txtb"
    return pd.read_csv(path, sep=r"\s+", skiprows=1, names=COLUMNS)


def _simulate(reference: pd.DataFrame, adc, pressure: float | None) -> dict[str, np.ndarray]:
    """The coupled model on the reference forcing; ``pressure=None``: from the elevation."""
    dates = pd.to_datetime(reference[["year", "month", "day"]]).to_numpy()
    inputs = sacsma_snow17.prepare(reference["pcp"], reference["tair"], reference["pet"],
                                   LATITUDE, ELEVATION, dates, adc=adc,
                                   initial_states=INITIAL_STATES)
    if pressure is not None:
        inputs = inputs._replace(pressure=pressure)
    return sacsma_snow17.run(_read_parameters(), inputs)


@pytest.fixture(scope="module")
def simulated(reference) -> dict[str, np.ndarray]:
    return _simulate(reference, REFERENCE_ADC, REFERENCE_PRESSURE)


def _nse(sim: np.ndarray, obs: np.ndarray) -> float:
    return 1.0 - np.sum((sim - obs) ** 2) / np.sum((obs - obs.mean()) ** 2)


def test_reference_covers_1980_to_2014(reference):
    assert len(reference) == 12784
    assert (reference["pet"] == 0.0).all()


def test_reference_parameter_file_has_no_depletion_curve():
    """Why the run's curve is zero: the NCAR reader sets adc(i) only from 'adcN' lines."""
    assert not [name for name in _read_parameters() if name.startswith("adc")]


def test_swe_matches_fortran_every_day(simulated, reference):
    """SWE within 0.1 mm of the Fortran on every one of the 12,784 days (measured: 3.3e-6 mm)."""
    diff = np.abs(simulated["swe"] - reference["swe"].to_numpy())
    worst = int(diff.argmax())
    assert diff.max() < 0.1, (f"{(diff >= 0.1).sum()} day(s) off by >= 0.1 mm, worst "
                              f"{diff[worst]:.4f} mm on day index {worst}")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("swe", "swe"),
        ("rain_plus_melt", "raim"),
        ("uzfwc", "uzfwc"),
        ("lzfsc", "lzfsc"),
        ("lzfpc", "lzfpc"),
        ("adimc", "adimc"),
        ("channel_inflow", "mod_flow_unrouted"),
        ("qsim", "mod_flow_routed"),
    ],
)
def test_series_match_fortran(simulated, reference, ours, theirs):
    """Every day to 1e-3 mm (measured at most 1.5e-5 mm: the Fortran's float32 printout)."""
    sim, ref = simulated[ours], reference[theirs].to_numpy()
    assert _nse(sim, ref) >= 1.0 - 1e-9
    np.testing.assert_allclose(sim, ref, rtol=0.0, atol=1e-3)


@pytest.mark.parametrize("store", ["uztwc", "lztwc"])
def test_tension_stores_stay_full_without_et(simulated, reference, store):
    """With PET = 0 the tension stores sit at capacity (NSE is undefined for a constant)."""
    np.testing.assert_allclose(simulated[store], reference[store], atol=1e-4)


@pytest.mark.parametrize(
    ("adc", "pressure"),
    [(None, REFERENCE_PRESSURE), (REFERENCE_ADC, None)],
    ids=["default_adc", "pressure_from_elevation"],
)
def test_each_reference_setting_is_needed(reference, adc, pressure):
    """Either default alone (curve, or 978.9 hPa) puts SWE off by more than 1 mm on some days."""
    sim = _simulate(reference, adc, pressure)
    assert np.abs(sim["swe"] - reference["swe"].to_numpy()).max() > 1.0


def test_first_day_spills_initial_excess(simulated, reference):
    """Day 1 routes the initial 200 mm above uztwm = 19.07 mm as the Fortran does (255 mm)."""
    assert simulated["channel_inflow"][0] == pytest.approx(255.0216, abs=1e-3)
    assert simulated["qsim"][0] == pytest.approx(230.8369, abs=1e-3)
    assert simulated["uzfwc"][0] == pytest.approx(152.0193, abs=1e-3)
