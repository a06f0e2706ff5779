"""The experiment language's expansions, shared by the Snakefile, the CLI and the tests (light: stdlib only,
every SLURM job re-parses the Snakefile).

Factor sweeps
-------------
A ``models.<name>`` entry may vary factors::

    lstm:
      kind: nn
      sweep:
        train_years: [1, 3, 6]                       # a list of values ...
        static_attributes: {none: [], a1: [p_mean, aridity]}   # ... or labels -> values
      ...

Every combination is its own model entry, named ``<name>@<factor>=<label>,...`` in the order the
factors are written (``lstm@train_years=3,static_attributes=a1``), with the factor values set in
the entry, ``factors`` (factor → label) and ``base_model`` (``lstm``). The run name is the model
name of its runs' paths, predictions (whose attributes ``factor:<factor>`` carry the labels) and
metrics, so tables and figures can group, facet or colour by a factor. A conceptual (calibrated) entry
takes ``train_years`` only: one calibration per data amount (the config check names any other factor).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

#: characters a factor label may use (it becomes part of paths and Snakemake wildcards)
_LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")


class SweepError(ValueError):
    """A ``sweep`` that cannot be expanded (names its config key)."""


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, str)):
        return str(value)
    raise SweepError(f"a value {value!r} needs a label: write the factor as {{label: value, ...}}")


def _levels(name: str, factor: str, levels: Any) -> list[tuple[str, Any]]:
    where = f"models.{name}.sweep.{factor}"
    if isinstance(levels, Mapping):
        pairs = [(str(label), value) for label, value in levels.items()]
    elif isinstance(levels, list):
        try:
            pairs = [(_label(value), value) for value in levels]
        except SweepError as error:
            raise SweepError(f"{where}: {error}") from None
    else:
        raise SweepError(f"{where}: expected a list of values or a mapping label -> value, got {levels!r}")
    if not pairs:
        raise SweepError(f"{where}: no level")
    bad = [label for label, _ in pairs if not _LABEL.match(label)]
    if bad:
        raise SweepError(f"{where}: labels {bad} may use letters, digits and _ . - only")
    if len({label for label, _ in pairs}) != len(pairs):
        raise SweepError(f"{where}: two levels with the same label")
    return pairs


def expand_models(models: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``models`` with every swept entry replaced by one entry per combination (module docstring)."""
    expanded: dict[str, dict[str, Any]] = {}
    for name, entry in models.items():
        sweep = entry.get("sweep")
        if not sweep:
            expanded[name] = dict(entry)
            continue
        base = {k: v for k, v in entry.items() if k != "sweep"}
        factors = [(factor, _levels(name, factor, levels)) for factor, levels in sweep.items()]
        for combination in itertools.product(*(levels for _, levels in factors)):
            labels = {factor: label for (factor, _), (label, _) in zip(factors, combination)}
            run = f"{name}@" + ",".join(f"{factor}={label}" for factor, label in labels.items())
            values = {factor: value for (factor, _), (_, value) in zip(factors, combination)}
            expanded[run] = {**base, "model": base.get("model", name), **values, "factors": labels,
                             "base_model": name}
    return expanded


def parse_run_name(name: str) -> tuple[str, dict[str, str]]:
    """``("lstm", {"train_years": "3"})`` of ``lstm@train_years=3``: the base model and the factor labels of
    a run name written by :func:`expand_models` (no factors for an entry without a sweep)."""
    base, _, factors = str(name).partition("@")
    labels = {}
    for part in filter(None, factors.split(",")):
        factor, _, label = part.partition("=")
        labels[factor] = label
    return base, labels
