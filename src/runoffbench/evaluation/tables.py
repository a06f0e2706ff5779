"""The evaluation tables of the reproduced papers, built from the long metrics table.

Each builder takes the table of :func:`runoffbench.evaluation.collect.collect_metrics` and returns a
:class:`BuiltTable` (cells as text, caption, notes) for whichever models exist; each is a table kind of
the output registry (:data:`runoffbench.outputs.KINDS`), built as ``results/<experiment>/tables/<id>.csv|md|tex``.

* ``median_metrics`` — Frame et al. (2023), Table 2/C1: median of NSE, KGE, Pearson-r, α-NSE, β-NSE and
  Peak-Timing over basins, one row per forcing × model and one column per metric (one block per forcing
  in the Markdown and LaTeX copies, so the table is as wide as the metric list however many forcings
  there are), each cell the median and its 95 % bootstrap interval, ``0.71 [0.68, 0.74]``.
* ``single_vs_ensemble`` — Kratzert et al. (2019), Table 2: mean and median NSE and the number of
  basins with NSE ≤ 0, of the single members (mean ± standard deviation over members) and of the
  ensemble mean.
* ``benchmark`` — Nearing et al. (2020, WRR 2021), Table 1, and Kratzert et al. (2019), Table 3:
  median KGE, bias β-NSE = (μs − μo)/σo (0 is unbiased; not KGE's ratio μs/μo), σ ratio α, r², FHV and
  FLV per model × forcing; ``*`` marks a distribution that differs from the reference model's with the
  same forcing (paired Wilcoxon signed-rank test, p < 0.05).
* ``comparison`` — every model against the reference model with the same forcing, per metric (NSE and
  KGE): basins won and lost, mean and median per-basin difference, Cohen's d and the p-value of the
  paired Wilcoxon signed-rank test (the per-basin comparisons of Kratzert et al. 2019, Sect. 4.1, and
  Frame et al. 2023, Sect. 3); with ``pairs`` (model → the model it is compared with) the listed pairs
  instead (Kratzert et al. 2019, Sect. 3.1: LSTM with against without attributes, EA-LSTM against LSTM).
* ``metric_summary`` — Kratzert et al. (2019), Table 3: per model the mean and median NSE, the basins
  with NSE ≤ 0 and the medians of further metrics (α-NSE, β-NSE, FHV, FMS, FLV); a model with several
  single members has a row ``single`` (mean ± standard deviation over the members of each statistic)
  and one ``ensemble`` row for its ensemble mean, a model of one run (a benchmark model) one row.
* ``failures`` — the basins every run left out (:mod:`runoffbench.failures`), one row per run and basin
  with the stage and the reason (:func:`failures_table`; built from the runs' ``failures.csv``, not
  from the metrics).

Coverage: every metrics table has a ``basins`` column (the basins of each row) and a note giving the
basins of the split in the metrics table; given the configured runs (``expected_runs``,
``model/forcing``), a table built from fewer of them says which are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.collect import metric_by_basin, primary_runs, runs
from runoffbench.evaluation.statistics import count_at_most, median_ci, paired, wilcoxon_test, win_counts
from runoffbench.predictions import ENSEMBLE_MEMBER

FRAME_METRICS = ("NSE", "KGE", "Pearson-r", "Alpha-NSE", "Beta-NSE", "Peak-Timing")
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class BuiltTable:
    """Cells as text, caption and notes; ``group`` names a column whose values split the Markdown and
    LaTeX copies into blocks (the CSV keeps it as a column)."""

    table: pd.DataFrame
    caption: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    group: str | None = None


def format_median_ci(values: pd.Series, decimals: int = 2) -> str:
    """``"0.71 [0.68, 0.74]"``: the median and, in brackets, its 95 % bootstrap interval (an interval,
    not a symmetric ± spread); the median alone for one value; "–" without values."""
    estimate = median_ci(values)
    if estimate.n == 0:
        return "–"
    value, low, high = (_number(x, decimals) for x in (estimate.value, estimate.low, estimate.high))
    return value if not np.isfinite(estimate.low) else f"{value} [{low}, {high}]"


def run_label(model: str, forcing: str) -> str:
    return f"{model} ({forcing})"


def median_metric_table(metrics: pd.DataFrame, split: str | None = None,
                        names: tuple[str, ...] = FRAME_METRICS, expected_runs=None) -> BuiltTable:
    """Frame et al. (2023) Table 2: a row per forcing and model, a column per metric, median [95 % CI].

    Rows are ordered by forcing, then model (each in order of first appearance); the table's ``group``
    is ``forcing``, so its Markdown and LaTeX copies show one block per forcing.
    """
    chosen = primary_runs(metrics, split)
    _require_columns(chosen, names)
    forcings = list(dict.fromkeys(chosen["forcing"]))
    order = sorted(runs(chosen), key=lambda run: forcings.index(run[1]))
    table = pd.DataFrame.from_records(
        [{"forcing": f, "model": m, "basins": _basins(chosen, m, f),
          **{name: format_median_ci(metric_by_basin(chosen, m, f, name)) for name in names}}
         for m, f in order],
        columns=["forcing", "model", "basins", *names],
    )
    split = chosen["split"].iloc[0]
    return BuiltTable(table, f"Median over basins of each metric, split {split}, with the 95 % bootstrap "
                             "confidence interval of the median in brackets (Frame et al. 2023, Table 2).",
                      ("Each cell: median [2.5 %, 97.5 %] of the percentile bootstrap of the median over basins; "
                       "Peak-Timing in days; the ensemble member where a model has one.",
                       *coverage_notes(metrics, chosen, split, expected_runs)),
                      group="forcing")


def ensemble_table(metrics: pd.DataFrame, split: str | None = None, expected_runs=None) -> BuiltTable:
    """Kratzert et al. (2019) Table 2: single members versus the ensemble mean, NSE statistics."""
    _require_columns(metrics, ("NSE",))
    split = split or sorted(metrics["split"].unique())[0]
    rows = metrics[metrics["split"] == split]
    records = []
    for (model, forcing), group in rows.groupby(["model", "forcing"], sort=False):
        members = group[group["member"].astype(str) != ENSEMBLE_MEMBER]
        per_member = members.groupby("member")["NSE"].agg(
            mean="mean", median="median", failures=lambda v: count_at_most(v, 0.0))
        ensemble = group.loc[group["member"].astype(str) == ENSEMBLE_MEMBER, "NSE"]
        record = {"model": model, "forcing": forcing, "basins": group["basin"].nunique(), "members": len(per_member)}
        for column, statistic in (("mean", "mean"), ("median", "median"), ("NSE ≤ 0", "failures")):
            record[f"single: {column}"] = _mean_sd(per_member[statistic], 0 if statistic == "failures" else 3)
        record["ensemble: mean"] = _number(ensemble.mean(), 3) if len(ensemble) else "–"
        record["ensemble: median"] = _number(ensemble.median(), 3) if len(ensemble) else "–"
        record["ensemble: NSE ≤ 0"] = str(count_at_most(ensemble, 0.0)) if len(ensemble) else "–"
        records.append(record)
    table = pd.DataFrame.from_records(records)
    return BuiltTable(table, f"NSE of the single members and of the ensemble mean, split {split} "
                             "(Kratzert et al. 2019, Table 2).",
                      ("single: mean ± standard deviation over members of the statistic over basins; "
                       "NSE ≤ 0 counts basins; – where a model has no ensemble.",
                       *coverage_notes(metrics, rows, split, expected_runs)))


def benchmark_table(metrics: pd.DataFrame, split: str | None = None, reference: str | None = None,
                    expected_runs=None) -> BuiltTable:
    """Nearing et al. (2020) benchmark table: medians, ``*`` where different from ``reference``.

    The bias is β-NSE = (μs − μo)/σo (Nearing et al. 2020, Table 1; Kratzert et al. 2019, Table 3), the
    metric ``Beta-NSE``; KGE's ratio of means μs/μo (``Beta-KGE``) is not what these papers tabulate.
    """
    chosen = primary_runs(metrics, split)
    _require_columns(chosen, ("KGE", "Beta-NSE", "Alpha-NSE", "Pearson-r", "FHV", "FLV"))
    reference = _reference_model(chosen, reference)
    chosen = chosen.assign(r2=chosen["Pearson-r"] ** 2)
    columns = {"KGE": "KGE", "bias β-NSE": "Beta-NSE", "σ ratio α": "Alpha-NSE", "r²": "r2", "FHV [%]": "FHV",
               "FLV [%]": "FLV"}
    records = []
    for model, forcing in runs(chosen):
        record = {"model": model, "forcing": forcing, "basins": _basins(chosen, model, forcing)}
        for label, column in columns.items():
            values = metric_by_basin(chosen, model, forcing, column)
            mark = ""
            if model != reference and (reference, forcing) in runs(chosen):
                test = wilcoxon_test(values, metric_by_basin(chosen, reference, forcing, column))
                mark = "*" if test.p_value < SIGNIFICANCE else ""
            median = float(np.nanmedian(values)) if values.notna().any() else np.nan
            record[label] = "–" if np.isnan(median) else f"{_number(median, 2)}{mark}"
        records.append(record)
    split = chosen["split"].iloc[0]
    return BuiltTable(pd.DataFrame.from_records(records),
                      f"Median over basins of benchmark metrics, split {split} (Nearing et al. 2020, Table 1; "
                      "Kratzert et al. 2019, Table 3).",
                      ("bias β-NSE = (μs − μo)/σo, the difference of the mean simulated and observed flow in "
                       "units of the observed standard deviation (0: unbiased); σ ratio α = σs/σo; r² the squared "
                       "Pearson correlation; FHV and FLV the high- and low-segment volume biases of the flow "
                       "duration curve.",
                       f"* the distribution over basins differs from that of {reference} with the same forcing "
                       f"(paired Wilcoxon signed-rank test, p < {SIGNIFICANCE}).",
                       *coverage_notes(metrics, chosen, split, expected_runs)))


def comparison_table(metrics: pd.DataFrame, split: str | None = None, reference: str | None = None,
                     names: tuple[str, ...] = ("NSE", "KGE"), pairs=None, expected_runs=None) -> BuiltTable:
    """Per-basin comparison of each model with ``reference`` (same forcing): wins, differences, d, p; with
    ``pairs`` (a mapping model -> the model it is compared with) of those pairs instead."""
    chosen = primary_runs(metrics, split)
    _require_columns(chosen, names)
    present = runs(chosen)
    if pairs:
        models = list(dict.fromkeys(chosen["model"]))
        unknown = sorted({m for pair in dict(pairs).items() for m in pair} - set(models))
        if unknown:
            raise ConfigError(f"comparison pairs: {unknown} have no runs in the table; models: {models}")
        compared = [(model, other, forcing) for model, other in dict(pairs).items()
                    for forcing in dict.fromkeys(chosen["forcing"])
                    if (model, forcing) in present and (other, forcing) in present]
        title = "the reference of each row"
    else:
        reference = _reference_model(chosen, reference)
        compared = [(model, reference, forcing) for model, forcing in present
                    if model != reference and (reference, forcing) in present]
        title = reference
    records = []
    for model, reference, forcing in compared:
        for name in names:
            mine = metric_by_basin(chosen, model, forcing, name)
            theirs = metric_by_basin(chosen, reference, forcing, name)
            wins, test = win_counts(mine, theirs), wilcoxon_test(mine, theirs)
            x, y = paired(mine, theirs)
            records.append({
                "model": model, "reference": reference, "forcing": forcing, "metric": name, "basins": test.n,
                "wins": wins.a,
                "losses": wins.b, "mean difference": _number(wins.mean_difference, 3),
                "mean difference in wins": _number(_mean_where(x - y, x > y), 3),
                "mean difference in losses": _number(_mean_where(x - y, x < y), 3),
                "median difference": _number(float(np.median(x - y)) if x.size else np.nan, 3),
                "Cohen's d": _number(test.cohens_d, 2), "Wilcoxon p": _p_value(test.p_value),
            })
    split = chosen["split"].iloc[0]
    member = chosen["member"].astype(str).iloc[0] if chosen["member"].nunique() == 1 else ""
    members = {"seed_mean": " Single models: each basin's mean over the seeds.",
               ENSEMBLE_MEMBER: " Ensemble means."}.get(member, "")
    return BuiltTable(pd.DataFrame.from_records(records),
                      f"Per-basin comparison with {title} under the same forcing, split {split}.{members}",
                      (f"wins/losses: basins where the model's metric is higher/lower than that of {title}; "
                       "differences are model minus reference, their mean over every basin and within the wins and "
                       "within the losses (Frame et al. 2023, Sect. 3.1); p of the two-sided paired Wilcoxon "
                       "signed-rank test; basins: those both models have a value for.",
                       *coverage_notes(metrics, chosen, split, expected_runs)))


KRATZERT_TABLE3_METRICS = ("Alpha-NSE", "Beta-NSE", "FHV", "FMS", "FLV")


def metric_summary_table(metrics: pd.DataFrame, split: str | None = None,
                         names: tuple[str, ...] = KRATZERT_TABLE3_METRICS, expected_runs=None) -> BuiltTable:
    """Kratzert et al. (2019) Table 3: per model and forcing the mean and median NSE, the basins with
    NSE ≤ 0 and the median of each of ``names``; a row ``single`` (mean ± standard deviation over the single
    members; the value itself for a model of one run) and, where the model has one, a row ``ensemble``."""
    _require_columns(metrics, ("NSE", *names))
    split = split or sorted(metrics["split"].unique())[0]
    rows = metrics[metrics["split"] == split]
    if rows.empty:
        raise DataError(f"the metrics table has no runs of split {split!r}")
    labels = {"NSE mean": None, "NSE median": None, "NSE ≤ 0": None, **{_METRIC_LABELS.get(n, n): n for n in names}}
    records = []
    for (model, forcing), group in rows.groupby(["model", "forcing"], sort=False):
        is_ensemble = group["member"].astype(str) == ENSEMBLE_MEMBER
        singles, ensemble = group[~is_ensemble], group[is_ensemble]
        statistics = singles.groupby("member", sort=False).apply(_summary_statistics, names=names,
                                                                 include_groups=False)
        base = {"model": model, "forcing": forcing}
        if len(statistics):
            record = {**base, "members": f"single ({len(statistics)})" if len(statistics) > 1 else "single",
                      "basins": singles["basin"].nunique()}
            for label, column in zip(labels, statistics.columns, strict=True):
                record[label] = _mean_sd(statistics[column], 0 if label == "NSE ≤ 0" else 3)
            records.append(record)
        if len(ensemble):
            values = _summary_statistics(ensemble, names)
            record = {**base, "members": "ensemble", "basins": ensemble["basin"].nunique()}
            for label, value in zip(labels, values, strict=True):
                record[label] = _number(value, 0 if label == "NSE ≤ 0" else 3) if np.isfinite(value) else "–"
            records.append(record)
    table = pd.DataFrame.from_records(records, columns=["model", "forcing", "members", "basins", *labels])
    return BuiltTable(table, f"NSE statistics and median signature metrics over the basins, split {split} "
                             "(Kratzert et al. 2019, Table 3).",
                      ("NSE mean and median over the basins, NSE ≤ 0 the number of basins with NSE ≤ 0; the other "
                       "columns are medians over the basins: α-NSE = σs/σo, β-NSE = (μs − μo)/σo, FHV, FMS and FLV "
                       "the high-, mid- and low-segment biases of the flow duration curve [%]. single (n): mean ± "
                       "standard deviation over the n single members (seeds) of each statistic; ensemble: the "
                       "ensemble mean of those members; single without n: a model of one run.",
                       *coverage_notes(metrics, rows, split, expected_runs)))


_METRIC_LABELS = {"Alpha-NSE": "α-NSE", "Beta-NSE": "β-NSE", "FHV": "FHV [%]", "FMS": "FMS [%]", "FLV": "FLV [%]"}


def _summary_statistics(rows: pd.DataFrame, names) -> pd.Series:
    """Mean and median NSE, basins with NSE ≤ 0 and the median of each of ``names`` over one run's basins."""
    nse = rows["NSE"].astype(float)
    values = [nse.mean(), nse.median(), float(count_at_most(nse, 0.0)),
              *(float(np.nanmedian(rows[n].astype(float))) if rows[n].notna().any() else np.nan for n in names)]
    return pd.Series(values, index=["NSE mean", "NSE median", "NSE ≤ 0", *names])


