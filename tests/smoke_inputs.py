"""Input files the smoke twins (config/smoke/*.yaml) need beside the embedded dataset, written in the
formats a user downloads, from the synthetic dataset of the workdir (tests/test_smoke_configs.py).

Each writer takes the workdir of a run whose ``data/`` holds the synthetic dataset and its caches and
returns the files it wrote. :data:`PREPARE` maps an experiment name to its writers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

#: reach ids of the smoke basins (any NWM feature ids would do; the crosswalk maps them)
FIRST_REACH = 4_000_000


def write_nwm_retrospective(workdir: Path) -> list[Path]:
    """An NWM v2.0 retrospective cut for the synthetic gauges: hourly ``streamflow(time, feature_id)`` in
    m3/s (UTC, WY1996-2014 with a day either side) and a ``gauge,feature_id`` crosswalk. The flow is the
    generator's daily streamflow a day late, 15 % low and with a multiplicative error (a model of middling
    skill, as NWM-Rv2 is at the CAMELS gauges, not the truth), spread over the hours of each UTC day."""
    truth = xr.open_dataset(workdir / "data" / "raw" / "synthetic" / "truth.nc")
    with xr.open_dataset(workdir / "data" / "cache" / "synthetic" / "nldas_extended.nc") as cache:
        area = cache["area"].to_series().reindex(truth["basin"].values).to_numpy(float)
    days = pd.date_range("1995-09-30", "2014-10-01")
    daily = truth["q"].sel(date=days - pd.Timedelta(days=1)).transpose("date", "basin").to_numpy()
    error = np.random.default_rng(0).lognormal(0.0, 0.35, daily.shape)
    flow = 0.85 * daily * error * area / 86.4  # mm/day -> m3/s
    hours = pd.date_range(days[0], days[-1] + pd.Timedelta(hours=23), freq="h")
    reaches = FIRST_REACH + np.arange(truth.sizes["basin"])
    streamflow = xr.Dataset({"streamflow": (("time", "feature_id"), np.repeat(flow, 24, axis=0).astype("float32"),
                                            {"units": "m3 s-1", "long_name": "River Flow"})},
                            coords={"time": hours, "feature_id": reaches})
    folder = workdir / "data" / "raw" / "nwm_smoke"
    folder.mkdir(parents=True, exist_ok=True)
    streamflow.to_netcdf(folder / "streamflow.nc")
    crosswalk = pd.DataFrame({"gauge": truth["basin"].values, "feature_id": reaches})
    crosswalk.to_csv(folder / "crosswalk.csv", index=False)
    truth.close()
    return [folder / "streamflow.nc", folder / "crosswalk.csv"]


PREPARE: dict[str, list[Callable[[Path], list[Path]]]] = {
    "frame2023": [write_nwm_retrospective],
}


if __name__ == "__main__":  # python -m tests.smoke_inputs NAME: the inputs of a twin, in this directory
    import sys

    for name in sys.argv[1:]:
        for prepare in PREPARE.get(name, []):
            print("\n".join(map(str, prepare(Path.cwd()))))
