"""Scope of a table or figure: the rows of the metrics table it shows (``runoffbench.outputs.SCOPE``).

:func:`apply_scope` restricts the long metrics table (:mod:`runoffbench.evaluation.collect`) to one
split, the listed forcings, models (in their order, renamed to their display labels), factor levels,
a member selection (:data:`runoffbench.outputs.MEMBER_MODES`) and basin filters
(:data:`runoffbench.outputs.BASIN_FILTERS`). When the member selection leaves a model and forcing with
several members (``single``, ``both``), each member becomes a model of its own, ``"LSTM, seed 3"``,
so every table and figure function sees one member per model and forcing. Filters run after the
member selection: ``common`` and ``nse_above`` judge the runs that are shown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from runoffbench.errors import ConfigError, DataError
from runoffbench.predictions import ENSEMBLE_MEMBER

log = logging.getLogger(__name__)

#: text columns of the metrics table (ids such as "01" or "0" stay text)
TEXT_COLUMNS = {"model": str, "forcing": str, "split": str, "member": str, "basin": str, "huc_02": str,
                "base_model": str}
RUN = ["model", "forcing", "split"]
SEED_MEAN = "seed_mean"
#: ``split`` of a kind showing every split side by side (``OutputKind.splits == "several"``)
ALL_SPLITS = "*"
#: ``members`` of a kind that reads every member itself (``OutputKind.members == "all"``): none dropped
ALL_MEMBERS = "all"


def read_metrics_table(path: str | Path) -> pd.DataFrame:
    """tables/metrics.csv with its id and factor-level columns as text."""
    from runoffbench.experiment import parse_run_name

    path = Path(path)
    if not path.is_file():
        raise DataError(f"metrics table {path} does not exist")
    names = pd.read_csv(path, usecols=["model"], dtype=str)["model"].unique()
    factors = {factor for name in names for factor in parse_run_name(name)[1]}
    return pd.read_csv(path, dtype={**TEXT_COLUMNS, **{factor: str for factor in factors}})


def apply_scope(table: pd.DataFrame, scope: Mapping) -> tuple[pd.DataFrame, dict[str, str]]:
    """The rows of ``table`` in ``scope`` (split, forcings, models, factors, members, basins) and the
    display label of every shown model name (for options that name models, e.g. a baseline). ``members:
    all`` (:data:`ALL_MEMBERS`, set for a kind that reads every member itself) keeps every member."""
    if scope.get("split") == ALL_SPLITS or isinstance(scope.get("split"), (list, tuple)):
        return _per_split(table, scope)
    table = _one_split(table, scope.get("split"))
    table = _forcings(table, scope.get("forcings"))
    table = _factors(table, scope.get("factors") or {})
    tokens = [str(token) for token in scope.get("basins") or ["all"]]
    covered = {t: covered_basins(table, t) for t in tokens if t.startswith("common:")}  # before the models go
    table, labels = _models(table, scope.get("models"))
    members = scope.get("members", "primary")
    if members != ALL_MEMBERS:
        table = select_members(table, members)
    for token in tokens:
        table = filter_basins(table, token, covered.get(token))
    return table.reset_index(drop=True), labels


def _per_split(table: pd.DataFrame, scope: Mapping) -> tuple[pd.DataFrame, dict[str, str]]:
    """Several splits (a list, or :data:`ALL_SPLITS`: every split, sorted): the scope applied to each split
    on its own (members and basin filters per split), the rows concatenated in the splits' order. A listed
    model or forcing without runs in one split is left out there (an external model of one period, the forcing of
    a comparison split), not an error."""
    available = sorted(table["split"].unique())
    splits = available if scope.get("split") == ALL_SPLITS else list(scope["split"])
    missing = [s for s in splits if s not in available]
    if missing:
        raise DataError(f"the metrics table has no runs of splits {missing}; splits: {', '.join(available)}")
    models = scope.get("models")
    labels_all = dict(models) if isinstance(models, Mapping) else {m: m for m in models or []}
    parts, labels = [], {}
    for split in splits:
        rows = table[table["split"] == split]
        forcings = [f for f in scope.get("forcings") or [] if f in set(rows["forcing"])]
        if scope.get("forcings") and not forcings:
            continue
        shown_rows = rows[rows["forcing"].isin(forcings)] if forcings else rows
        present = set(shown_rows["model"]) | set(shown_rows.get("base_model", shown_rows["model"]))
        here = {m: label for m, label in labels_all.items() if m in present}
        if labels_all and not here:
            continue
        part, shown = apply_scope(rows, {**scope, "split": split, "models": here or None, "forcings": forcings or None})
        parts.append(part)
        labels.update(shown)
    if not parts:
        raise DataError(f"models {list(labels_all)} have no runs in the splits {splits}")
    absent = [m for m in labels_all if m not in labels]
    if absent:
        raise DataError(f"models {absent} have no runs in the splits {splits}")
    return pd.concat(parts, ignore_index=True), labels


def _one_split(table: pd.DataFrame, split: str | None) -> pd.DataFrame:
    splits = sorted(table["split"].unique())
    split = split or splits[0]
    if split not in splits:
        raise DataError(f"the metrics table has no runs of split {split!r}; splits: {', '.join(splits)}")
    return table[table["split"] == split]


def _forcings(table: pd.DataFrame, forcings: Sequence[str] | None) -> pd.DataFrame:
    if not forcings:
        return table
    missing = [f for f in forcings if f not in set(table["forcing"])]
    if missing:
        raise DataError(f"forcings {missing} have no runs in the metrics table; forcings: "
                        f"{', '.join(sorted(table['forcing'].unique()))}")
    order = {f: i for i, f in enumerate(forcings)}
    rows = table[table["forcing"].isin(order)]
    return rows.iloc[np.argsort(rows["forcing"].map(order).to_numpy(), kind="stable")]


def _factors(table: pd.DataFrame, factors: Mapping) -> pd.DataFrame:
    for factor, levels in factors.items():
        if factor not in table.columns:
            raise DataError(f"factor {factor!r} is no column of the metrics table (no sweep varies it)")
        table = table[table[factor].isin([str(level) for level in levels])]
    if table.empty:
        raise DataError(f"no run has the factor levels {dict(factors)}")
    return table


def _models(table: pd.DataFrame, models) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rows of the listed models (a name matches a run's ``model`` or its sweep's ``base_model``), in
    their order, renamed to their labels."""
    if not models:
        return table, {}
    labels = dict(models) if isinstance(models, Mapping) else {m: m for m in models}
    base = table["base_model"] if "base_model" in table.columns else table["model"]
    missing = [m for m in labels if not ((table["model"] == m) | (base == m)).any()]
    if missing:
        raise DataError(f"models {missing} have no runs in the metrics table; models: "
                        f"{', '.join(sorted(table['model'].unique()))}")
    order, renamed, shown = [], table["model"].copy(), pd.Series(False, index=table.index)
    new_base = base.copy()
    for position, (name, label) in enumerate(labels.items()):
        exact, swept = table["model"] == name, (base == name) & (table["model"] != name)
        renamed[exact] = label
        renamed[swept] = label + table.loc[swept, "model"].str.slice(len(name))
        new_base[exact | swept] = label
        order.append(pd.Series(position, index=table.index[exact | swept]))
        shown |= exact | swept
    positions = pd.concat(order).groupby(level=0).min()
    rows = table.assign(model=renamed, base_model=new_base)[shown]
    rows = rows.iloc[np.argsort(positions.reindex(rows.index).to_numpy(), kind="stable")]
    return rows, labels


