"""Periods and train/test splits in water years.

A US water year N runs from 1 October of year N−1 to 30 September of year N. Configuration writes a
period either as ``{water_years: [first, last]}`` or as ``{start: YYYY-MM-DD, end: YYYY-MM-DD}``
(both ends inclusive). The splits of the reproduced papers are predefined in :data:`PAPER_SPLITS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runoffbench.errors import ConfigError


@dataclass(frozen=True)
class Period:
    """A closed interval of days ``[start, end]``."""

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"period ends ({self.end.date()}) before it starts ({self.start.date()})")

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D", name="date")

    def __str__(self) -> str:
        return f"{self.start.date()}..{self.end.date()}"


def water_years(first: int, last: int) -> Period:
    """The period from 1 October of ``first − 1`` to 30 September of ``last``."""
    return Period(pd.Timestamp(first - 1, 10, 1), pd.Timestamp(last, 9, 30))


def last_years(train: Period, years: int | None, key: str) -> Period:
    """The training period ``train``, or its last ``years`` years: the data amount ``train_years`` of a model
    (Li & Zhao), one contiguous block ending on the period's last day — the last ``years`` water years of a
    period that ends on 30 September. Every model kind takes its block from here. ``key`` names the config
    key in the :class:`ConfigError` of a block longer than the period."""
    if years is None:
        return train
    start = train.end - pd.DateOffset(years=years) + pd.Timedelta(days=1)
    if start < train.start:
        raise ConfigError(f"{key}: {years} years requested, but the training period {train} is shorter")
    return Period(pd.Timestamp(start), train.end)


#: the splits of the reproduced studies, by name
PAPER_SPLITS: dict[str, dict[str, Period]] = {
    # Kratzert et al. 2019 (HESS, EA-LSTM): train WY2000–2008, test WY1990–1999
    "kratzert2019": {"train": water_years(2000, 2008), "test": water_years(1990, 1999)},
    # Newman et al. 2015/2017 SAC-SMA benchmark: calibrate WY1981–1995, validate WY1996–2014
    "newman2017": {"train": water_years(1981, 1995), "test": water_years(1996, 2014)},
    # Train WY1981–1995 (1980-10-01..1995-09-30), test WY1996–2010 (1995-10-01..2010-09-30): Newman's
    # calibration years with a test period that ends in 2010. Frame et al. 2023 themselves use
    # kratzert2019 and newman2017 (their analysis scripts' time_split1 and time_split2).
    "wy1981_2010": {
        "train": Period(pd.Timestamp("1980-10-01"), pd.Timestamp("1995-09-30")),
        "test": Period(pd.Timestamp("1995-10-01"), pd.Timestamp("2010-09-30")),
    },
}


def parse_period(spec: Mapping[str, Any], where: str) -> Period:
    """Parse ``{water_years: [a, b]}`` or ``{start, end}``; ``where`` names the config key."""
    try:
        if "water_years" in spec:
            first, last = spec["water_years"]
            return water_years(int(first), int(last))
        return Period(pd.Timestamp(str(spec["start"])), pd.Timestamp(str(spec["end"])))
    except ConfigError as error:  # a reversed period
        raise ConfigError(f"{where}: {error}") from None
    except KeyError as missing:
        raise ConfigError(
            f"{where}: a period needs 'water_years' or both 'start' and 'end' ({missing} missing)") from None
    except ValueError as error:
        raise ConfigError(f"{where}: invalid date ({error})") from None


def resolve_splits(config: Mapping[str, Any] | None) -> dict[str, dict[str, Period]]:
    """Turn the config's ``splits`` mapping into periods.

    A split given as ``null`` (or ``preset``) is taken from :data:`PAPER_SPLITS`; otherwise it maps
    period names (``train``, ``validation``, ``test``) to period specifications.
    """
    resolved: dict[str, dict[str, Period]] = {}
    for name, spec in (config or {}).items():
        if spec in (None, "preset"):
            if name not in PAPER_SPLITS:
                raise ConfigError(
                    f"splits.{name}: no predefined split of that name; known: {', '.join(PAPER_SPLITS)}"
                )
            resolved[name] = PAPER_SPLITS[name]
            continue
        if "train" not in spec or "test" not in spec:
            raise ConfigError(f"splits.{name}: needs a 'train' and a 'test' period")
        resolved[name] = {key: parse_period(value, f"splits.{name}.{key}") for key, value in spec.items()}
    return resolved
