"""Snow-17 + SAC-SMA + unit hydrograph against the NWS/NCAR Fortran run of basin 03049800.

Agreement over 1980-2014 (12,784 days; float64 here, single precision in the Fortran):

| reference column | NSE | max abs diff | mean abs diff |
|---|---:|---:|---:|
| swe | 0.99852 | 12.92 mm | 0.048 mm |
| raim (rain + melt) | 0.99878 | 12.92 mm/day | 0.012 mm/day |
| uztwc | constant (PET = 0) | 3.0e-7 mm | |
| uzfwc | 0.99889 | 7.12 mm | 0.0093 mm |
| lztwc | constant (PET = 0) | 3.7e-6 mm | |
| lzfsc | 0.99982 | 1.68 mm | 0.0051 mm |
| lzfpc | 0.99997 | 0.570 mm | 0.0051 mm |
| adimc | 0.99999 | 1.18 mm | 0.0013 mm |
| mod_flow_unrouted | 0.99942 | 4.35 mm/day | 0.0092 mm/day |
| mod_flow_routed | 0.99944 | 4.26 mm/day | 0.0089 mm/day |

All maxima fall on 2011-02-17..19, a warm spell in which Snow-17 here melts 12.9 mm of the last
18.3 mm of the pack one day earlier than the Fortran; the difference then passes through the
stores and flows.
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


@pytest.fixture(scope="module")
def simulated(reference) -> dict[str, np.ndarray]:
    dates = pd.to_datetime(reference[["year", "month", "day"]]).to_numpy()
    return sacsma_snow17.simulate(
        _read_parameters(), reference["pcp"], reference["tair"], reference["pet"],
        LATITUDE, ELEVATION, dates,
        initial_states={"swe": 0.0, "uztwc": 200.0, "uzfwc": 200.0, "lztwc": 200.0,
                        "lzfsc": 200.0, "lzfpc": 200.0, "adimc": 200.0},
    )


def _nse(sim: np.ndarray, obs: np.ndarray) -> float:
    return 1.0 - np.sum((sim - obs) ** 2) / np.sum((obs - obs.mean()) ** 2)


def test_reference_covers_1980_to_2014(reference):
    assert len(reference) == 12784
    assert (reference["pet"] == 0.0).all()


@pytest.mark.parametrize(
    ("ours", "theirs", "max_abs"),
    [
        ("swe", "swe", 20.0),
        ("rain_plus_melt", "raim", 20.0),
        ("uzfwc", "uzfwc", 10.0),
        ("lzfsc", "lzfsc", 3.0),
        ("lzfpc", "lzfpc", 1.0),
        ("adimc", "adimc", 2.0),
        ("channel_inflow", "mod_flow_unrouted", 6.0),
        ("qsim", "mod_flow_routed", 6.0),
    ],
)
def test_series_match_fortran(simulated, reference, ours, theirs, max_abs):
    sim, ref = simulated[ours], reference[theirs].to_numpy()
    assert _nse(sim, ref) >= 0.99
    assert np.abs(sim - ref).max() <= max_abs


@pytest.mark.parametrize("store", ["uztwc", "lztwc"])
def test_tension_stores_stay_full_without_et(simulated, reference, store):
    """With PET = 0 the tension stores sit at capacity (NSE is undefined for a constant)."""
    np.testing.assert_allclose(simulated[store], reference[store], atol=1e-4)


def test_first_day_spills_initial_excess(simulated, reference):
    """Day 1 routes the initial 200 mm above uztwm = 19.07 mm as the Fortran does (255 mm)."""
    assert simulated["channel_inflow"][0] == pytest.approx(255.0216, abs=1e-3)
    assert simulated["qsim"][0] == pytest.approx(230.8369, abs=1e-3)
    assert simulated["uzfwc"][0] == pytest.approx(152.0193, abs=1e-3)
