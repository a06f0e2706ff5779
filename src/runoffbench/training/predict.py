"""Test-period prediction, batched on the training device.

Sequence-to-one models predict day e from the window of ``sequence_length`` days ending on e: every
(basin, day) of the period is one window, gathered in batches of ``batch_size``. Sequence-to-sequence
models run once over the whole period per basin, spun up over the days before it that the tensors
hold (``test_warmup``, :func:`runoffbench.training.run.spinup_days`); the batch's ``static_day`` is
the last of those days, so a model that takes time-invariant parameters from one day of its window
(the δ models) takes them from the end of the spin-up, never from a day of the test period — every
prediction is causal.

Negative flow. A network's output can be below 0 mm/day (an LSTM's de-standardised output is not
bounded); with ``clip_negative`` such values are set to 0, as Kratzert et al. (2019)'s evaluation
does ("set discharges < 0 to zero", ``evaluate_basin`` of their code), and counted: the
``negative_qsim`` entry of the result is the number of basin-days that were clipped (written to the
predictions' attribute ``qsim_negative_days``, :mod:`runoffbench.predictions`). Days whose window
lacks inputs (a gap, or no data before the period) get NaN. ``q`` is de-normalised to mm/day unless
the model predicts in mm/day already.
"""

from __future__ import annotations

import numpy as np
import torch

from runoffbench.models.nn.base import NeuralModel
from runoffbench.training.data import Normalisation, PeriodTensors


def _to_mm(q: torch.Tensor, model: NeuralModel, normalisation: Normalisation) -> torch.Tensor:
    if model.output_in_mm:
        return q
    return normalisation.target_to_mm(q)


@torch.no_grad()
def predict(
    model: NeuralModel, data: PeriodTensors, normalisation: Normalisation, batch_size: int, clip_negative: bool = True
) -> dict[str, np.ndarray]:
    """``qsim`` and the model's fluxes, each (basins, days of the period), its component outputs (basins,
    days, components), plus ``qobs`` in mm/day, and ``negative_qsim`` (0-d): the basin-days of negative
    ``qsim``, set to 0 with ``clip_negative``."""
    model.eval()
    names = ["q", *model.fluxes, *model.component_outputs]
    n_basins, n_steps = data.x_d.shape[0], data.x_d.shape[1]
    days = n_steps - data.offset
    out = {name: torch.full((n_basins, days), torch.nan, device=data.device) for name in ["q", *model.fluxes]}

    def store(name: str, index, values: torch.Tensor, width: tuple[int, ...]) -> None:
        if name not in out:  # allocated on the first batch: a component output's width is the model's
            out[name] = torch.full((n_basins, days, *width), torch.nan, device=data.device)
        out[name][index] = values.to(out[name].dtype)

    if data.mode == "seq2one":
        first = max(data.offset, data.length - 1)  # earliest end with a full window
        ends = torch.arange(first, n_steps, device=data.device)
        basin = torch.arange(n_basins, device=data.device).repeat_interleave(len(ends))
        end = ends.repeat(n_basins)
        for start in range(0, len(end), batch_size):
            b, e = basin[start : start + batch_size], end[start : start + batch_size]
            result = model(data.gather(b, e))
            for name in names:
                store(name, (b, e - data.offset), result[name][:, -1], tuple(result[name].shape[2:]))
    else:
        for start in range(0, n_basins, batch_size):
            basins = torch.arange(start, min(start + batch_size, n_basins), device=data.device)
            batch = {"x_d": data.x_d[basins], "x_s": data.x_s[basins], "x_mass": data.x_mass[basins],
                     "basin": basins, "static_day": max(data.offset - 1, 0)}
            if data.x_raw is not None:
                batch["x_raw"] = data.x_raw[basins]
            result = model(batch)
            for name in names:
                store(name, basins, result[name][:, data.offset :], tuple(result[name].shape[2:]))
    out["q"] = _to_mm(out["q"], model, normalisation)
    negative = out["q"] < 0
    if clip_negative:
        out["q"] = torch.where(negative, torch.zeros_like(out["q"]), out["q"])
    qobs = normalisation.target_to_mm(data.y[:, data.offset :])
    arrays = {("qsim" if name == "q" else name): value.cpu().numpy() for name, value in out.items()}
    arrays["qobs"] = qobs.cpu().numpy()
    arrays["negative_qsim"] = np.asarray(int(negative.sum()))
    return arrays
