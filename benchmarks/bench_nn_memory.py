"""Peak host memory of a regional training run over 531 synthetic basins × 35 years (1980–2014).

Uses the 531-basin forcing cache of ``bench_build_cache.py`` (``benchmarks/out/daymet.nc``; run that
script first) and builds its ``attributes.nc`` on first use. In a fresh process it then goes through
the stages of ``runoffbench train`` for a regional LSTM-128 (5 forcings + 27 attributes, 365-day
windows, batch 256) with the whole record as training period, printing the peak resident set size
(``ru_maxrss``) after each stage:

1. read the cache and attributes (:func:`~runoffbench.training.data.read_inputs`),
2. normalisation statistics and per-basin target spread,
3. training tensors and the table of valid windows (:class:`~runoffbench.training.data.PeriodTensors`),
4. ``--steps`` training steps (forward, backward, Adam),
5. one prediction batch (1,024 windows).

A full epoch (~6.7 million windows) is not run on the CPU; it does not allocate anything that the
steps above do not (batches are gathered from the same tensors), so the peak after step 5 is the peak
of the run. ``--model mclstm`` or ``ealstm`` swaps the model (MC-LSTM also keeps the mass input).

    python benchmarks/bench_nn_memory.py [--steps 3] [--model lstm]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

STATICS = [
    "p_mean", "pet_mean", "aridity", "p_seasonality", "frac_snow", "high_prec_freq", "high_prec_dur",
    "low_prec_freq", "low_prec_dur", "elev_mean", "slope_mean", "area_gages2", "frac_forest", "lai_max",
    "lai_diff", "gvf_max", "gvf_diff", "soil_depth_pelletier", "soil_depth_statsgo", "soil_porosity",
    "soil_conductivity", "max_water_content", "sand_frac", "silt_frac", "clay_frac", "carbonate_rocks_frac",
    "geol_permeability",
]
HIDDEN = {"lstm": 128, "ealstm": 256, "mclstm": 64}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ensure_attributes(workdir: Path) -> Path:
    output = workdir / "attributes.nc"
    if not output.is_file():
        root = workdir / "synthetic_531"
        if not root.is_dir():
            sys.exit(f"{root} missing: run python benchmarks/bench_build_cache.py first")
        subprocess.run([sys.executable, "-m", "runoffbench", "build-cache", "--camels-root", str(root), "--attributes",
                        "--basins", str(root / "basins.txt"), "--output", str(output), "--dataset", "synthetic"],
                       check=True)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--model", choices=sorted(HIDDEN), default="lstm")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    cache = args.workdir / "daymet.nc"
    if not cache.is_file():
        sys.exit(f"{cache} missing: run python benchmarks/bench_build_cache.py first")
    attributes = ensure_attributes(args.workdir)

    import numpy as np
    import torch
    import xarray as xr

    from runoffbench.models.nn import get_model
    from runoffbench.periods import Period
    from runoffbench.training.data import PeriodTensors, basin_target_std, fit_normalisation, read_inputs
    from runoffbench.training.settings import parse_settings
    from runoffbench.training.trainer import Trainer

    torch.set_num_threads(2)
    rows = [("imports", peak_mb(), 0.0)]
    with xr.open_dataset(cache) as dataset:
        basins = [str(b) for b in dataset["basin"].values]
        first, last = pd.Timestamp(dataset["date"].values[0]), pd.Timestamp(dataset["date"].values[-1])
    train = Period(first, last)
    model_class = get_model(args.model)
    no_dropout = {"dropout": 0.0} if "dropout" in model_class.config_keys else {}
    settings = parse_settings(args.model, {"hidden_size": HIDDEN[args.model], "static_attributes": STATICS,
                                           "batch_size": 256, "sequence_length": 365, "epochs": 1, **no_dropout})

    def stage(name: str, started: float) -> None:
        rows.append((name, peak_mb(), time.perf_counter() - started))

    started = time.perf_counter()
    inputs = read_inputs(cache, attributes, basins, settings, model_class)
    stage(f"read {len(basins)} basins x {len(inputs.dates)} days", started)
    started = time.perf_counter()
    normalisation = fit_normalisation(inputs, train, model_class.output_in_mm)
    basin_std = basin_target_std(inputs, train)
    stage("normalisation statistics", started)
    started = time.perf_counter()
    tensors = PeriodTensors(inputs, train, normalisation, settings, basin_std, torch.device("cpu"))
    stage(f"training tensors, {tensors.n_windows:,} valid windows", started)
    options = {"hidden_size": HIDDEN[args.model], "dropout": 0.0, "n_basins": len(basins)}
    model = model_class(options, len(inputs.dynamic_names), len(inputs.static_names))
    trainer = Trainer(model, settings, tensors, args.workdir, seed=0)
    started = time.perf_counter()
    batches = trainer.epoch_batches()[: args.steps]
    for rows_ in batches:
        loss = trainer.batch_loss(tensors.batch(rows_))
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()
    stage(f"{len(batches)} training steps", started)
    started = time.perf_counter()
    with torch.no_grad():
        model.eval()
        model(tensors.batch(torch.arange(1024)))
    stage("one prediction batch (1024 windows)", started)
    del inputs
    print(f"{args.model}-{HIDDEN[args.model]}, torch {torch.__version__}, numpy {np.__version__}\n")
    print("| stage | peak RSS so far [MB] | seconds |")
    print("|---|---:|---:|")
    for name, peak, seconds in rows:
        print(f"| {name} | {peak:,.0f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
