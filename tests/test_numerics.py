"""The CPU floating-point mode of training and reloading (runoffbench.training.numerics)."""

from __future__ import annotations

import torch

from runoffbench.training.numerics import flush_subnormals


def test_subnormals_are_flushed_to_zero():
    # an earlier train_run of the same process may have flushed already: start from the IEEE mode
    torch.set_flush_denormal(False)
    subnormal = torch.tensor([1.0e-39], dtype=torch.float32)  # below float32's smallest normal, 1.18e-38
    assert (subnormal * 1.0).item() > 0.0
    flush_subnormals()  # and left on, as every train_run and load_trained_run leaves the process
    assert (subnormal * 1.0).item() == 0.0
    assert (torch.tensor([2.0e-38]) * 0.5).item() == 0.0  # a product that would be subnormal
    assert (torch.tensor([4.0e-38]) * 0.5).item() == torch.tensor([2.0e-38]).item()  # normal numbers untouched
