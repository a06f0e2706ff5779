r"""Across-seed statistics per basin: how robust a model is to its random initialisation and to the amount
of training data (Li & Zhao, Sect. 3, Figs. 2, 4 and 5).

A model trained with several seeds has one single member per seed (``member`` 0, 1, ...). Per basin,
model (``base_model``, the entry a sweep expands) and level of the factor ``by`` (Li & Zhao's data
amount ``train_years``), over the single members:

* :func:`seed_statistics` — the seed mean and the seed standard deviation of a metric (KGE),
  ``std`` with ``ddof = 1`` (the sample standard deviation of the seeds' values), and the number of
  seeds with a value;
* :func:`seed_significance` — the two-sided Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`,
  exact for fewer than 50 seeds) of model A against model B across the seeds of one basin, the seeds
  paired by their number (seed k of A with seed k of B; the initialisations are independent, so the
  pairing only fixes which differences enter the test). A basin is **positive** where p < α and the
  median difference A − B is above 0 (A significantly better), **negative** where p < α and it is
  below 0, **not significant** otherwise (also where every difference is 0), and **untested** where
  fewer than :func:`minimum_seeds` seeds of both models have a value in that basin (failed or
  non-finite members): such basins are counted in every table and figure, never dropped silently;
* :func:`robustness_summary` — per forcing and level, the medians over basins and the counts of the
  classes and of the basins where A's seed standard deviation is below B's.

How many seeds the test needs
-----------------------------
With n paired seeds and no ties, the smallest two-sided p of the exact signed-rank test is
:math:`2 / 2^n` (every difference of one sign): 0.0625 for 5 seeds, 0.031 for 6. Below
:func:`minimum_seeds` (6 at α = 0.05) no basin can ever be significant, so the statistics refuse such
a configuration with a :class:`~runoffbench.errors.ConfigError` naming ``models.<name>.seeds``
(:func:`check_seed_entry` in the config check, :func:`require_seeds` when the statistics are built).
Li & Zhao train 10 seeds (smallest p 0.002).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from runoffbench.errors import ConfigError, DataError
from runoffbench.predictions import ENSEMBLE_MEMBER

SIGNIFICANCE = 0.05
#: the classes of the per-basin test, in the order tables and figures show them
CLASSES = ("positive", "not significant", "negative", "untested")
DATA_AMOUNT = "train_years"
_COORDINATES = ("huc_02", "lat", "lon")


def minimum_seeds(alpha: float = SIGNIFICANCE) -> int:
    """The fewest paired seeds for which the exact two-sided signed-rank test can reach p < ``alpha``:
    the smallest n with 2 / 2^n < alpha (6 at 0.05, 7 at 0.02, 8 at 0.01)."""
    if not 0 < alpha < 1:
        raise ConfigError(f"the significance level alpha must be in (0, 1), got {alpha}")
    return max(2, math.floor(math.log2(2 / alpha)) + 1)


def require_seeds(seeds: int, alpha: float, what: str, key: str = "models.<name>.seeds") -> None:
    """:class:`ConfigError` when ``seeds`` seeds are too few for the signed-rank test at ``alpha``."""
    needed = minimum_seeds(alpha)
    if seeds < needed:
        raise ConfigError(
            f"{key}: the Wilcoxon signed-rank test across seeds at alpha = {alpha:g} needs at least {needed} seeds "
            f"per basin ({what} has {seeds}): with n seeds the smallest two-sided p is 2/2^n = {2 / 2 ** seeds:.3g}, "
            f"so no basin could be significant; list {needed} or more seeds in {key} (Li & Zhao train 10)")


def check_seed_entry(values: Mapping, models: Mapping[str, Mapping]) -> list[str]:
    """The config check of a seed-statistics entry (``OutputKind.check``): each model of its ``pair`` has
    enough seeds for the test at its ``alpha``; the models shown by a standard deviation have 2 or more.
    ``values``: the entry's resolved options; ``models``: the config's model entries, sweeps expanded."""
    problems = []
    alpha = float(values.get("alpha", SIGNIFICANCE))
    try:
        needed = minimum_seeds(alpha)
    except ConfigError as error:
        return [str(error)]
    for name in values.get("pair") or []:
        for run, entry in _runs_of(name, models):
            seeds = _configured_members(entry)
            if entry.get("kind") == "conceptual":  # seeds cannot be added: one calibration per data amount
                problems.append(f"pair: {name} is calibrated, one member per run (the calibration seed), and the "
                                f"per-basin test across seeds needs {needed} seeds of both models; pair two models "
                                "with seeds (a seed kind draws a calibrated model's seed mean, not its spread)")
                break
            if seeds < needed:
                try:
                    require_seeds(seeds, alpha, run, key=f"models.{entry.get('base_model', run)}.seeds")
                except ConfigError as error:
                    problems.append(str(error))
                break
    return problems


def _runs_of(name: str, models: Mapping[str, Mapping]) -> list[tuple[str, Mapping]]:
    return [(run, entry) for run, entry in models.items() if run == name or entry.get("base_model") == name]


def _configured_members(entry: Mapping) -> int:
    """Single members a model entry has: its seeds (nn), members (baseline), else one."""
    if entry.get("kind") == "nn":
        return len(entry.get("seeds", [0]))
    if entry.get("kind") == "baseline":
        return len(entry.get("members", [0]))
    return 1


# ------------------------------------------------------------------------------------------------
# per basin
# ------------------------------------------------------------------------------------------------
def single_members(table: pd.DataFrame, metric: str, by: str | None = DATA_AMOUNT) -> pd.DataFrame:
    """The rows of the single members (seeds) with a finite ``metric``, ``base_model`` and ``by`` as text."""
    if metric not in table.columns:
        raise DataError(f"the metrics table has no {metric!r} column; add it to evaluation.metrics")
    if by is not None and by not in table.columns:
        raise DataError(f"seed statistics by {by!r}: no such column in the metrics table (a sweep factor, e.g. "
                        "train_years)")
    rows = table[table["member"].astype(str) != ENSEMBLE_MEMBER]
    if rows.empty:
        raise DataError("seed statistics: the metrics table has no single members (seeds)")
    base = rows["base_model"] if "base_model" in rows.columns else rows["model"]
    level = rows[by].fillna("").astype(str) if by is not None else pd.Series("", index=rows.index)
    rows = rows.assign(base_model=base.astype(str), level=level, member=rows["member"].astype(str))
    return rows[np.isfinite(rows[metric].astype(float))]


def seed_statistics(table: pd.DataFrame, metric: str = "KGE", by: str | None = DATA_AMOUNT) -> pd.DataFrame:
    """Per forcing, model, level of ``by`` and basin: ``seeds``, ``mean``, ``std`` (ddof 1, NaN for one
    seed) of ``metric`` over the single members; with the basin's ``huc_02``, ``lat``, ``lon`` where the
    table has them. ``model`` is the base model (the entry a sweep expands), ``level`` the factor's label."""
    rows = single_members(table, metric, by)
    keys = ["forcing", "split", "base_model", "level", "basin"]
    grouped = rows.groupby(keys, sort=False)[metric]
    result = pd.DataFrame({"seeds": grouped.size(), "mean": grouped.mean(), "std": grouped.std(ddof=1)})
    coordinates = [c for c in _COORDINATES if c in rows.columns]
    if coordinates:
        result = result.join(rows.drop_duplicates("basin").set_index("basin")[coordinates], on="basin")
    return result.reset_index().rename(columns={"base_model": "model"})


