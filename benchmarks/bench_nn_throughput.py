"""End-to-end training throughput, data path included, side by side with neuralhydrology 1.13 (issue 6, 7b).

Synthetic regional data — ``--basins`` basins (531) × 9 training years (WY2000–2008, as Kratzert et
al. 2019, plus one year of context before them), 5 forcings, 27 attributes, streamflow a smoothed
precipitation — is written once to ``--workdir`` in both layouts: a runoffbench forcing cache and
``attributes.nc``, and neuralhydrology's ``generic`` dataset (one NetCDF per basin under
``time_series/``, ``attributes/attributes.csv``). Then, for ``--model`` (LSTM-128 or MC-LSTM-64;
365-day windows, sequence-to-one, batch 256, NSE loss, Adam, gradient clipping 1):

- **runoffbench**: the tensors and the window table are built once on the device (setup), then
  ``--steps`` training batches run through :class:`~runoffbench.training.trainer.Trainer` — a
  vectorised gather of windows per batch, forward, backward, clipping, Adam;
- **bare step**: the same model's forward + backward + clipping + Adam on one fixed batch already on
  the device, ``--steps`` times — the ceiling the data path is measured against (target: training
  within 1.3× of it);
- **neuralhydrology**: ``GenericDataset`` (setup), then a ``DataLoader`` (``--workers`` worker
  processes, shuffled, its ``collate_fn``) feeding its model, loss, clipping and Adam as its
  ``BaseTrainer`` does, ``--steps`` batches.

Throughput is samples (windows) per second after ``--warmup`` batches, with the device synchronised
around each timed stretch. Targets (issue 6): on a GPU, ≥3× neuralhydrology's samples per second for
the LSTM and ≥5× for the MC-LSTM, and runoffbench's training within 1.3× of the bare step. On the CPU
the script runs as well (use fewer ``--basins`` and ``--steps``), but the figures that count are the
GPU's.

    python benchmarks/bench_nn_throughput.py --model lstm [--device cuda] [--steps 200] [--workers 4]
    python benchmarks/bench_nn_throughput.py --model mclstm --basins 20 --steps 5 --device cpu   # a smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from bench_nn_step import BATCH, DAYS, MODELS, N_STATIC, STATICS, nh_config  # this folder: the same models

DATES = pd.date_range("1998-10-01", "2008-09-30", name="date")  # one context year + WY2000-2008
TRAIN = (pd.Timestamp("1999-10-01"), pd.Timestamp("2008-09-30"))
HIDDEN = {name: MODELS[name][0] for name in ("lstm", "mclstm")}
SEQUENCE = DAYS


def basin_ids(n: int) -> list[str]:
    return [f"{1 + i % 18:02d}{i:06d}" for i in range(n)]


def synthetic(n_basins: int, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(basin, date) float32 forcings and qobs [mm/day], and (basin, attribute) values."""
    rng = np.random.default_rng(seed)
    shape = (n_basins, DATES.size)
    season = np.sin(2 * np.pi * DATES.day_of_year.to_numpy() / 365.25)
    wet = rng.random(shape) < 0.35
    values = {
        "prcp": np.where(wet, rng.gamma(0.8, 8.0, shape), 0.0),
        "srad": 250 + 120 * season + rng.normal(0, 30, shape),
        "tmax": 15 + 12 * season + rng.normal(0, 3, shape),
        "vp": 900 + 400 * season + rng.normal(0, 80, shape),
    }
    values["tmin"] = values["tmax"] - 10 + rng.normal(0, 1, shape)
    values["dayl"] = np.broadcast_to(43200 + 10000 * season, shape)  # the cache contract's other forcings
    values["swe"] = np.zeros(shape)
    kernel = np.exp(-np.arange(60) / 12.0) / 12.0
    values["qobs"] = np.stack([np.convolve(p, kernel)[: DATES.size] for p in values["prcp"]]) * 0.6
    return {k: v.astype("float32") for k, v in values.items()}, rng.normal(0, 1, (n_basins, N_STATIC))