def failures_table(failures: pd.DataFrame, n_runs: int) -> BuiltTable:
    """The experiment's failures table: the rows of :func:`runoffbench.evaluation.collect.collect_failures`
    (one per run and basin left out, ``n_runs`` runs read), with a note counting them."""
    columns = ["model", "forcing", "split", "member", "basin", "stage", "reason"]
    table = failures[columns].reset_index(drop=True)
    if table.empty:
        note = f"No basin was left out of the {n_runs} run(s)."
    else:
        failed_runs = table[["model", "forcing", "split", "member"]].drop_duplicates().shape[0]
        note = (f"{len(table)} basin(s) left out in {failed_runs} of {n_runs} runs "
                f"({table['basin'].nunique()} distinct basins); they have no predictions and no metrics in those runs.")
    return BuiltTable(table, "Basins left out of a run, with the stage and the reason (runoffbench.failures: fewer "
                             "than a year, or half a short training period, of observed streamflow in the training "
                             "period; or an error while fitting that basin).", (note,))


def coverage_notes(metrics: pd.DataFrame, shown: pd.DataFrame, split: str, expected_runs=None) -> tuple[str, ...]:
    """How many basins a table covers, and (given the configured runs, ``model/forcing``) which are missing."""
    in_split = metrics[metrics["split"] == split]
    notes = [f"basins: the basins of each row, of the {in_split['basin'].nunique()} basins with metrics in split "
             f"{split}; basins a run left out are listed in the failures table."]
    if expected_runs:
        present = {f"{m}/{f}" for m, f in runs(shown)}
        expected = list(dict.fromkeys(expected_runs))
        missing = [run for run in expected if run not in present]
        if missing:
            labels = ", ".join(run_label(*run.split("/", 1)) for run in missing)
            notes.append(f"Built from {len(expected) - len(missing)} of the {len(expected)} configured runs: "
                         f"{labels} missing (failed or not run); this table is incomplete.")
    return tuple(notes)


