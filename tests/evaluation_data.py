"""A tiny forcing cache and prediction files for the evaluation tests (3 basins, 1995-2001)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.periods import Period
from runoffbench.predictions import make_predictions

BASINS = ["01000001", "02000002", "03000003"]
DATES = pd.date_range("1995-10-01", "2001-09-30", name="date")
TRAIN = Period(pd.Timestamp("1995-10-01"), pd.Timestamp("1999-09-30"))
TEST = Period(pd.Timestamp("1999-10-01"), pd.Timestamp("2001-09-30"))


def make_cache(seed: int = 0) -> xr.Dataset:
    """qobs with a seasonal cycle and noise; the coordinates a forcing cache carries."""
    rng = np.random.default_rng(seed)
    season = 1.5 + np.sin(2 * np.pi * DATES.day_of_year.to_numpy() / 365.25)
    qobs = np.stack([(i + 1) * season * rng.gamma(4.0, 0.25, DATES.size) for i in range(len(BASINS))])
    coords = {"basin": np.array(BASINS, dtype=object), "date": DATES,
              "lat": ("basin", [44.0, 40.0, 33.0]), "lon": ("basin", [-70.0, -76.0, -84.0]),
              "area": ("basin", [100.0, 250.0, 500.0]), "huc_02": ("basin", np.array(["01", "02", "03"], dtype=object))}
    variables = {name: (("basin", "date"), np.zeros_like(qobs, dtype="float32")) for name in FORCING_VARIABLES}
    variables["qobs"] = (("basin", "date"), qobs.astype("float32"), {"units": "mm/day"})
    return xr.Dataset(variables, coords=coords)


def make_run(cache: xr.Dataset, model: str, member: int = 0, noise: float = 0.2, seed: int = 0,
             forcing: str = "daymet", split: str = "test_split") -> xr.Dataset:
    """Predictions over TEST: qobs times lognormal noise of spread ``noise``."""
    qobs = cache["qobs"].sel(date=slice(TEST.start, TEST.end))
    rng = np.random.default_rng(seed + member)
    qsim = qobs.values * rng.lognormal(0.0, noise, qobs.shape)
    return make_predictions(qsim, qobs.values, BASINS, qobs["date"].values, model=model, forcing=forcing,
                            split=split, member=member)