def write_data(workdir: Path, n_basins: int) -> list[str]:
    """Both layouts under ``workdir`` (skipped when present); the basin ids."""
    basins = basin_ids(n_basins)
    marker = workdir / f"written_{n_basins}"
    if marker.exists():
        return basins
    values, attributes = synthetic(n_basins)
    workdir.mkdir(parents=True, exist_ok=True)
    coords = {"basin": basins, "date": DATES, "lat": ("basin", np.linspace(30, 48, n_basins))}
    xr.Dataset({k: (("basin", "date"), v) for k, v in values.items()}, coords=coords).to_netcdf(workdir / "cache.nc")
    xr.Dataset({a: ("basin", attributes[:, i]) for i, a in enumerate(STATICS)},
               coords={"basin": basins}).to_netcdf(workdir / "attributes.nc")
    series = workdir / "nh" / "time_series"
    series.mkdir(parents=True, exist_ok=True)
    for b, basin in enumerate(basins):
        xr.Dataset({k: ("date", v[b]) for k, v in values.items()},
                   coords={"date": DATES}).to_netcdf(series / f"{basin}.nc")
    (workdir / "nh" / "attributes").mkdir(exist_ok=True)
    pd.DataFrame(attributes, index=pd.Index(basins, name="gauge_id"), columns=STATICS).to_csv(
        workdir / "nh" / "attributes" / "attributes.csv")
    (workdir / "basins.txt").write_text("\n".join(basins) + "\n")
    marker.touch()
    return basins


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, run) -> float:
    synchronise(device)
    start = time.perf_counter()
    run()
    synchronise(device)
    return time.perf_counter() - start


def ours(workdir: Path, basins: list[str], model_name: str, device: torch.device, steps: int, warmup: int) -> dict:
    """runoffbench: setup seconds, training and bare-step samples per second."""
    from runoffbench.models.nn import get_model
    from runoffbench.periods import Period
    from runoffbench.training.data import PeriodTensors, basin_target_std, fit_normalisation, read_inputs
    from runoffbench.training.settings import parse_settings
    from runoffbench.training.trainer import Trainer

    model_class = get_model(model_name)
    no_dropout = {"dropout": 0.0} if "dropout" in model_class.config_keys else {}
    settings = parse_settings(model_name, {
        "hidden_size": HIDDEN[model_name], "sequence_length": SEQUENCE, "batch_size": BATCH, "epochs": 1,
        "batches_per_epoch": warmup, "learning_rate": 1e-3, "loss": "nse", **no_dropout,
        "static_attributes": list(STATICS), "device": str(device)})
    train_period = Period(*TRAIN)
    start = time.perf_counter()
    inputs = read_inputs(workdir / "cache.nc", workdir / "attributes.nc", basins, settings, model_class)
    normalisation = fit_normalisation(inputs, train_period, model_class.output_in_mm)
    train = PeriodTensors(inputs, train_period, normalisation, settings,
                          basin_target_std(inputs, train_period), device)
    synchronise(device)
    setup = time.perf_counter() - start
    torch.manual_seed(0)
    options = {"hidden_size": HIDDEN[model_name], "dropout": 0.0, "n_basins": len(basins), "training": "regional"}
    model = model_class(options, len(inputs.dynamic_names), len(inputs.static_names)).to(device)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(model, settings, train, run_dir, seed=0)
        trainer.train_epoch()  # warm-up batches (allocator, kernels)
        trainer.settings = dataclasses.replace(settings, batches_per_epoch=steps)
        training = timed(device, trainer.train_epoch)
        batch = train.batch(trainer.epoch_batches()[0])

        def bare_steps():
            for _ in range(steps):
                trainer.optimizer.zero_grad(set_to_none=True)
                trainer.batch_loss(batch).backward()
                trainer._clip()
                trainer.optimizer.step()

        bare = timed(device, bare_steps)
    return {"setup": setup, "windows": train.n_windows, "train": BATCH * steps / training, "bare": BATCH * steps / bare}


