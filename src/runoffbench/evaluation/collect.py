"""Gather per-run outputs into the long tables that the evaluation tables and figures read.

``metrics.csv`` (:func:`collect_metrics`): one row per run and basin — ``model``, ``forcing``,
``split``, ``member``, ``basin``, the basin's ``huc_02``, ``lat``, ``lon``, ``base_model`` (the model
entry a sweep expanded, else the model) and one column per sweep factor (its level's label, empty for
runs of other entries; :func:`runoffbench.experiment.parse_run_name`), then one column per metric.
``failures.csv`` (:func:`collect_failures`): one row per run and basin left out — ``model``,
``forcing``, ``split``, ``member``, ``basin``, ``stage``, ``reason`` — from the runs' ``failures.csv``
(:mod:`runoffbench.failures`) at ``runs/<model>/<forcing>/<split>/<member>/failures.csv``.
``hydrographs.csv`` (:func:`hydrograph_table`): one row per run member, basin and day — ``model``,
``forcing``, ``split``, ``member``, ``basin``, ``date``, ``qobs``, ``qsim`` (mm/day).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from runoffbench.errors import ConfigError, DataError
from runoffbench.failures import COLUMNS as FAILURE_COLUMNS
from runoffbench.failures import read_failures
from runoffbench.predictions import ENSEMBLE_MEMBER, read_predictions

log = logging.getLogger(__name__)

RUN_COLUMNS = ["model", "forcing", "split", "member"]
BASIN_COLUMNS = ["basin", "huc_02", "lat", "lon"]


def run_of_metrics_file(path: str | Path) -> dict[str, str]:
    """``model``, ``forcing``, ``split``, ``member`` of ``.../<model>/<forcing>/<split>/<member>.csv``."""
    path = Path(path)
    parts = path.with_suffix("").parts
    if len(parts) < 4:
        raise DataError(f"metrics file {path} is not at metrics/<model>/<forcing>/<split>/<member>.csv")
    return dict(zip(RUN_COLUMNS, parts[-4:]))


def run_of_run_file(path: str | Path) -> dict[str, str]:
    """``model``, ``forcing``, ``split``, ``member`` of ``.../<model>/<forcing>/<split>/<member>/<file>``."""
    parts = Path(path).parent.parts
    if len(parts) < 4:
        raise DataError(f"{path} is not in a run folder runs/<model>/<forcing>/<split>/<member>/")
    return dict(zip(RUN_COLUMNS, parts[-4:]))


def collect_failures(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The runs' ``failures.csv`` in one table with the run columns (see the module docstring)."""
    frames = []
    for path in paths:
        if not Path(path).is_file():
            raise DataError(f"failures file {path} does not exist")
        table = read_failures(path)[list(FAILURE_COLUMNS)].astype(str)
        for column, value in reversed(run_of_run_file(path).items()):
            table.insert(0, column, value)
        frames.append(table)
    columns = RUN_COLUMNS + list(FAILURE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def failure_summary(failures: pd.DataFrame) -> str:
    """``"3 basin(s) left out: lstm/daymet/s/0: 1 (train); ..."`` — how many failed where; empty if none."""
    if failures.empty:
        return ""
    parts = []
    for run, rows in failures.groupby(RUN_COLUMNS, sort=False):
        stages = ", ".join(dict.fromkeys(rows["stage"]))
        parts.append(f"{'/'.join(run)}: {len(rows)} ({stages})")
    return f"{len(failures)} basin(s) left out: " + "; ".join(parts)


def stale_outputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path]) -> list[Path]:
    """The ``outputs`` that exist although one of ``inputs`` is missing or newer than them: results of an
    earlier invocation that no longer match their inputs (after a failed job the workflow removes them)."""
    inputs = [Path(p) for p in inputs]
    times = [p.stat().st_mtime_ns for p in inputs if p.exists()]
    complete = len(times) == len(inputs)
    newest = max(times, default=0)
    return [Path(p) for p in outputs
            if Path(p).exists() and (not complete or Path(p).stat().st_mtime_ns < newest)]


def read_metrics(path: str | Path) -> pd.DataFrame:
    """A metrics file (contract 3) with ``basin`` as text; DataError if it lacks the column."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"metrics file {path} does not exist")
    table = pd.read_csv(path, dtype={"basin": str})
    if "basin" not in table.columns:
        raise DataError(f"metrics file {path} has no 'basin' column")
    return table


def collect_metrics(paths: Iterable[str | Path], locations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Concatenate metrics files into the long table, joined with the basins' region and location.

    ``locations`` has columns ``basin``, ``huc_02``, ``lat``, ``lon`` (e.g. from a forcing cache).
    """
    frames = []
    for path in paths:
        table = read_metrics(path)
        for column, value in run_of_metrics_file(path).items():
            table.insert(RUN_COLUMNS.index(column), column, value)
        frames.append(table)
    if not frames:
        raise DataError("collect-metrics: no metrics files given")
    table = pd.concat(frames, ignore_index=True)
    factors = factor_columns(table["model"])
    if locations is not None:
        table = table.merge(locations[BASIN_COLUMNS], on="basin", how="left")
    leading = RUN_COLUMNS + [c for c in BASIN_COLUMNS if c in table.columns]
    metrics = [c for c in table.columns if c not in leading]
    return pd.concat([table[leading], factors, table[metrics]], axis=1)


