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

from tests.feng_files import write_smoke_mhm, write_smoke_modis

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


#: the CAMELS benchmark models of the kratzert2019 twin: variable of the release -> (multiplicative error
#: sigma, days of smoothing, bias factor), so that their skill differs as in Kratzert et al. 2019, Table 3
SMOKE_BENCHMARKS = {"SAC_SMA": (0.25, 3, 1.05), "VIC_basin": (0.35, 5, 0.9), "VIC_conus": (0.5, 7, 0.8),
                    "mHm_basin": (0.3, 3, 1.0), "mHm_conus": (0.45, 5, 1.15), "HBV_lb": (0.6, 9, 1.2),
                    "HBV_ub": (0.25, 2, 1.0), "q_sim_fuse_900": (0.3, 4, 0.95), "q_sim_fuse_902": (0.35, 4, 1.05),
                    "q_sim_fuse_904": (0.4, 6, 1.1)}
#: basins a smoke benchmark model lacks (no variable in the file, or missing days): the twin's common basins
SMOKE_BENCHMARK_GAPS = {"mHm_conus": 2, "VIC_conus": 1}


def write_camels_benchmarks(workdir: Path) -> list[Path]:
    """The CAMELS benchmark release (HydroShare 474ecc37…) for the synthetic basins, as the release has it:
    one ``netcdf/<gauge_id>_benchmark_models.nc`` per basin, ``xarray.Dataset.from_dataframe`` of a frame on
    the dates 1989-10-01..1999-09-30 (dimension ``index``) with ``QObs`` (the cache's observed flow, -999
    where missing) and one variable per model in mm/day. Each model is the generator's noise-free flow,
    smoothed, biased and with a lognormal error (:data:`SMOKE_BENCHMARKS`); mHm_conus lacks the last two
    basins (no variable) and VIC_conus has a gap of a week in the first basin's observed record, so only
    21 of the 24 basins are common to all models (:data:`SMOKE_BENCHMARK_GAPS`)."""
    truth = xr.open_dataset(workdir / "data" / "raw" / "synthetic" / "truth.nc")
    days = pd.date_range("1989-10-01", "1999-09-30")
    with xr.open_dataset(workdir / "data" / "cache" / "synthetic" / "daymet.nc") as cache:
        qobs = cache["qobs"].sel(date=days).transpose("basin", "date").to_pandas()
    flow = truth["q"].sel(date=days).transpose("basin", "date").to_pandas()
    truth.close()
    rng = np.random.default_rng(14)
    folder = workdir / "data" / "raw" / "camels_benchmarks_smoke" / "netcdf"
    folder.mkdir(parents=True, exist_ok=True)
    basins = list(flow.index.astype(str))
    written = []
    for position, basin in enumerate(basins):
        frame = pd.DataFrame({"QObs": qobs.loc[basin].fillna(-999.0).to_numpy()}, index=days)
        for model, (sigma, window, bias) in SMOKE_BENCHMARKS.items():
            if model == "mHm_conus" and position >= len(basins) - SMOKE_BENCHMARK_GAPS[model]:
                continue  # the model does not cover this basin
            smooth = flow.loc[basin].rolling(window, min_periods=1).mean().to_numpy()
            simulated = bias * smooth * rng.lognormal(-sigma**2 / 2, sigma, len(days))
            if model == "VIC_conus" and position < SMOKE_BENCHMARK_GAPS[model]:
                simulated[100:107] = np.nan  # missing on observed days: incomplete, left out
            frame[model] = simulated
        path = folder / f"{basin}_benchmark_models.nc"
        xr.Dataset.from_dataframe(frame).to_netcdf(path)
        written.append(path)
    return written


PREPARE: dict[str, list[Callable[[Path], list[Path]]]] = {
    "feng2022": [write_smoke_mhm, write_smoke_modis],
    "frame2023": [write_nwm_retrospective],
    "kratzert2019": [write_camels_benchmarks],
    "nearing2020": [write_camels_benchmarks],
}


def check_lizhao_statistics(workdir: Path) -> None:
    """The lizhao twin's robustness statistics (tests/test_lizhao.py)."""
    from tests.test_lizhao import check_twin_statistics

    check_twin_statistics(workdir)


#: checks of a finished twin's results, run by tests/test_smoke_configs.py after the twin: name -> checks
CHECKS: dict[str, list[Callable[[Path], None]]] = {
    "lizhao": [check_lizhao_statistics],
}


if __name__ == "__main__":  # python -m tests.smoke_inputs NAME: the inputs of a twin, in this directory
    import sys

    for name in sys.argv[1:]:
        for prepare in PREPARE.get(name, []):
            print("\n".join(map(str, prepare(Path.cwd()))))
