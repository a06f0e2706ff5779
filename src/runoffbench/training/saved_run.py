"""What the trainer writes to disk and the one safe way to read it back (docs/architecture.md, contract 5).

Every file the trainer writes with ``torch.save`` (``model.pt``, ``checkpoint.pt``) holds tensors and
plain values only (dicts, lists, numbers, strings), so it loads with ``torch.load(weights_only=True)``,
which refuses to unpickle code: a planted pickle raises a :class:`DataError` naming the file instead
of running. :func:`load_tensors` is the only reader.

A run is identified by :func:`run_fingerprint`: the settings, seed, periods, basin list, the content
of every input array and the source of the model and training packages. A checkpoint resumes only
the run with the same fingerprint; anything else trains from scratch (the trainer logs which part
differed).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from runoffbench.errors import DataError
from runoffbench.periods import Period


def load_tensors(path: str | Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """``torch.load(path, weights_only=True)``; :class:`DataError` for a file that needs more than that."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"{path}: refused to load, it holds objects other than tensors and plain values "
                        f"(torch.load weights_only=True: {first}); runoffbench never writes such files") from None
    except (EOFError, RuntimeError, OSError) as error:
        raise DataError(f"{path}: not a readable torch file ({error})") from None


def source_digest(*folders: Path) -> str:
    """sha256 of the ``*.py`` files of ``folders``: a code change gives another digest."""
    digest = hashlib.sha256()
    for folder in folders:
        for source in sorted(Path(folder).glob("*.py")):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def array_digest(*arrays: np.ndarray | None) -> str:
    """sha256 of the arrays' shapes, dtypes and bytes (None counts as absent)."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _training_code() -> str:
    from runoffbench.models import nn as nn_models

    return source_digest(Path(nn_models.__file__).parent, Path(__file__).parent)


def run_fingerprint(settings: Mapping[str, Any], seed: int, periods: Mapping[str, Period], basins: list[str],
                    input_digest: str) -> dict[str, str]:
    """The parts that make a run: each a short digest, compared part by part when resuming."""
    def short(value: Any) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]

    return {
        "settings": short(dict(settings)),
        "seed": str(seed),
        "periods": short({name: str(period) for name, period in periods.items()}),
        "basins": short(list(basins)),
        "inputs": input_digest[:16],
        "code": _training_code()[:16],
    }
