r"""Outputs no model is trained on, per run and basin: the tables behind Feng et al. (2022)'s Table 2 and
Figs. 3-6 (contract 4 inputs, built from the predictions, contract 2).

``tables/process.csv`` (:func:`process_table`): every row of ``tables/metrics.csv`` (a run member and
basin, with its metrics) and

* ``BFI`` — the simulated baseflow index :math:`\sum_t Q_2^t / \sum_t Q^t` over the test days where
  both are finite (Q2 the run's ``baseflow`` flux, the lower-zone outflow of HBV; Feng et al. Sect.
  3.2), ``BFI-CAMELS`` — the basin's CAMELS ``baseflow_index`` (Addor et al. 2017, from the observed
  hydrograph by a digital filter);
* with MOD16A2 basin means (:mod:`runoffbench.data.modis_et`): the run's ``et`` averaged over each
  8-day composite inside the test period (from 2001, when MODIS starts; a composite with a day
  missing is left out) against the MODIS composite means, ``ET-r`` the Pearson correlation in time
  (Feng et al.'s "temporal correlation … on 8-day composites"; NaN on fewer than
  :data:`MIN_COMPOSITES` pairs), ``ET-RMSE`` [mm/day], ``ET-mean`` and ``ET-mean-MODIS`` the mean over
  those composites [mm/day] (their correlation across basins is Feng's spatial ET correlation, Fig. 6),
  ``ET-composites`` the pairs.

Runs without a ``baseflow`` or ``et`` flux (an LSTM) have NaN there.

``tables/series.csv`` (:func:`series_table`): daily ``qobs``, ``qsim`` and the dynamic parameters
``beta_t_<k>``, ``gamma_t_<k>`` (component k) of a few basins, one row per model, basin and day of the
test period: the basins whose NSE under a reference model is nearest that model's median NSE (Feng et
al. Fig. 3: "three basins near the median NSE"), with each run's NSE, ``lat`` and ``lon`` of the basins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.evaluation.collect import run_of_run_file
from runoffbench.periods import Period
from runoffbench.predictions import ENSEMBLE_MEMBER

log = logging.getLogger(__name__)

RUN_KEYS = ["model", "forcing", "split", "member"]
PROCESS_COLUMNS = ["BFI", "BFI-CAMELS", "ET-r", "ET-RMSE", "ET-mean", "ET-mean-MODIS", "ET-composites"]
#: fewest 8-day composites a temporal ET correlation rests on
MIN_COMPOSITES = 10


def _open(path: Path, names: Sequence[str]) -> xr.Dataset:
    """The variables ``names`` (those present) of a prediction file, loaded; nothing else is read."""
    with xr.open_dataset(path) as dataset:
        present = [n for n in names if n in dataset]
        subset = dataset[present].load()
    return subset.assign_coords(basin=subset["basin"].astype(str))


def baseflow_index(baseflow: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Σ Q2 / Σ Q per row (basin) over the days where both are finite; NaN without flow."""
    both = np.isfinite(baseflow) & np.isfinite(flow)
    total = np.where(both, flow, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.where(both, baseflow, 0.0).sum(axis=1) / total, np.nan)


def et_scores(simulated: pd.DataFrame, modis: xr.Dataset) -> pd.DataFrame:
    """Per basin: ``ET-r``, ``ET-RMSE``, ``ET-mean``, ``ET-mean-MODIS``, ``ET-composites`` of daily simulated
    ET (date × basin, mm/day) against the MODIS composites (:func:`runoffbench.data.modis_et.read_modis_et`)."""
    from runoffbench.data.modis_et import composite_means

    starts = pd.DatetimeIndex(modis["date"].values)
    basins = [b for b in simulated.columns if b in set(modis["basin"].values)]
    sim = composite_means(simulated[basins], starts)
    obs = modis["et"].sel(basin=basins).to_pandas().T.reindex(starts)
    rows = {}
    for basin in basins:
        both = sim[basin].notna() & obs[basin].notna()
        s, o = sim.loc[both, basin].to_numpy(float), obs.loc[both, basin].to_numpy(float)
        n = int(both.sum())
        r = float(np.corrcoef(s, o)[0, 1]) if n >= MIN_COMPOSITES and s.std() > 0 and o.std() > 0 else np.nan
        rows[basin] = {"ET-r": r, "ET-RMSE": float(np.sqrt(np.mean((s - o) ** 2))) if n else np.nan,
                       "ET-mean": float(s.mean()) if n else np.nan, "ET-mean-MODIS": float(o.mean()) if n else np.nan,
                       "ET-composites": n}
    return pd.DataFrame.from_dict(rows, orient="index")