def seed_significance(table: pd.DataFrame, pair: Sequence[str], metric: str = "KGE", by: str | None = DATA_AMOUNT,
                      alpha: float = SIGNIFICANCE) -> pd.DataFrame:
    """Per forcing, level and basin the signed-rank test of ``pair`` = (A, B) across seeds (module
    docstring): ``seeds`` (paired), ``median difference`` (A − B), ``p`` and ``class``.

    :class:`ConfigError` when A or B has fewer seeds than the test needs (no basin has more), naming
    ``models.<name>.seeds``; :class:`DataError` when either has no runs."""
    a, b = _pair(pair)
    rows = single_members(table, metric, by)
    present = list(dict.fromkeys(rows["base_model"]))
    missing = [m for m in (a, b) if m not in present]
    if missing:
        raise DataError(f"seed significance: {missing} have no single members in the metrics table; models: "
                        f"{', '.join(present)}")
    needed = minimum_seeds(alpha)
    for model in (a, b):
        most = int(rows[rows["base_model"] == model].groupby(["forcing", "level", "basin"])["member"].nunique().max())
        require_seeds(most, alpha, model)
    wide = rows[rows["base_model"].isin([a, b])].pivot_table(
        index=["forcing", "split", "level", "basin"], columns=["base_model", "member"], values=metric, aggfunc="first")
    records = []
    for key, values in wide.iterrows():
        first, second = values[a], values[b]
        common = first.index.intersection(second.index)
        x, y = first[common].to_numpy(float), second[common].to_numpy(float)
        valid = np.isfinite(x) & np.isfinite(y)
        x, y = x[valid], y[valid]
        difference = x - y
        record = dict(zip(["forcing", "split", "level", "basin"], key))
        record.update(seeds=int(x.size), **{"median difference": float(np.median(difference)) if x.size else np.nan})
        if x.size < needed:
            record.update(p=np.nan, **{"class": "untested"})
        elif np.all(difference == 0):
            record.update(p=1.0, **{"class": "not significant"})
        else:
            p = float(stats.wilcoxon(x, y, alternative="two-sided").pvalue)
            median = record["median difference"]
            label = "not significant" if p >= alpha or median == 0 else ("positive" if median > 0 else "negative")
            record.update(p=p, **{"class": label})
        records.append(record)
    return pd.DataFrame.from_records(records, columns=["forcing", "split", "level", "basin", "seeds",
                                                       "median difference", "p", "class"])


