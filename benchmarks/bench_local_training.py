"""Local (per-basin) training: all basins as one batched model against the same basins one after another
(issue 15, item 5; Li & Zhao train every run per basin: 3 models x 6 data amounts x 10 seeds x 531 basins).

For LSTM-50 (dropout 0.4), MC-LSTM-20 (sequence-to-one, 365-day windows) and dEXP-HYDRO (sequence-to-sequence,
730-day windows of which the first 365 spin up the stores) with ``training: local``, batch 256 windows per
basin, Adam, the normalised squared error (Li & Zhao eq. 13), gradient clipping per basin:

- **batched**: one :class:`~runoffbench.training.trainer.Trainer` on ``--basins`` basins, each step taking
  256 windows of every basin (the weights have a leading basin dimension) — one ``train`` job of the
  workflow;
- **one after another**: the same code with one basin per model and trainer, for ``--sequential`` of the
  basins in turn (their mean step time stands for every basin);
- **neuralhydrology 1.13, one basin** (LSTM, MC-LSTM; it has no EXP-HYDRO): its model's forward, backward and
  Adam step on 256 windows of one basin, the data already in memory (its data loader is left out, so this is
  its floor), for scale.

Reported: seconds per step, and per basin-step (a step's time divided by the basins it trains); the
speed-up of batching is (one after another) / (batched per basin). Synthetic data of the throughput
benchmark (``bench_nn_throughput.write_data``: 9 training years and one of context, 5 forcings); one
warm-up step, then ``--steps`` timed steps, median over them.

``--jobs`` also times whole ``train`` jobs (:func:`runoffbench.training.run.train_run`: read the cache,
normalise, ``--steps`` training steps, predict the test year, write the run) on all basins at once and on
single basins one after another, plus a fresh interpreter's import of the training code (each job of a
one-basin-per-job workflow pays it): the per-basin cost of a workflow of 95,580 jobs against one of 180.

    python benchmarks/bench_local_training.py --basins 64 --steps 3              # about 10 minutes on 2 cores
    python benchmarks/bench_local_training.py --models lstm --basins 531 --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from bench_nn_step import cpu_model  # this folder
from bench_nn_throughput import TRAIN, synchronise, write_data

BATCH = 256
INPUTS = ["prcp", "srad", "tmax", "tmin", "vp", "dayl"]
#: model -> (registry name, settings)
MODELS = {
    "lstm": ("lstm", {"hidden_size": 50, "dropout": 0.4, "sequence_length": 365, "dynamic_inputs": INPUTS}),
    "mclstm": ("mclstm", {"hidden_size": 20, "sequence_length": 365, "dynamic_inputs": INPUTS}),
    "dexphydro": ("dexphydro", {"mode": "seq2seq", "sequence_length": 730, "warmup": 365}),
}
LABELS = {"lstm": "LSTM-50", "mclstm": "MC-LSTM-20", "dexphydro": "dEXP-HYDRO"}


def trainer_for(workdir: Path, basins: list[str], name: str, device: torch.device, steps: int):
    """A local Trainer on ``basins`` whose epoch is ``steps`` steps."""
    from runoffbench.models.nn import get_model
    from runoffbench.periods import Period
    from runoffbench.training.data import PeriodTensors, basin_target_std, fit_normalisation, read_inputs
    from runoffbench.training.settings import parse_settings
    from runoffbench.training.trainer import Trainer

    registered, extra = MODELS[name]
    settings = parse_settings(registered, {**extra, "training": "local", "batch_size": BATCH, "epochs": 1,
                                           "batches_per_epoch": steps, "learning_rate": 0.01,
                                           "loss": "nse_squared", "device": str(device)})
    model_class = get_model(registered)
    period = Period(*TRAIN)
    inputs = read_inputs(workdir / "cache.nc", workdir / "attributes.nc", basins, settings, model_class)
    normalisation = fit_normalisation(inputs, period, model_class.output_in_mm)
    tensors = PeriodTensors(inputs, period, normalisation, settings, basin_target_std(inputs, period), device)
    torch.manual_seed(0)
    options = {**settings.model_options, "n_basins": len(basins), "training": "local", "warmup": settings.warmup}
    model = model_class(options, len(inputs.dynamic_names), len(normalisation.static_names)).to(device)
    return Trainer(model, settings, tensors, tempfile.mkdtemp(prefix="bench_local_"), seed=0)


def step_times(trainer, device: torch.device, steps: int) -> list[float]:
    """Seconds of each of ``steps`` training steps after one warm-up step."""
    data = trainer.train_data
    batches = trainer.epoch_batches()
    times = []
    trainer.model.train()
    for index in range(steps + 1):
        batch = data.batch(batches[index % len(batches)])
        synchronise(device)
        start = time.perf_counter()
        loss = trainer.batch_loss(batch)
        trainer.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trainer._clip()
        trainer.optimizer.step()
        synchronise(device)
        if index:
            times.append(time.perf_counter() - start)
    return times


def job_seconds(workdir: Path, basins: list[str], name: str, steps: int) -> float:
    """Wall seconds of one ``train`` job (train_run) on ``basins``: train WY2000-2007, test WY2008."""
    from runoffbench.periods import Period
    from runoffbench.training.run import train_run
    from runoffbench.training.settings import parse_settings

    registered, extra = MODELS[name]
    settings = parse_settings(registered, {**extra, "training": "local", "batch_size": BATCH, "epochs": 1,
                                           "batches_per_epoch": steps, "learning_rate": 0.01, "loss": "nse_squared",
                                           "device": "cpu", "test_warmup": 365})
    periods = {"train": Period(TRAIN[0], TRAIN[1] - pd.DateOffset(years=1)),
               "test": Period(TRAIN[1] - pd.DateOffset(years=1) + pd.Timedelta(days=1), TRAIN[1])}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as output:
        train_run(settings, workdir / "cache.nc", workdir / "attributes.nc", basins, periods, 0, Path(output),
                  "synthetic", "bench")
    return time.perf_counter() - start


def import_seconds() -> float:
    """A fresh interpreter's start and import of the training code (what every job pays before its work)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import runoffbench.training.run"], check=True)
    return time.perf_counter() - start