def run_process_scores(path: str | Path, camels_bfi: pd.Series, modis_path: str | Path | None = None,
                       modis_options: dict | None = None) -> pd.DataFrame:
    """The process columns (module docstring) of one prediction file, a row per basin with the run's keys."""
    path = Path(path)
    run = run_of_run_file(path)
    dataset = _open(path, ["qsim", "baseflow", "et"])
    basins = [str(b) for b in dataset["basin"].values]
    table = pd.DataFrame(index=pd.Index(basins, name="basin"), columns=PROCESS_COLUMNS, dtype=float)
    table["BFI-CAMELS"] = camels_bfi.reindex(basins).to_numpy(float)
    if "baseflow" in dataset:
        table["BFI"] = baseflow_index(dataset["baseflow"].values.astype(float), dataset["qsim"].values.astype(float))
    if "et" in dataset and modis_path is not None:
        dates = pd.DatetimeIndex(dataset["date"].values)
        from runoffbench.data.modis_et import FIRST_DAY, read_modis_et

        if dates[-1] >= FIRST_DAY:
            modis = read_modis_et(modis_path, basins, Period(dates[0], dates[-1]), **(modis_options or {}))
            daily = dataset["et"].transpose("date", "basin").to_pandas()
            scores = et_scores(daily, modis)
            table.loc[scores.index, scores.columns] = scores.to_numpy(float)
        else:
            log.warning("%s: the test period %s..%s ends before MODIS starts; no ET scores", path, dates[0].date(),
                        dates[-1].date())
    table = table.reset_index()
    for column, value in reversed(run.items()):
        table.insert(0, column, value)
    return table


def process_table(prediction_paths: Iterable[str | Path], metrics: pd.DataFrame, attributes: xr.Dataset,
                  modis_path: str | Path | None = None, modis_options: dict | None = None) -> pd.DataFrame:
    """``tables/process.csv``: ``metrics`` (tables/metrics.csv) joined with the process columns of every
    prediction file (module docstring); metric rows without a prediction file keep NaN there."""
    camels_bfi = pd.Series(attributes["baseflow_index"].values.astype(float),
                           index=[str(b) for b in attributes["basin"].values])
    parts = [run_process_scores(p, camels_bfi, modis_path, modis_options) for p in prediction_paths]
    if not parts:
        raise DataError("process-table: no prediction files given")
    scores = pd.concat(parts, ignore_index=True)
    keys = RUN_KEYS + ["basin"]
    duplicated = scores.duplicated(keys)
    if duplicated.any():
        raise DataError(f"process-table: run {scores.loc[duplicated, keys].iloc[0].tolist()} given twice")
    metrics = metrics.astype({k: str for k in keys})
    return metrics.merge(scores, on=keys, how="left", validate="one_to_one")


def median_nse_basins(metrics: pd.DataFrame, model: str, forcing: str, split: str, count: int) -> list[str]:
    """The ``count`` basins whose NSE under ``model`` (its ensemble, else its first member) is nearest the
    model's median NSE over the basins (Feng et al. 2022, Fig. 3)."""
    rows = metrics[(metrics["model"] == model) & (metrics["forcing"] == forcing) & (metrics["split"] == split)]
    if rows.empty:
        raise DataError(f"series-table: no metrics of {model}/{forcing}/{split} (reference model)")
    members = rows["member"].astype(str)
    member = ENSEMBLE_MEMBER if (members == ENSEMBLE_MEMBER).any() else sorted(members, key=_member_key)[0]
    nse = rows[members == member].set_index("basin")["NSE"].dropna()
    if nse.empty:
        raise DataError(f"series-table: {model}/{forcing}/{split} has no finite NSE")
    distance = (nse - nse.median()).abs().sort_values(kind="stable")
    return list(distance.index[:count])


