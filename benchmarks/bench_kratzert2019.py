"""Unit costs of Kratzert et al. 2019 (config/experiments/kratzert2019.yaml) on this machine's CPU, and the
cost of the whole paper projected from them (issue 14).

Measured with the project's models at the paper's size (256 cells, 270-day windows, sequence-to-one,
5 forcings, 27 static attributes; torch.set_num_threads(--threads)):

- **training step** of each setting (LSTM without statics, LSTM with the attributes concatenated,
  EA-LSTM): forward + backward + gradient clipping (norm 1) + Adam on a batch of 256 windows, the median
  of ``--repeats`` steps after one warm-up. An epoch is every training window once: 531 basins x the
  3,288 days of WY2000-2008 / 256 = 6,820 steps (the paper's 30 epochs, no early stopping).
- **prediction** of ``--windows`` test windows in evaluation mode without gradients (the unit of a test
  period, 531 x 3,652 windows, and of the static-noise analysis, 531 x 3,652 x (1 + 10 sigmas x 50
  draws) windows per network, Fig. 6).
- **input gradient** of the same windows: forward, then the gradient of the summed output with respect
  to the static inputs only (the Morris analysis, Fig. 7: 531 x 3,652 windows per network).
- **embedding summary** (Figs. 9-12), measured whole: :func:`runoffbench.analysis.embedding.embedding_summary`
  on 8 networks' input gates of 531 basins x 256 cells and 13 signatures, k = 2 ... 15 with 10 k-means
  restarts, the variance for k = 5, 6 and one UMAP.

The projection multiplies the units by the paper's counts (48 networks, 8 analysed EA-LSTMs) — a CPU
projection; on a GPU the recurrent products, which dominate every unit, run one to two orders of
magnitude faster. Run on a shared machine the figures include time-sliced waits; the load average is
printed with them.

    python benchmarks/bench_kratzert2019.py                 # about 5 minutes on 2 cores
    python benchmarks/bench_kratzert2019.py --repeats 1 --windows 256 --skip-summary   # a quick look
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import numpy as np
import pandas as pd
import torch

BATCH, DAYS, N_DYNAMIC, N_STATIC, HIDDEN = 256, 270, 5, 27, 256
BASINS, TRAIN_DAYS, TEST_DAYS = 531, 3288, 3652
EPOCHS, SEEDS, LOSSES = 30, 8, 2
NOISE_PREDICTIONS = 1 + 10 * 50  # sigma 0 once, 10 sigmas x 50 draws
#: setting -> (registered model, static inputs)
SETTINGS = {"LSTM w/o static": ("lstm", 0), "LSTM w/ static": ("lstm", N_STATIC), "EA-LSTM": ("ealstm", N_STATIC)}


def build(name: str, n_static: int):
    from runoffbench.models.nn import get_model

    torch.manual_seed(0)
    return get_model(name)({"hidden_size": HIDDEN, "dropout": 0.4, "initial_forget_bias": 5.0}, N_DYNAMIC, n_static)


def batch(size: int, n_static: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"x_d": torch.randn(size, DAYS, N_DYNAMIC, generator=g), "x_s": torch.randn(size, n_static, generator=g),
            "x_mass": torch.zeros(size, DAYS, 1), "basin": torch.zeros(size, dtype=torch.long)}


def median_seconds(step, repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_step(name: str, n_static: int):
    model = build(name, n_static)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data, target = batch(BATCH, n_static), torch.rand(BATCH)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = ((model(data)["q"][:, -1] - target) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step


def prediction(name: str, n_static: int, windows: int):
    model = build(name, n_static).eval()
    data = batch(windows, n_static, seed=1)

    def step():
        with torch.no_grad():
            model(data)["q"][:, -1]

    return step


def input_gradient(name: str, n_static: int, windows: int):
    model = build(name, n_static).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    data = batch(windows, n_static, seed=2)

    def step():
        x_s = data["x_s"].clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(model({**data, "x_s": x_s})["q"][:, -1].sum(), x_s)
        return gradient

    return step


def embedding_summary_seconds(members: int = SEEDS) -> float:
    from runoffbench.analysis.embedding import embedding_summary
    from runoffbench.analysis.registry import CAMELS_SIGNATURES

    rng = np.random.default_rng(0)
    basins = [f"{i:08d}" for i in range(BASINS)]
    statics = rng.normal(size=(BASINS, N_STATIC))
    frames = []
    for member in range(members):
        gates = 1 / (1 + np.exp(-(statics @ rng.normal(size=(N_STATIC, HIDDEN)) / 3)))
        frame = pd.DataFrame(gates, columns=[f"cell_{k:03d}" for k in range(HIDDEN)])
        frame[[f"static_a{k:02d}" for k in range(N_STATIC)]] = statics
        frames.append(frame.assign(basin=basins, model="ealstm", forcing="maurer_extended", split="kratzert2019",
                                   member=str(member)))
    table = pd.concat(frames, ignore_index=True)
    attributes = pd.DataFrame(rng.normal(size=(BASINS, len(CAMELS_SIGNATURES))), index=basins,
                              columns=list(CAMELS_SIGNATURES))
    start = time.perf_counter()
    embedding_summary(table, attributes)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--windows", type=int, default=1024, help="windows predicted / differentiated at once")
    parser.add_argument("--skip-summary", action="store_true", help="leave out the embedding summary")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from bench_nn_step import cpu_model  # this folder

    print(f"CPU: {cpu_model()}, {args.threads} thread(s), torch {torch.__version__}, load average "
          f"{os.getloadavg()[0]:.1f} (start)\n")
    steps_per_epoch = math.ceil(BASINS * TRAIN_DAYS / BATCH)
    print(f"| setting (256 cells, 270 days) | training step [s] | epoch ({steps_per_epoch} steps) [h] | "
          f"30 epochs [h] | prediction [ms/window] | input gradient [ms/window] |")  # wall time, --threads
    print("|---|---:|---:|---:|---:|---:|")
    units = {}
    for setting, (name, n_static) in SETTINGS.items():
        step = median_seconds(training_step(name, n_static), args.repeats)
        predict = median_seconds(prediction(name, n_static, args.windows), args.repeats) / args.windows
        gradient = (median_seconds(input_gradient(name, n_static, args.windows), args.repeats) / args.windows
                    if n_static else float("nan"))
        units[setting] = (step, predict, gradient)
        epoch = step * steps_per_epoch
        print(f"| {setting} | {step:.2f} | {epoch / 3600:.2f} | {EPOCHS * epoch / 3600:.1f} | {1e3 * predict:.2f} | "
              + (f"{1e3 * gradient:.2f} |" if n_static else "– |"))
    summary = float("nan") if args.skip_summary else embedding_summary_seconds()
    ea_step, ea_predict, ea_gradient = units["EA-LSTM"]
    training = sum(step * steps_per_epoch * EPOCHS * SEEDS * LOSSES for step, _, _ in units.values())
    testing = sum(predict * BASINS * TEST_DAYS * SEEDS * LOSSES for _, predict, _ in units.values())
    noise = ea_predict * BASINS * TEST_DAYS * NOISE_PREDICTIONS * SEEDS
    morris = ea_gradient * BASINS * TEST_DAYS * SEEDS
    print(f"\nembedding summary (8 networks x 531 basins x 256 cells, k = 2..15, 10 restarts, UMAP): {summary:.0f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}\n")
    print(f"| the whole paper, projected on this CPU ({args.threads} threads) | hours |")
    print("|---|---:|")
    rows = {"48 trainings (3 settings x 2 losses x 8 seeds, 30 epochs)": training,
            "test-period predictions of the 48 networks": testing,
            "static-attribute noise, 8 EA-LSTMs x 501 predictions (Fig. 6)": noise,
            "Morris gradients, 8 EA-LSTMs (Fig. 7, Table 4)": morris,
            "embedding export and summary (Figs. 8-12)": summary}
    for label, seconds in rows.items():
        print(f"| {label} | {seconds / 3600:.1f} |")
    print(f"| total | {sum(v for v in rows.values() if np.isfinite(v)) / 3600:.0f} |")


if __name__ == "__main__":
    main()
