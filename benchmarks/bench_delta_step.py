"""Time the δ model of Feng et al. (2022) at the paper's scale: δn(γ^t,β^t), 16 components, gamma routing.

Two measurements, each in its own fresh process so that peak memory (``ru_maxrss``) belongs to it:

``step``
    One training step (forward, backward, Adadelta) on a batch of 100 windows of 730 days (365-day
    warm-up without gradient + 365 days with it), parameter network LSTM-256 over P, T_mean, PET and 51
    encoded static inputs (the 35 attributes of Table A1 with their one-hot categories), loss eq. 1
    (``feng``) — against an LSTM-256 over the same inputs and batch (forward, backward, Adadelta, RMSE on
    every day after the same 365 days), as the issue asks: the δ step should cost at most 2× the LSTM's.
    Median of ``--repeats`` steps after one warm-up, the models alternating. ``--hbv`` chooses the HBV
    recursion of the δ step: ``fused`` (runoffbench.models.nn.hbv_kernel, the model's path on the CPU),
    ``torch`` (the torch definition, runoffbench.models.nn.hbv.simulate: the path before the kernel) or
    ``both`` (one δ step of each in every round). ``--flush-denormal`` runs the whole process with
    float32 subnormals flushed to zero (``torch.set_flush_denormal``, set before torch's OpenMP workers
    start, so that they inherit it): at initial weights the parameter LSTM's adjoint decays through the
    365 warm-up days, which carry no loss, into the subnormal range, where this CPU computes by
    micro-code assists (the LSTM-256 baseline, with its forget-gate bias of 3, does not get there).
``predict``
    The test-period prediction over ``--basins`` basins (671) × 15 years (5,479 days) after a spin-up
    over the 15-year training period (5,478 days), batched as the workflow does (4 × the training
    batch of basins per batch, :func:`runoffbench.training.run.prediction_batch_size`), without
    gradients: wall time, CPU time and peak resident memory, and the bytes of the outputs written to the
    predictions (q, the fluxes, β^t and γ^t of the 16 components).

    python benchmarks/bench_delta_step.py step [--threads 2] [--repeats 3] [--device cpu|cuda] [--hbv both]
    python benchmarks/bench_delta_step.py predict [--basins 671] [--threads 2] [--device cpu|cuda] [--hbv torch]

On the CPU the HBV recursion is one fused node (runoffbench.models.nn.hbv_kernel: numba forward and
hand-written backward over basins × days × components); elsewhere, and with ``--hbv torch``, it runs
day by day over (basins × components) tensors, one vectorised torch step per day
(runoffbench.models.nn.hbv.simulate).
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time
from contextlib import nullcontext
from unittest import mock

import torch

BATCH, WARMUP, DAYS, COMPONENTS, HIDDEN = 100, 365, 730, 16, 256
N_DYNAMIC, N_STATIC = 3, 51
TRAIN_DAYS, TEST_DAYS = 5478, 5479


def _batch(samples: int, days: int, device: str, seed: int = 0) -> dict[str, torch.Tensor]:
    from runoffbench.models.nn.base import RAW_FORCINGS

    g = torch.Generator().manual_seed(seed)
    raw = torch.zeros(samples, days, len(RAW_FORCINGS))
    wet = torch.rand(samples, days, generator=g) < 0.4
    storms = -torch.log(torch.rand(samples, days, generator=g)) * 8.0
    raw[..., RAW_FORCINGS.index("prcp")] = torch.where(wet, storms, 0.0)
    season = torch.sin(torch.arange(days) * 6.2832 / 365.25)
    raw[..., RAW_FORCINGS.index("tmean")] = 10.0 + 12.0 * season + 3.0 * torch.randn(samples, days, generator=g)
    raw[..., RAW_FORCINGS.index("pet")] = (2.5 + 2.0 * season).clamp_min(0.1).expand(samples, days)
    return {"x_d": torch.randn(samples, days, N_DYNAMIC, generator=g).to(device),
            "x_s": torch.randn(samples, N_STATIC, generator=g).to(device), "x_raw": raw.to(device),
            "y": (raw[..., 0] * 0.3).to(device), "basin": torch.arange(samples, device=device)}


def _delta(device: str):
    from runoffbench.models.nn.dhbv import DeltaHBV

    return DeltaHBV({"variant": "delta_n_gamma_t_beta_t", "components": COMPONENTS, "hidden_size": HIDDEN,
                     "dropout": 0.5, "warmup": WARMUP}, N_DYNAMIC, N_STATIC).to(device)


def _lstm(device: str):
    from runoffbench.models.nn.lstm import LSTM

    return LSTM({"hidden_size": HIDDEN, "dropout": 0.5}, N_DYNAMIC, N_STATIC).to(device)


def _hbv_path(path: str):
    """A context in which the δ model runs the HBV recursion ``path``: ``fused`` (as it is) or ``torch``
    (the torch definition in place of the kernel's dispatch)."""
    from runoffbench.models.nn import hbv, hbv_kernel

    return nullcontext() if path == "fused" else mock.patch.object(hbv_kernel, "simulate", hbv.simulate)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(step, device: str) -> tuple[float, float]:
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    _sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure_step(repeats: int, device: str, hbv_paths: list[str]) -> None:
    from runoffbench.training.losses import get_loss

    batch = _batch(BATCH, DAYS, device)
    feng, rmse = get_loss("feng"), get_loss("rmse")
    basin_std = torch.ones(BATCH, device=device)
    delta, lstm = _delta(device), _lstm(device)
    optimisers = {"delta": torch.optim.Adadelta(delta.parameters()), "lstm": torch.optim.Adadelta(lstm.parameters())}

    def delta_step(path: str):
        with _hbv_path(path):
            optimisers["delta"].zero_grad()
            loss = feng(delta(batch)["q"][:, WARMUP:], batch["y"][:, WARMUP:], basin_std)
            loss.backward()
            optimisers["delta"].step()

    def lstm_step():
        optimisers["lstm"].zero_grad()
        loss = rmse(lstm(batch)["q"][:, WARMUP:], batch["y"][:, WARMUP:], basin_std)
        loss.backward()
        optimisers["lstm"].step()

    steps = {f"delta {path}": (lambda path=path: delta_step(path)) for path in hbv_paths}
    steps["lstm"] = lstm_step
    reference = _reference_step(batch, feng, basin_std, device)
    if reference is not None:
        steps["reference"] = reference
    for step in steps.values():
        step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(_timed(step, device))
    median = {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
              for name, t in times.items()}
    lw, lc = median["lstm"]
    print(f"one training step, batch {BATCH} x {DAYS} days ({WARMUP} warm-up), {device}, median of {repeats}:")
    for path in hbv_paths:
        dw, dc = median[f"delta {path}"]
        print(f"  δn(γ^t,β^t) 16 components, LSTM-256 parameter network, HBV {path}: {dw:.2f} s ({dc:.2f} s CPU); "
              f"ratio δ / LSTM {dw / lw:.2f} (CPU {dc / lc:.2f}; target <= 2)")
    print(f"  LSTM-256: {lw:.2f} s ({lc:.2f} s CPU)")
    if "reference" in median:
        rw, rc = median["reference"]
        dw, dc = median[f"delta {hbv_paths[0]}"]
        print(f"  reference: the same parameter network + hydrodl2 {_hydrodl2_version()} Hbv (MHPI's δHBV 1.0 of "
              f"Feng et al. 2022): {rw:.2f} s ({rc:.2f} s CPU); ratio reference / ours (HBV {hbv_paths[0]}) "
              f"{rw / dw:.2f}")
    else:
        print("  reference: hydrodl2 (MHPI's HBV of Feng et al. 2022) is not installed; pip install --no-deps hydrodl2")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if device.startswith("cuda"):
        print(f"  peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MB")


def _hydrodl2_version() -> str:
    from importlib.metadata import version

    return version("hydrodl2")


def _reference_step(batch, loss, basin_std, device: str):
    """MHPI's reference HBV (``hydrodl2.models.hbv.hbv.Hbv``, multi-component, β and γ (parBETAET) dynamic,
    gamma routing, 365-day warm-up without gradient — Feng et al. 2022's δn(γ^t,β^t)) behind the same
    parameter network (:class:`runoffbench.models.nn.dhbv.ParameterNetwork`), or None without hydrodl2."""
    try:
        from hydrodl2.models.hbv.hbv import Hbv
    except ImportError:
        return None
    from runoffbench.models.nn.base import RAW_FORCINGS
    from runoffbench.models.nn.dhbv import ParameterNetwork

    hbv = Hbv({"warmup": WARMUP, "dynamic_params": {"Hbv": ["parBETA", "parBETAET"]}, "nmul": COMPONENTS,
               "routing": True}, device=torch.device(device))
    network = ParameterNetwork(N_DYNAMIC + N_STATIC, HIDDEN, hbv.learnable_param_count, 0.5).to(device)
    optimiser = torch.optim.Adadelta(network.parameters())
    columns = [RAW_FORCINGS.index(name) for name in ("prcp", "tmean", "pet")]
    x_phy = batch["x_raw"][..., columns].transpose(0, 1).contiguous()  # (T, B, 3), their layout
    inputs = torch.cat([batch["x_d"], batch["x_s"].unsqueeze(1).expand(-1, DAYS, -1)], -1)

    def step():
        optimiser.zero_grad()
        parameters = network(inputs).transpose(0, 1)  # (T, B, n)
        flow = hbv({"x_phy": x_phy}, parameters)["streamflow"][..., 0].transpose(0, 1)  # (B, T - warm-up)
        value = loss(flow, batch["y"][:, WARMUP:], basin_std)
        value.backward()
        optimiser.step()

    return step


@torch.no_grad()
def measure_predict(basins: int, device: str, hbv_path: str) -> None:
    model = _delta(device).eval()
    per_batch = 4 * BATCH
    days = TRAIN_DAYS + TEST_DAYS
    outputs = ["q", *model.fluxes, *model.component_outputs]
    written = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, basins, per_batch):
        n = min(per_batch, basins - start)
        batch = _batch(n, days, device, seed=start)
        batch["static_day"] = TRAIN_DAYS - 1
        with _hbv_path(hbv_path):
            result = model(batch)
        for name in outputs:  # what predict() keeps of the test period
            kept = result[name][:, TRAIN_DAYS:].to("cpu")
            written += kept.numel() * 4
        del result, batch
    _sync(device)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"test-period prediction, {basins} basins x {TEST_DAYS} days after a {TRAIN_DAYS}-day spin-up, batches of "
          f"{per_batch} basins, {device}, HBV {hbv_path}:")
    print(f"  {wall:.1f} s ({cpu:.1f} s CPU), {wall / basins * 1000:.0f} ms per basin")
    parameters = 2 * basins * TEST_DAYS * COMPONENTS * 4 / 2**20
    print(f"  outputs kept: {written / 2**20:.0f} MB (float32; beta_t and gamma_t {parameters:.0f} MB)")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if device.startswith("cuda"):
        print(f"  peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["step", "predict"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--basins", type=int, default=671)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--hbv", choices=["fused", "torch", "both"], default="fused",
                        help="the δ model's HBV recursion (both: step only)")
    parser.add_argument("--flush-denormal", action="store_true",
                        help="flush float32 subnormals to zero in the whole process (both models)")
    args = parser.parse_args()
    if args.flush_denormal:  # first, before any parallel region: the OpenMP workers inherit the mode
        torch.set_flush_denormal(True)
    if args.what == "predict" and args.hbv == "both":
        parser.error("predict measures one HBV path per process (its peak memory): --hbv fused or torch")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads, {platform.machine()}"
          + (", subnormals flushed to zero" if args.flush_denormal else ""))
    if args.what == "step":
        measure_step(args.repeats, args.device, ["fused", "torch"] if args.hbv == "both" else [args.hbv])
    else:
        measure_predict(args.basins, args.device, args.hbv)


if __name__ == "__main__":
    main()