def class_counts(significance: pd.DataFrame) -> pd.DataFrame:
    """Basins per class (:data:`CLASSES`, columns) per forcing and level (rows)."""
    counts = significance.groupby(["forcing", "level"], sort=False)["class"].value_counts().unstack(fill_value=0)
    return counts.reindex(columns=list(CLASSES), fill_value=0)


def std_difference(statistics: pd.DataFrame, pair: Sequence[str]) -> pd.DataFrame:
    """Per forcing, level and basin ``std`` of A, of B and ``difference`` A − B (basins with both)."""
    a, b = _pair(pair)
    keys = ["forcing", "split", "level", "basin"]
    coordinates = [c for c in _COORDINATES if c in statistics.columns]
    first = statistics[statistics["model"] == a].set_index(keys)
    second = statistics[statistics["model"] == b].set_index(keys)
    for model, rows in ((a, first), (b, second)):
        if rows.empty:
            raise DataError(f"seed standard deviation: {model!r} has no single members; models: "
                            f"{', '.join(dict.fromkeys(statistics['model']))}")
    both = first[["std"] + coordinates].rename(columns={"std": "std_a"}).join(
        second[["std"]].rename(columns={"std": "std_b"}), how="inner").dropna(subset=["std_a", "std_b"])
    both["difference"] = both["std_a"] - both["std_b"]
    return both.reset_index()


