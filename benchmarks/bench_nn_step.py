"""Time one training step of the LSTM family side by side with neuralhydrology 1.13, on the CPU.

One step = forward + backward + Adam update on 256 samples × 365 days with 5 forcings and 27 static
attributes, sequence-to-one (loss on the last day), for

- LSTM, hidden size 128: :class:`runoffbench.models.nn.lstm.LSTM` vs neuralhydrology's ``CudaLSTM``
  (both ``torch.nn.LSTM``, statics concatenated at every step);
- EA-LSTM, hidden size 256: :class:`~runoffbench.models.nn.ealstm.EALSTM` vs ``EALSTM``;
- MC-LSTM, hidden size 64: :class:`~runoffbench.models.nn.mclstm.MCLSTM` vs ``MCLSTM``
  (precipitation as the un-normalised mass input, the other 4 forcings and the attributes auxiliary).

Both sides get identical input tensors (neuralhydrology's as its ``{"x_d": {name: (B, T, 1)},
"x_s": (B, 27)}`` dict); its models are built from a ``Config`` dict, as its own tests do. After one
warm-up step each, the two sides' steps alternate (ours, theirs, ours, ...) so that both see the same
load on a shared machine; the figures are the median wall-clock and CPU time of ``--repeats`` steps,
with ``torch.set_num_threads(--threads)`` (2 by default).

The *product floor* is the time of the matrix products that any implementation of the model's step
has to perform, and neuralhydrology's does (the same FLOPs): per day the recurrent product of the
forward pass and its adjoint in the backward pass, and the recurrent weight gradient over all days
as one product — EA-LSTM: (B × H)·(H × 3H) twice a day; MC-LSTM: the cell-state part of the gate
pre-activations (B × H)·(H × (2H + H²)) twice a day. neuralhydrology's time / the floor bounds the
speed-up any float32 CPU implementation can reach on the machine; the LSTM (one ``torch.nn.LSTM``
call on both sides) has no floor row.

Run ``python benchmarks/bench_nn_step.py`` (about 5 minutes on 2 cores, most of it neuralhydrology's
MC-LSTM); ``--models lstm,ealstm`` picks models, ``--side ours`` skips neuralhydrology.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time

import torch

BATCH, DAYS, N_STATIC = 256, 365, 27
FORCINGS = ("prcp", "srad", "tmax", "tmin", "vp")
STATICS = tuple(f"attribute_{i:02d}" for i in range(N_STATIC))
#: model -> (hidden size, our registry name, neuralhydrology model name)
MODELS = {"lstm": (128, "lstm", "cudalstm"), "ealstm": (256, "ealstm", "ealstm"), "mclstm": (64, "mclstm", "mclstm")}
#: the issue's targets: speed-up over neuralhydrology (theirs / ours); parity allows 5 % timing noise
TARGETS = {"lstm": 1.0, "ealstm": 1.5, "mclstm": 3.0}
PARITY_NOISE = 0.05


def inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    """Standardised forcings and attributes, precipitation in mm/day (gamma-distributed), a target."""
    g = torch.Generator().manual_seed(seed)
    x_d = torch.randn(BATCH, DAYS, len(FORCINGS), generator=g)
    wet = torch.rand(BATCH, DAYS, generator=g) < 0.4
    prcp = torch.where(wet, -torch.log(torch.rand(BATCH, DAYS, generator=g)) * 8.0, torch.zeros(BATCH, DAYS))
    return {"x_d": x_d, "prcp": prcp.unsqueeze(-1), "x_s": torch.randn(BATCH, N_STATIC, generator=g),
            "y": torch.rand(BATCH, generator=g) * 3.0}


def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s "Model name"), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _time(step) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(steps: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each step, the steps alternating after one warm-up each."""
    for step in steps.values():
        step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(_time(step))
    return {name: (statistics.median(t[0] for t in values), statistics.median(t[1] for t in values))
            for name, values in times.items()}


def ours(name: str, data: dict[str, torch.Tensor]):
    """A training step of our model ``name`` (registry) on ``data``."""
    from runoffbench.models.nn import get_model

    hidden, registered, _ = MODELS[name]
    model_class = get_model(registered)
    x_d = data["x_d"][..., 1:] if model_class.mass_input else data["x_d"]
    torch.manual_seed(0)
    model = model_class({"hidden_size": hidden, "dropout": 0.0}, x_d.shape[-1], N_STATIC)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = {"x_d": x_d, "x_s": data["x_s"], "x_mass": data["prcp"], "basin": torch.zeros(BATCH, dtype=torch.long)}

    def step():
        optimizer.zero_grad(set_to_none=True)
        q = model(batch)["q"][:, -1]
        loss = ((q - data["y"]) ** 2).mean()
        loss.backward()
        optimizer.step()

    return step