def _basins(table: pd.DataFrame, model: str, forcing: str) -> int:
    rows = table[(table["model"] == model) & (table["forcing"] == forcing)]
    return int(rows["basin"].nunique())


def _reference_model(chosen: pd.DataFrame, reference: str | None) -> str:
    """``reference`` (ConfigError if it has no runs) or, when None, the first model of the table."""
    models = list(dict.fromkeys(chosen["model"]))
    if reference is not None and reference not in models:
        raise ConfigError(f"evaluation.baseline_model {reference!r} has no runs to compare with; models: {models}")
    return reference or models[0]


def _mean_where(values: np.ndarray, where: np.ndarray) -> float:
    return float(np.mean(values[where])) if np.any(where) else np.nan


def _p_value(p: float) -> str:
    return "–" if not np.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _number(value: float, decimals: int) -> str:
    """``value`` to ``decimals`` places, without the sign of a negative zero ("-0.00")."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _mean_sd(values: pd.Series, decimals: int) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    if len(values) == 1:
        return _number(values.iloc[0], decimals)
    return f"{_number(values.mean(), decimals)} ± {_number(values.std(ddof=1), decimals)}"


def _require_columns(metrics: pd.DataFrame, names) -> None:
    missing = [name for name in names if name not in metrics.columns]
    if missing:
        raise DataError(f"the metrics table lacks metric(s) {missing}; add them to evaluation.metrics")