def robustness_summary(table: pd.DataFrame, pair: Sequence[str] | None, metric: str = "KGE",
                       by: str | None = DATA_AMOUNT, alpha: float = SIGNIFICANCE) -> pd.DataFrame:
    """Per forcing and level: basins, per model the median over basins of the seed mean and of the seed
    standard deviation, and for ``pair`` = (A, B) the basins per test class and where std A < std B."""
    statistics = seed_statistics(table, metric, by)
    models = list(dict.fromkeys(statistics["model"]))
    keys = ["forcing", "level"]
    records = {}
    for (forcing, level), rows in statistics.groupby(keys, sort=False):
        record = records.setdefault((forcing, level), {"forcing": forcing, by or "level": level,
                                                       "basins": rows["basin"].nunique()})
        for model in models:
            mine = rows[rows["model"] == model]
            if mine.empty:
                continue
            record[f"{model}: seeds"] = int(mine["seeds"].max())
            record[f"{model}: median {metric} (seed mean)"] = float(mine["mean"].median())
            record[f"{model}: median {metric} std"] = float(mine["std"].median())
    if pair:
        a, b = _pair(pair)
        counts = class_counts(seed_significance(table, pair, metric, by, alpha))
        lower = std_difference(statistics, pair)
        lower_counts = lower.assign(lower=lower["difference"] < 0).groupby(keys, sort=False)
        for key, record in records.items():
            if key in counts.index:
                for name in CLASSES:
                    record[f"{a} vs {b}: {name}"] = int(counts.loc[key, name])
            if key in lower_counts.groups:
                group = lower_counts.get_group(key)
                record[f"std {a} < std {b}"] = int(group["lower"].sum())
                record["std compared"] = int(len(group))
    frame = pd.DataFrame.from_records(list(records.values()))
    if frame.empty:
        return frame
    # the models' columns in the models' order (a model without runs at the first level still comes first)
    model_columns = [c for m in models for c in (f"{m}: seeds", f"{m}: median {metric} (seed mean)",
                                                  f"{m}: median {metric} std") if c in frame.columns]
    rest = [c for c in frame.columns if c not in model_columns]
    frame = frame[rest[:3] + model_columns + rest[3:]]
    for column in [c for c in frame.columns if c.endswith(": seeds")]:
        frame[column] = frame[column].astype("Int64")
    return frame.iloc[_level_order(frame[by or "level"].astype(str))].reset_index(drop=True)


def _level_order(levels: pd.Series) -> np.ndarray:
    """Row order: numeric levels numerically, others as text (stable)."""
    numeric = pd.to_numeric(levels, errors="coerce")
    return np.lexsort((levels.to_numpy(), numeric.fillna(np.inf).to_numpy()))


def level_order(levels) -> list[str]:
    """The distinct ``levels`` numerically ordered where they are numbers (1, 3, 15, not 1, 15, 3)."""
    distinct = pd.Series(list(dict.fromkeys(str(level) for level in levels)))
    return list(distinct.iloc[_level_order(distinct)])


def _pair(pair: Sequence[str] | None) -> tuple[str, str]:
    if not pair or len(pair) != 2 or pair[0] == pair[1]:
        raise ConfigError(f"seed statistics: pair must name two different models [A, B] (A − B), got {pair!r}")
    return str(pair[0]), str(pair[1])


# ------------------------------------------------------------------------------------------------
# tables (kinds of runoffbench.outputs.KINDS)
# ------------------------------------------------------------------------------------------------
def _scoped_split(table: pd.DataFrame, split: str | None) -> tuple[pd.DataFrame, str]:
    split = split or sorted(table["split"].unique())[0]
    rows = table[table["split"] == split]
    if rows.empty:
        raise DataError(f"the metrics table has no runs of split {split!r}; splits: {sorted(table['split'].unique())}")
    return rows, split


def _test_note(pair: tuple[str, str], alpha: float, metric: str) -> str:
    a, b = pair
    return (f"{a} vs {b}: per basin the two-sided Wilcoxon signed-rank test of {metric} across seeds (seed k of {a} "
            f"paired with seed k of {b}), alpha = {alpha:g}; positive: p < alpha and median difference {a} − {b} "
            f"> 0; negative: p < alpha and < 0; untested: fewer than {minimum_seeds(alpha)} seeds of both with a "
            "value in that basin (counted, not dropped).")


