"""Basins a stage leaves out, and why: one rule for every model kind, one file format.

Screening rule. A basin takes part in a run only when its training period holds at least
:data:`MIN_TRAINING_DAYS` days of observed streamflow — one year: less cannot constrain a seasonal
cycle, and a record that starts after the training period (real CAMELS has such gauges) holds
none — or half the training period's days when that is shorter than two years (tests, smoke runs).
Every stage that fits a model (``train``, ``calibrate``, ``baseline``) applies
:func:`screen_training_record` before it starts, drops the basins it rejects from its predictions,
and records them. A run on a data amount (``train_years``, the last N years of the training period) also
leaves out, with :func:`screen_data_amount`, the basins observed on fewer than :data:`MIN_OBSERVED_SHARE` of
that block's days (fewer valid years than asked).

``failures.csv`` (in the run or chunk folder): one row per basin left out, columns
``basin, stage, reason`` (:data:`COLUMNS`); a header only when none was. The evaluation collects
these files into the experiment's failures table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from runoffbench.errors import DataError
from runoffbench.io import write_text_atomic
from runoffbench.periods import Period

#: observed training days a basin needs to take part in a run
MIN_TRAINING_DAYS = 365
#: a basin of a run on a data amount observed on fewer of the block's days is left out (fewer valid years than asked)
MIN_OBSERVED_SHARE = 0.9
COLUMNS = ("basin", "stage", "reason")


def minimum_training_days(period_days: int) -> int:
    """Observed days a basin needs in a training period of ``period_days`` days (module docstring)."""
    return min(MIN_TRAINING_DAYS, math.ceil(period_days / 2))


def screen_training_record(basins: list[str], observed_days: np.ndarray, period: Period) -> dict[str, str]:
    """Basins with too few observed days (``observed_days``, one count per basin) in the training
    ``period``, each with its reason."""
    minimum = minimum_training_days(len(period.dates))
    return {basin: f"{int(days)} days of observed streamflow in the training period {period}, fewer than "
                   f"the {minimum} a run needs"
            for basin, days in zip(basins, np.asarray(observed_days)) if days < minimum}


def screen_data_amount(basins: list[str], observed_days: np.ndarray, block: Period,
                       years: int | None) -> dict[str, str]:
    """The basins of a run on a data amount (``train_years``: the last ``years`` years, ``block``) observed on
    fewer than :data:`MIN_OBSERVED_SHARE` of the block's days, each with its reason: their valid years are
    fewer than the data amount asked. Nothing without a data amount."""
    if years is None:
        return {}
    days = len(block.dates)
    return {basin: f"{n / 365.25:.1f} of the {years} years of train_years observed in {block} "
                   f"(fewer than {MIN_OBSERVED_SHARE:.0%} of its days)"
            for basin, n in zip(basins, np.asarray(observed_days)) if n < MIN_OBSERVED_SHARE * days}


def failures_frame(failures: Mapping[str, str], stage: str) -> pd.DataFrame:
    return pd.DataFrame({"basin": list(failures), "stage": stage, "reason": list(failures.values())},
                        columns=list(COLUMNS))


def write_failures(path: str | Path, failures: Mapping[str, str], stage: str) -> Path:
    """``failures.csv`` at ``path`` (atomically)."""
    return write_text_atomic(Path(path), failures_frame(failures, stage).to_csv(index=False))


def read_failures(path: str | Path) -> pd.DataFrame:
    """A ``failures.csv`` (basin ids kept as strings)."""
    table = pd.read_csv(path, dtype={"basin": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path}: failures table without the column(s) {missing} (expected {', '.join(COLUMNS)})")
    return table