def series_table(prediction_paths: Iterable[str | Path], metrics: pd.DataFrame, reference: str | None,
                 count: int = 3, basins: Sequence[str] | None = None) -> pd.DataFrame:
    """``tables/series.csv`` (module docstring) of one split and forcing. Per model the flows come from
    its ensemble where it has one, else its first member; the parameters from the first member that has
    them (an ensemble file holds none)."""
    files: dict[str, dict[str, Path]] = {}
    splits, forcings = set(), set()
    for path in map(Path, prediction_paths):
        run = run_of_run_file(path)
        files.setdefault(run["model"], {})[run["member"]] = path
        splits.add(run["split"])
        forcings.add(run["forcing"])
    if not files:
        raise DataError("series-table: no prediction files given")
    if len(splits) > 1 or len(forcings) > 1:
        raise DataError(f"series-table: the files are of several splits {sorted(splits)} or forcings "
                        f"{sorted(forcings)}; give one of each")
    split, forcing = splits.pop(), forcings.pop()
    if not basins:
        reference = reference or next(iter(files))
        basins = median_nse_basins(metrics, reference, forcing, split, count)
    basins = list(basins)
    location = metrics.drop_duplicates("basin").set_index("basin")
    frames = []
    for model, members in files.items():
        order = sorted(members, key=_member_key)
        shown = ENSEMBLE_MEMBER if ENSEMBLE_MEMBER in members else order[0]
        flows = _open(members[shown], ["qobs", "qsim"])
        missing = [b for b in basins if b not in set(flows["basin"].values)]
        if missing:
            raise DataError(f"series-table: {members[shown]} lacks basins {missing}")
        frame = flows.sel(basin=basins).to_dataframe()[["qobs", "qsim"]]
        for member in order:
            if member == ENSEMBLE_MEMBER:
                continue
            with xr.open_dataset(members[member]) as dataset:
                names = [n for n in dataset.data_vars if dataset[n].dims == ("basin", "date", "component")]
            if names:
                parameters = _open(members[member], names).sel(basin=basins)
                for name in names:
                    wide = parameters[name].to_dataframe()[name].unstack("component")
                    wide.columns = [f"{name}_{k}" for k in wide.columns]
                    frame = frame.join(wide)
                break
        frame = frame.reset_index()
        scores = metrics[(metrics["model"] == model) & (metrics["forcing"] == forcing) & (metrics["split"] == split)
                         & (metrics["member"].astype(str) == shown)].set_index("basin")
        frame.insert(0, "member", shown)
        frame.insert(0, "split", split)
        frame.insert(0, "forcing", forcing)
        frame.insert(0, "model", model)
        frame["NSE"] = frame["basin"].map(scores["NSE"]) if "NSE" in scores else np.nan
        for column in ("lat", "lon", "huc_02"):
            if column in location:
                frame[column] = frame["basin"].map(location[column])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _member_key(member: str) -> tuple[int, str]:
    return (int(member), "") if str(member).isdigit() else (10**9, str(member))


def process_score_table(table: pd.DataFrame, expected_runs=None):
    """Feng et al. (2022) Table 2, from the scoped process table (one member per model and forcing): per
    model and forcing the median NSE, the spatial correlation (Pearson r across basins) of the simulated
    BFI with CAMELS ``baseflow_index`` and the median temporal correlation of ET with MOD16A2 on 8-day
    composites, each with the basins it rests on; "–" where a model has no such output (an LSTM)."""
    from runoffbench.evaluation.collect import runs
    from runoffbench.evaluation.tables import BuiltTable, coverage_notes

    if table.empty:
        raise DataError("process table: no run in scope")
    records = []
    for model, forcing in runs(table):
        rows = table[(table["model"] == model) & (table["forcing"] == forcing)]
        nse = rows["NSE"].dropna()
        bfi = rows[["BFI", "BFI-CAMELS"]].dropna()
        et = rows["ET-r"].dropna()
        r_bfi = float(np.corrcoef(bfi["BFI"], bfi["BFI-CAMELS"])[0, 1]) if len(bfi) > 2 else np.nan
        records.append({
            "forcing": forcing, "model": model,
            "median NSE": _cell(nse.median() if len(nse) else np.nan), "basins": len(nse),
            "BFI r (spatial)": _cell(r_bfi), "BFI basins": len(bfi),
            "median ET r (temporal)": _cell(et.median() if len(et) else np.nan), "ET basins": len(et),
        })
    split = table["split"].iloc[0]
    built = pd.DataFrame.from_records(records)
    notes = ("BFI = sum of the simulated baseflow Q2 / sum of the simulated flow over the test period, correlated "
             "across basins with CAMELS baseflow_index (Pearson r); ET r: Pearson correlation in time of the "
             "simulated ET averaged over each MOD16A2 8-day composite with the MODIS composite mean, per basin "
             f"(test period from 2001, at least {MIN_COMPOSITES} composites), its median over basins; – where a "
             "model has no baseflow or ET output.",
             *coverage_notes(table, table, split, expected_runs))
    return BuiltTable(built, f"Median NSE, spatial correlation of the simulated baseflow index with CAMELS and median "
                             f"temporal correlation of ET with MODIS, split {split} (Feng et al. 2022, Table 2).",
                      notes)


def _cell(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{value:.3f}"