def seed_robustness_table(table: pd.DataFrame, split: str | None = None, metric: str = "KGE",
                          by: str = DATA_AMOUNT, pair: tuple[str, ...] | None = None, alpha: float = SIGNIFICANCE,
                          expected_runs=None):
    """Li & Zhao's numbers per data amount: a row per forcing and level of ``by``, per model the median over
    basins of the seed mean and of the seed standard deviation of ``metric``, and for ``pair`` the basins per
    class of the per-basin test and the basins where A's seed standard deviation is below B's."""
    from runoffbench.evaluation.tables import BuiltTable, coverage_notes

    rows, split = _scoped_split(table, split)
    summary = robustness_summary(rows, pair, metric, by, alpha)
    shown = summary.copy()
    for column in shown.columns:
        if column.endswith(("(seed mean)", " std")):
            shown[column] = shown[column].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}")
    notes = ["seed mean and std: per basin over the single members (seeds) with a value, std with ddof = 1; "
             "the medians are over the basins of each row.",
             *coverage_notes(table, rows, split, expected_runs)]
    if pair:
        a, b = _pair(pair)
        notes.insert(1, _test_note((a, b), alpha, metric))
        notes.insert(2, f"std {a} < std {b}: basins where {a}'s seed standard deviation is below {b}'s, of the "
                        "basins both have (std compared): robustness against the initialisation.")
    caption = (f"Robustness across seeds per {by.replace('_', ' ')}, split {split}: seed mean and standard deviation "
               f"of {metric} per basin (Li & Zhao, Sect. 3, Figs. 2 and 4-5).")
    return BuiltTable(shown, caption, tuple(notes), group="forcing")


def seed_statistics_table(table: pd.DataFrame, split: str | None = None, metric: str = "KGE",
                          by: str = DATA_AMOUNT, pair: tuple[str, ...] | None = None, alpha: float = SIGNIFICANCE,
                          expected_runs=None):
    """The per-basin statistics: a row per forcing, level of ``by`` and basin; per model the seeds, the seed
    mean and the seed standard deviation of ``metric``; for ``pair`` the test's p and class."""
    from runoffbench.evaluation.tables import BuiltTable, coverage_notes

    rows, split = _scoped_split(table, split)
    statistics = seed_statistics(rows, metric, by)
    keys = ["forcing", "level", "basin"]
    wide = statistics.pivot_table(index=keys, columns="model", values=["seeds", "mean", "std"], aggfunc="first",
                                  sort=False)
    models = list(dict.fromkeys(statistics["model"]))
    columns = {}
    for model in models:
        columns[f"{model}: seeds"] = wide[("seeds", model)].astype("Int64")
        columns[f"{model}: {metric} mean"] = wide[("mean", model)].round(4)
        columns[f"{model}: {metric} std"] = wide[("std", model)].round(4)
    frame = pd.DataFrame(columns, index=wide.index)
    notes = ["seed mean and std over the single members (seeds) with a value, std with ddof = 1 (empty for one seed).",
             *coverage_notes(table, rows, split, expected_runs)]
    if pair:
        a, b = _pair(pair)
        test = seed_significance(rows, (a, b), metric, by, alpha).set_index(keys)
        frame[f"{a} vs {b}: p"] = test["p"].reindex(frame.index).round(5)
        frame[f"{a} vs {b}: class"] = test["class"].reindex(frame.index)
        notes.insert(1, _test_note((a, b), alpha, metric))
    frame = frame.reset_index().rename(columns={"level": by})
    frame = frame.iloc[np.lexsort((frame["basin"].to_numpy(), _level_order(frame[by].astype(str)).argsort(),
                                   frame["forcing"].to_numpy()))].reset_index(drop=True)
    caption = (f"Per-basin statistics across seeds per {by.replace('_', ' ')}, split {split}: seed mean and standard "
               f"deviation of {metric} (Li & Zhao, Sect. 3).")
    return BuiltTable(frame, caption, tuple(notes))