def factor_columns(models: pd.Series) -> pd.DataFrame:
    """``base_model`` and one column per sweep factor of the run names ``models`` (``lstm@train_years=3``)."""
    from runoffbench.experiment import parse_run_name

    parsed = [parse_run_name(name) for name in models]
    factors = list(dict.fromkeys(factor for _, labels in parsed for factor in labels))
    clash = [f for f in factors if f in RUN_COLUMNS + BASIN_COLUMNS + ["base_model"]]
    if clash:
        raise DataError(f"sweep factors {clash} have the names of metrics-table columns; rename them")
    columns = {"base_model": [base for base, _ in parsed]}
    columns.update({f: [labels.get(f, "") for _, labels in parsed] for f in factors})
    return pd.DataFrame(columns, index=models.index)


def primary_runs(table: pd.DataFrame, split: str | None = None) -> pd.DataFrame:
    """The rows figures and tables show: one member per model and forcing of one split.

    The ``ensemble`` member where it exists, else the first member (numeric order). ``split``
    defaults to the first split of the table (sorted).
    """
    split = split or sorted(table["split"].unique())[0]
    rows = table[table["split"] == split]
    if rows.empty:
        raise DataError(f"the metrics table has no runs of split {split!r}; splits: {sorted(table['split'].unique())}")
    chosen = []
    for _run, group in rows.groupby(["model", "forcing"], sort=False):
        members = group["member"].astype(str).unique()
        member = ENSEMBLE_MEMBER if ENSEMBLE_MEMBER in members else sorted(members, key=_member_order)[0]
        chosen.append(group[group["member"].astype(str) == member])
    return pd.concat(chosen, ignore_index=True)


def metric_by_basin(table: pd.DataFrame, model: str, forcing: str, metric: str) -> pd.Series:
    """Values of ``metric`` of one model and forcing, indexed by basin."""
    rows = table[(table["model"] == model) & (table["forcing"] == forcing)]
    if metric not in table.columns:
        raise DataError(f"the metrics table has no {metric!r} column")
    return rows.set_index("basin")[metric].astype(float)


def runs(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(model, forcing) pairs of ``table`` in order of first appearance."""
    return list(dict.fromkeys(zip(table["model"], table["forcing"])))


def select_hydrograph_basins(basins: Sequence[str], count: int) -> list[str]:
    """``count`` basins evenly spaced through the sorted ids (ids sort by region, so regions differ)."""
    ordered = sorted(str(b) for b in basins)
    if count >= len(ordered):
        return ordered
    positions = np.linspace(0, len(ordered) - 1, count).round().astype(int)
    return [ordered[i] for i in positions]


def hydrograph_table(paths: Iterable[str | Path], basins: Sequence[str] | None, count: int,
                     start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Observed and simulated flow of the chosen basins of every prediction file, long format.

    ``basins`` (ids) or else ``count`` basins (:func:`select_hydrograph_basins` on the first file);
    ``start``/``end`` restrict the days, by default the last full water year of the first file.
    """
    datasets = [(Path(p), read_predictions(p)) for p in paths]
    if not datasets:
        raise DataError("hydrograph-table: no prediction files given")
    first = datasets[0][1]
    chosen = list(basins) if basins else select_hydrograph_basins(first["basin"].values, count)
    if start is None and end is None:
        start, end = _last_water_year(pd.DatetimeIndex(first["date"].values))
    frames = []
    for path, dataset in datasets:
        missing = [b for b in chosen if b not in set(dataset["basin"].values)]
        if missing:
            raise DataError(f"{path}: hydrograph basins {missing} are not in the file")
        part = dataset[["qobs", "qsim"]].sel(basin=chosen, date=slice(start, end)).to_dataframe().reset_index()
        for column in reversed(RUN_COLUMNS):
            part.insert(0, column, str(dataset.attrs[column]))
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def _last_water_year(dates: pd.DatetimeIndex) -> tuple[str, str]:
    last = dates[-1]
    end_year = last.year if (last.month, last.day) >= (9, 30) else last.year - 1
    return f"{end_year - 1}-10-01", f"{end_year}-09-30"


def _member_order(member: str) -> tuple[int, str]:
    return (int(member), "") if str(member).isdigit() else (10**9, str(member))


#: the basin sets a table or figure can be restricted to (``--basins``, config ``evaluation.basins``)
BASIN_SETS = ("all", "complete_record")


def select_basins(table: pd.DataFrame, basins: str = "all") -> pd.DataFrame:
    """The rows of the metrics table in the basin set ``basins``: ``all``, or ``complete_record`` — the
    basins observed on every day of the test period (Frame et al. 2023: 530 of 531 on split 1)."""
    if basins not in BASIN_SETS:
        raise ConfigError(f"unknown basin set {basins!r}; known: {', '.join(BASIN_SETS)}")
    if basins == "all":
        return table
    if "complete_record" not in table.columns:
        raise DataError("the metrics table has no complete_record column (re-run the evaluate rule)")
    kept = table[table["complete_record"] == 1]
    if kept.empty:
        raise DataError("no basin of the metrics table has a complete record in the test period")
    return kept