def select_members(table: pd.DataFrame, mode: str) -> pd.DataFrame:
    """The members shown per model and forcing (``runoffbench.outputs.MEMBER_MODES``); several left for one
    model and forcing become models of their own, named by member."""
    member = table["member"].astype(str)
    single = member != ENSEMBLE_MEMBER
    if mode == "seed_mean":
        return _seed_mean(table[single])
    first = _first_member(table[single])
    has_ensemble = set(map(tuple, table.loc[~single, ["model", "forcing"]].to_numpy()))
    keys = list(zip(table["model"], table["forcing"]))
    if mode == "primary":
        keep = np.where([k in has_ensemble for k in keys], ~single, first.reindex(table.index, fill_value=False))
    elif mode == "ensemble":
        keep = ~single
    elif mode == "first":
        keep = first.reindex(table.index, fill_value=False)
    elif mode == "single":
        keep = single
    elif mode == "both":
        keep = ~single | first.reindex(table.index, fill_value=False)
    else:
        raise ConfigError(f"unknown members {mode!r}; choices: primary, ensemble, first, single, both, seed_mean")
    rows = table[np.asarray(keep, dtype=bool)]
    if rows.empty:
        raise DataError(f"members: {mode}: no run has such a member")
    several = rows.groupby(["model", "forcing"])["member"].transform("nunique") > 1
    if several.any():
        named = rows["member"].astype(str).map(lambda m: "ensemble" if m == ENSEMBLE_MEMBER else f"seed {m}")
        rows = rows.assign(model=np.where(several, rows["model"] + ", " + named, rows["model"]))
    return rows