def neuralhydrology_step(name: str, steps: int) -> float | None:
    """Median seconds of neuralhydrology's step on 256 windows of one basin (its model, no data loader)."""
    if name == "dexphydro":
        return None
    from neuralhydrology.modelzoo import get_model
    from neuralhydrology.utils.config import Config

    hidden = MODELS[name][1]["hidden_size"]
    config = {"model": "cudalstm" if name == "lstm" else "mclstm", "hidden_size": hidden, "initial_forget_bias": 3.0,
              "output_dropout": 0.4 if name == "lstm" else 0.0, "head": "regression", "output_activation": "linear",
              "target_variables": ["qobs"], "dynamic_inputs": INPUTS, "static_attributes": [], "predict_last_n": 1,
              "seq_length": 365, "batch_size": BATCH, "device": "cpu"}
    if name == "mclstm":
        config.update(dynamic_inputs=INPUTS[1:], mass_inputs=["prcp"], initial_forget_bias=-3.0)
    torch.manual_seed(0)
    model = get_model(Config(config, dev_mode=True))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    x_d = {v: torch.randn(BATCH, 365, 1, generator=g) for v in INPUTS}
    x_d["prcp"] = torch.rand(BATCH, 365, 1, generator=g) * 10
    y = torch.rand(BATCH, generator=g)
    times = []
    for index in range(steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        q = model({"x_d": x_d})["y_hat"][:, -1, 0]
        loss = ((q - y) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if index:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lstm,mclstm,dexphydro")
    parser.add_argument("--basins", type=int, default=64)
    parser.add_argument("--sequential", type=int, default=3, help="basins trained one after another")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--side", choices=("both", "ours"), default="both")
    parser.add_argument("--jobs", action="store_true", help="also time whole train jobs (module docstring)")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out" / "throughput")
    args = parser.parse_args()
    device = torch.device(args.device)
    basins = write_data(args.workdir, args.basins)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{cpu_model()}, " \
                                                                              f"{torch.get_num_threads()} threads"
    print(f"local training, {args.basins} basins, batch {BATCH} windows per basin, median of {args.steps} steps; "
          f"{where}; torch {torch.__version__}\n")
    print("| model | batched: s/step | batched: s/basin-step | one after another: s/basin-step | speed-up per basin "
          "| neuralhydrology, one basin: s/step |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        batched = statistics.median(step_times(trainer_for(args.workdir, basins, name, device, args.steps + 1),
                                               device, args.steps))
        single = statistics.median([t for basin in basins[: args.sequential]
                                    for t in step_times(trainer_for(args.workdir, [basin], name, device,
                                                                    args.steps + 1), device, args.steps)])
        per_basin = batched / args.basins
        theirs = neuralhydrology_step(name, args.steps) if args.side == "both" and device.type == "cpu" else None
        print(f"| {LABELS[name]} | {batched:.3f} | {per_basin:.4f} | {single:.4f} | {single / per_basin:.1f}x | "
              f"{'–' if theirs is None else f'{theirs:.4f}'} |", flush=True)
    if not args.jobs:
        return
    start_up = import_seconds()
    print(f"\nwhole train jobs ({args.steps} steps, test WY2008); a job's interpreter start and imports: "
          f"{start_up:.1f} s\n")
    print("| model | one job, all basins: s | s per basin | one basin per job: s per basin (with start-up) "
          "| speed-up per basin |")
    print("|---|---:|---:|---:|---:|")
    for name in args.models.split(","):
        batched = job_seconds(args.workdir, basins, name, args.steps) + start_up
        single = statistics.mean(job_seconds(args.workdir, [b], name, args.steps)
                                 for b in basins[: args.sequential]) + start_up
        print(f"| {LABELS[name]} | {batched:.1f} | {batched / args.basins:.2f} | {single:.2f} | "
              f"{single / (batched / args.basins):.1f}x |", flush=True)


if __name__ == "__main__":
    main()
