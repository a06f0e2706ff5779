"""What the trainer writes to disk and the one safe way to read it back (docs/architecture.md, contract 5).

Every file the trainer writes with ``torch.save`` (``model.pt``, ``checkpoint.pt``) holds tensors and
plain values only (dicts, lists, numbers, strings), so it loads with ``torch.load(weights_only=True)``,
which refuses to unpickle code: a planted pickle raises a :class:`DataError` naming the file instead
of running. :func:`load_tensors` is the only reader.

``model.pt`` (:func:`save_trained_model`) holds the final weights, the normalisation statistics, the
settings and the model's options, and a format number; :func:`load_trained_run` rebuilds the ready
model from it and the run's ``config.yaml`` without any training code's state — the start of every
re-prediction and analysis (:func:`runoffbench.training.run.repredict`, ``runoffbench predict``).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from runoffbench import __version__
from runoffbench.errors import DataError
from runoffbench.periods import Period

#: layout of ``model.pt``; a file of another format is refused (retrain the run)
MODEL_FORMAT = 1
MODEL_FILE = "model.pt"


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


def save_trained_model(path: str | Path, model: torch.nn.Module, normalisation: Mapping[str, Any],
                       settings: Mapping[str, Any], options: Mapping[str, Any]) -> Path:
    """Write ``model.pt``: weights, normalisation, settings, model options (plain values and tensors)."""
    from runoffbench.io import atomic_output

    with atomic_output(path) as temporary:
        torch.save({"format": MODEL_FORMAT, "runoffbench": __version__, "model_class": type(model).__name__,
                    "model": model.state_dict(), "normalisation": dict(normalisation),
                    "settings": dict(settings), "model_options": dict(options)}, temporary)
    return Path(path)


@dataclass
class TrainedRun:
    """A trained model ready to predict, with what it was trained on (``config.yaml`` of the run)."""

    model: torch.nn.Module
    settings: Any  # TrainSettings
    normalisation: Any  # Normalisation
    config: dict[str, Any]
    run_dir: Path


def load_trained_run(run_dir: str | Path, device: torch.device | str = "cpu") -> TrainedRun:
    """The model of ``run_dir/model.pt`` with its normalisation, in evaluation mode on ``device``.

    :class:`DataError` for a missing or unsafe file, another format, or weights that do not fit the
    model the settings describe.
    """
    import yaml

    from runoffbench.models.nn import get_model
    from runoffbench.training.data import Normalisation
    from runoffbench.training.numerics import flush_subnormals
    from runoffbench.training.settings import TrainSettings

    flush_subnormals()  # the floating-point mode the run was trained in (training.numerics)
    run_dir = Path(run_dir)
    path = run_dir / MODEL_FILE
    if not path.is_file():
        raise DataError(f"{path} does not exist: {run_dir} is not a trained run (runoffbench train writes it)")
    state = load_tensors(path, device)
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise DataError(f"{path}: model file format {found!r}, this runoffbench ({__version__}) reads format "
                        f"{MODEL_FORMAT}; retrain the run")
    settings = TrainSettings.from_dict(state["settings"])
    normalisation = Normalisation.from_dict(state["normalisation"])
    model = get_model(settings.model)(state["model_options"], len(normalisation.dynamic_names),
                                      len(normalisation.static_names))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise DataError(f"{path}: the weights do not fit {type(model).__name__} as configured ({error})") from None
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise DataError(f"{config_path} does not exist: the run's basins and periods are unknown")
    config = yaml.safe_load(config_path.read_text())
    return TrainedRun(model.to(device).eval(), settings, normalisation, config, run_dir)
