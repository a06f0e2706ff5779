"""The CPU floating-point mode of every process that trains or runs a network.

x86 CPUs compute with subnormal numbers (|x| < 1.2e-38 in float32) through micro-code assists, one to two
orders of magnitude slower than with normal numbers. A recurrent backward pass over many loss-free days
drives its adjoints there: the parameter LSTM of Feng et al. (2022)'s δ models at PyTorch's initial
weights (forget gates near 0.5) over their 365 warm-up days spends most of a step on them: its forward
and backward take 26-28 CPU s with subnormals, 4.7-5.0 s without (benchmarks/README.md, "The δ model at
Feng et al. (2022)'s scale").
Such values carry nothing a gradient step can use (they are below float32's resolution of any gradient
that is not itself negligible), so they are flushed to zero. On a GPU this changes nothing.
"""

from __future__ import annotations

import torch


def flush_subnormals() -> None:
    """Treat subnormal numbers as zero on the CPU (FTZ/DAZ; ``torch.set_flush_denormal``).

    The mode belongs to a thread and the threads it creates later inherit it: called before torch's first
    parallel operation in the process, it holds for the OpenMP workers too. Idempotent; a CPU without
    the mode keeps computing with subnormals (slower, the same results to rounding)."""
    torch.set_flush_denormal(True)