def theirs(workdir: Path, model_name: str, device: torch.device, steps: int, warmup: int, workers: int) -> dict:
    """neuralhydrology: setup seconds (GenericDataset) and training samples per second."""
    from neuralhydrology.datasetzoo import get_dataset
    from neuralhydrology.modelzoo import get_model
    from neuralhydrology.training import get_loss_obj
    from neuralhydrology.utils.config import Config

    run_dir = Path(tempfile.mkdtemp(prefix="nh_run_"))
    basin_file = workdir / "basins.txt"
    dates = {f"{period}_{edge}_date": day.strftime("%d/%m/%Y") for period in ("train", "validation", "test")
             for edge, day in zip(("start", "end"), TRAIN)}
    config = {
        **nh_config(model_name), **dates, "experiment_name": "throughput", "run_dir": str(run_dir),
        "dataset": "generic", "data_dir": str(workdir / "nh"), "train_basin_file": str(basin_file),
        "validation_basin_file": str(basin_file), "test_basin_file": str(basin_file), "loss": "NSE",
        "optimizer": "Adam", "learning_rate": 1e-3, "clip_gradient_norm": 1.0, "epochs": 1,
        "num_workers": workers, "seed": 0,
        "device": str(device) if device.type == "cpu" else f"cuda:{device.index or 0}",
    }
    cfg = Config(config, dev_mode=True)
    cfg.train_dir = run_dir / "train_data"
    cfg.train_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    dataset = get_dataset(cfg, is_train=True, period="train")
    setup = time.perf_counter() - start
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers,
                                         collate_fn=dataset.collate_fn)
    torch.manual_seed(0)
    model = get_model(cfg).to(device)
    loss_obj = get_loss_obj(cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def to_device(data: dict) -> dict:  # as neuralhydrology's BaseTrainer moves a batch
        return {key: ({k: v.to(device) for k, v in value.items()} if key.startswith("x_d") else value.to(device))
                for key, value in data.items() if not key.startswith("date")}

    def train(batches) -> None:
        for _, data in zip(range(batches), iterator):
            data = to_device(data)
            loss, _ = loss_obj(model(data), data)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_gradient_norm)
            optimizer.step()
            loss.item()  # its trainer reads the loss every batch, as ours does

    iterator = iter(loader)
    train(warmup)
    training = timed(device, lambda: train(steps))
    return {"setup": setup, "windows": len(dataset), "train": BATCH * steps / training}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(HIDDEN), default="lstm")
    parser.add_argument("--basins", type=int, default=531)
    parser.add_argument("--steps", type=int, default=200, help="timed batches")
    parser.add_argument("--warmup", type=int, default=10, help="untimed batches first")
    parser.add_argument("--workers", type=int, default=4, help="neuralhydrology's DataLoader workers")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--side", choices=("both", "ours", "theirs"), default="both")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out" / "throughput")
    args = parser.parse_args()
    device = torch.device(args.device)
    basins = write_data(args.workdir, args.basins)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{args.model}-{HIDDEN[args.model]}, {args.basins} basins x 9 years, batch {BATCH} x {SEQUENCE} days, "
          f"{args.steps} timed batches after {args.warmup}; {name}; torch {torch.__version__}\n")
    mine = ours(args.workdir, basins, args.model, device, args.steps, args.warmup) if args.side != "theirs" else None
    other = (theirs(args.workdir, args.model, device, args.steps, args.warmup, args.workers)
             if args.side != "ours" else None)
    print("| side | setup [s] | training windows | samples/s |")
    print("|---|---:|---:|---:|")
    if mine:
        print(f"| runoffbench | {mine['setup']:.1f} | {mine['windows']:,} | {mine['train']:,.0f} |")
        print(f"| runoffbench bare step (no data path) | – | – | {mine['bare']:,.0f} |")
    if other:
        print(f"| neuralhydrology 1.13 ({args.workers} workers) | {other['setup']:.1f} | {other['windows']:,} | "
              f"{other['train']:,.0f} |")
    if mine:
        print(f"\ntraining / bare step time: {mine['bare'] / mine['train']:.2f} (target <= 1.3)")
    if mine and other:
        target = {"lstm": 3, "mclstm": 5}[args.model]
        print(f"speed-up over neuralhydrology: {mine['train'] / other['train']:.2f}x (GPU target >= {target}x)")


if __name__ == "__main__":
    main()