def product_floor(name: str):
    """The matrix products of one step of ``name`` that every implementation performs (module docstring)."""
    hidden = MODELS[name][0]
    gates = 3 * hidden if name == "ealstm" else 2 * hidden + hidden * hidden
    g = torch.Generator().manual_seed(1)
    state, weight = torch.randn(BATCH, hidden, generator=g), torch.randn(gates, hidden, generator=g)
    d_gates = torch.randn(BATCH, gates, generator=g)
    states, all_d_gates = torch.randn(DAYS * BATCH, hidden, generator=g), torch.randn(DAYS * BATCH, gates, generator=g)

    def step():
        for _ in range(DAYS):
            state @ weight.t()   # forward: the recurrent part of the gate pre-activations
            d_gates @ weight     # backward: its adjoint, day by day
        all_d_gates.t() @ states  # the weight gradient, all days in one product

    return step


def nh_config(name: str) -> dict:
    """The neuralhydrology config dict of the comparison model."""
    hidden, _, nh_name = MODELS[name]
    config = {
        "model": nh_name, "hidden_size": hidden, "initial_forget_bias": 3.0, "output_dropout": 0.0,
        "head": "regression", "output_activation": "linear", "target_variables": ["qobs"],
        "dynamic_inputs": list(FORCINGS), "static_attributes": list(STATICS), "predict_last_n": 1,
        "seq_length": DAYS, "batch_size": BATCH, "device": "cpu",
    }
    if name == "mclstm":
        config.update(dynamic_inputs=list(FORCINGS[1:]), mass_inputs=["prcp"], initial_forget_bias=-3.0)
    return config


def theirs(name: str, data: dict[str, torch.Tensor]):
    """A training step of neuralhydrology's model for ``name`` on ``data``."""
    from neuralhydrology.modelzoo import get_model
    from neuralhydrology.utils.config import Config

    torch.manual_seed(0)
    model = get_model(Config(nh_config(name), dev_mode=True))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x_d = {var: data["x_d"][..., i : i + 1] for i, var in enumerate(FORCINGS)}
    x_d["prcp"] = data["prcp"]
    batch = {"x_d": x_d, "x_s": data["x_s"]}

    def step():
        optimizer.zero_grad(set_to_none=True)
        q = model(batch)["y_hat"][:, -1, 0]
        loss = ((q - data["y"]) ** 2).mean()
        loss.backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lstm,ealstm,mclstm")
    parser.add_argument("--side", choices=("both", "ours", "theirs"), default="both")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = inputs()
    print(f"torch {torch.__version__}, {args.threads} threads, {platform.machine()} ({cpu_model()}), "
          f"{BATCH} samples x {DAYS} days, {len(FORCINGS)} forcings + {N_STATIC} attributes; "
          f"median of {args.repeats} steps [s]\n")
    print("| model | hidden | runoffbench: wall (CPU) [s] | neuralhydrology 1.13: wall (CPU) [s] | speed-up | target "
          "| product floor [s] | largest possible speed-up |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for name in args.models.split(","):
        steps = {}
        if args.side != "theirs":
            steps["ours"] = ours(name, data)
        if args.side != "ours":
            steps["theirs"] = theirs(name, data)
        if name != "lstm":
            steps["floor"] = product_floor(name)
        result = interleaved(steps, args.repeats)
        mine, other = result.get("ours", (math.nan, math.nan)), result.get("theirs", (math.nan, math.nan))
        ratio = other[0] / mine[0]
        slack = PARITY_NOISE if TARGETS[name] == 1.0 else 0.0
        verdict = "met" if ratio >= TARGETS[name] - slack else "not met"
        floor = f"{result['floor'][0]:.2f} | {other[0] / result['floor'][0]:.2f}x" if "floor" in result else "– | –"
        print(f"| {name} | {MODELS[name][0]} | {mine[0]:.2f} ({mine[1]:.2f}) | {other[0]:.2f} ({other[1]:.2f}) | "
              f"{ratio:.2f}x | >= {TARGETS[name]:g}x: {verdict} | {floor} |", flush=True)

if __name__ == "__main__":
    main()
