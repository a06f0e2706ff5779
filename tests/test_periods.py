"""Water years and the papers' splits."""

from __future__ import annotations

import pandas as pd
import pytest

from runoffbench.errors import ConfigError
from runoffbench.periods import PAPER_SPLITS, Period, parse_period, resolve_splits, water_years


def test_water_years_bounds():
    period = water_years(2000, 2008)
    assert (period.start, period.end) == (pd.Timestamp("1999-10-01"), pd.Timestamp("2008-09-30"))
    assert len(period.dates) == 9 * 365 + 3  # 29 February 2000, 2004 and 2008
    assert len(water_years(2001, 2001).dates) == 365


def test_paper_splits():
    assert str(PAPER_SPLITS["kratzert2019"]["train"]) == "1999-10-01..2008-09-30"
    assert str(PAPER_SPLITS["kratzert2019"]["test"]) == "1989-10-01..1999-09-30"
    assert str(PAPER_SPLITS["newman2017"]["train"]) == "1980-10-01..1995-09-30"
    assert str(PAPER_SPLITS["newman2017"]["test"]) == "1995-10-01..2014-09-30"
    assert str(PAPER_SPLITS["wy1981_2010"]["test"]) == "1995-10-01..2010-09-30"


def test_resolve_mixed_splits():
    splits = resolve_splits(
        {"kratzert2019": None,
         "short": {"train": {"water_years": [1991, 1995]}, "test": {"start": "1995-10-01", "end": "1999-09-30"}}}
    )
    assert splits["kratzert2019"] is PAPER_SPLITS["kratzert2019"]
    assert splits["short"]["train"] == Period(pd.Timestamp("1990-10-01"), pd.Timestamp("1995-09-30"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"nosuchpaper": None}, "splits.nosuchpaper: no predefined split"),
        ({"x": {"train": {"water_years": [2000, 2001]}}}, "splits.x: needs a 'train' and a 'test'"),
        ({"x": {"train": {"start": "2000-01-01"}, "test": {"water_years": [2001, 2002]}}}, "splits.x.train"),
        ({"x": {"train": {"start": "2001-01-01", "end": "2000-01-01"}, "test": {"water_years": [2001, 2002]}}}, "ends"),
    ],
)
def test_bad_splits(spec, message):
    with pytest.raises(ConfigError, match=message):
        resolve_splits(spec)


def test_parse_period_invalid_date():
    with pytest.raises(ConfigError, match="where.key: invalid date"):
        parse_period({"start": "2000-13-01", "end": "2001-01-01"}, "where.key")