def _first_member(singles: pd.DataFrame) -> pd.Series:
    """True on the rows of each model and forcing's first single member (numeric order)."""
    order = pd.to_numeric(singles["member"], errors="coerce")
    first = order.groupby([singles["model"], singles["forcing"]]).transform("min")
    return order == first


def _seed_mean(singles: pd.DataFrame) -> pd.DataFrame:
    """Per run and basin, the mean of every metric over the single members (member ``seed_mean``)."""
    if singles.empty:
        raise DataError("members: seed_mean: no run has single members")
    numeric = [c for c in singles.select_dtypes("number").columns if c not in ("lat", "lon")]
    keys = RUN + ["basin"]
    means = singles.groupby(keys, sort=False)[numeric].mean()
    counts = singles.groupby(keys, sort=False)["member"].nunique().rename("members")
    rest = singles.drop(columns=numeric).drop_duplicates(keys).set_index(keys).drop(columns="member")
    table = rest.join(means).join(counts).reset_index()
    table.insert(3, "member", SEED_MEAN)
    return table


def covered_basins(table: pd.DataFrame, token: str) -> set[str]:
    """``common:MODEL,MODEL,...`` (or ``common:all``): the basins where every run of these models (of every
    model of ``table``) has an NSE — judged on the whole table of the split, shown or not (the 447 basins all
    CAMELS benchmark models simulate, for a figure that shows some of them)."""
    names = token.partition(":")[2].split(",")
    base = table["base_model"] if "base_model" in table.columns else table["model"]
    if names == ["all"]:
        rows = table
    else:
        unknown = [n for n in names if not ((table["model"] == n) | (base == n)).any()]
        if unknown:
            raise DataError(f"basins: {token}: {unknown} have no runs in the metrics table; models: "
                            f"{', '.join(sorted(table['model'].unique()))}")
        rows = table[table["model"].isin(names) | base.isin(names)]
    valued = rows[rows["NSE"].notna()] if "NSE" in rows.columns else rows
    runs_per_basin = valued.drop_duplicates(["basin", "model", "forcing"]).groupby("basin").size()
    return set(runs_per_basin.index[runs_per_basin == len(rows[["model", "forcing"]].drop_duplicates())])


def filter_basins(table: pd.DataFrame, token: str, kept: set[str] | None = None) -> pd.DataFrame:
    """The rows of the basins that pass one filter of ``runoffbench.outputs.BASIN_FILTERS`` (``kept``: the
    basins of a ``common:MODELS`` filter, from :func:`covered_basins`)."""
    name, _, argument = token.partition(":")
    if name == "all":
        return table
    if kept is not None:
        pass
    elif name == "common" and argument:
        kept = covered_basins(table, token)
    elif name == "complete_record":
        if "complete_record" not in table.columns:
            raise DataError("the metrics table has no complete_record column (re-run the evaluate rule)")
        kept = set(table.loc[table["complete_record"] == 1, "basin"])
    elif name == "common":
        valued = table[table["NSE"].notna()] if "NSE" in table.columns else table
        runs_per_basin = valued.drop_duplicates(["basin", "model", "forcing"]).groupby("basin").size()
        shown_runs = len(table[["model", "forcing"]].drop_duplicates())
        kept = set(runs_per_basin.index[runs_per_basin == shown_runs])
    elif name == "nse_above":
        kept = _nse_above(table, argument)
    elif name == "file":
        kept = set(_read_ids(Path(argument)))
    else:
        raise ConfigError(f"unknown basin filter {token!r} (list:NAME is resolved by the workflow to file:PATH)")
    rows = table[table["basin"].isin(kept)]
    if rows.empty:
        raise DataError(f"basins: {token}: no basin of the shown runs passes this filter")
    log.info("basins %s: %d of %d basins", token, rows["basin"].nunique(), table["basin"].nunique())
    return rows


def _nse_above(table: pd.DataFrame, argument: str) -> set[str]:
    threshold, _, model = argument.partition("@")
    rows = table
    if model:
        rows = table[(table["model"] == model) | (table.get("base_model", table["model"]) == model)]
        if rows.empty:
            raise DataError(f"basins: nse_above:{argument}: {model!r} is not a shown model")
    passing = rows.assign(ok=rows["NSE"] > float(threshold)).groupby("basin")["ok"].all()
    return set(passing.index[passing])


def _read_ids(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"basin list {path} does not exist")
    ids = [line.split()[0].zfill(8) for line in path.read_text().splitlines() if line.strip()]
    if not ids:
        raise DataError(f"basin list {path} lists no basin")
    return ids
