"""The registry of output kinds: every table and figure the workflow can build, in one place.

An experiment config lists outputs by free ids under ``tables:`` and ``figures:``; each entry names its
kind (``table:`` / ``plot:``, default the id) and may scope it and set the kind's options::

    figures:
      kge_by_years:                       # results/<experiment>/figures/kge_by_years.pdf|png
        plot: metric_boxplot
        metric: KGE
        by: train_years                   # a sweep factor (a column of tables/metrics.csv)
        members: seed_mean
        models: {lstm: LSTM, mclstm: MC-LSTM}   # order and display labels

Everything else reads this registry: the workflow's rules turn an entry into command-line flags
(:func:`command_line`), ``runoffbench figure`` / ``runoffbench table`` generate one subcommand per kind
with its flags (:func:`add_kind_arguments`), the config check validates each entry against its kind's
options and the schema's enums come from :data:`KINDS` (:func:`schema_additions`), and the report's
captions come from the config entries. Adding a kind is one :class:`OutputKind` here (the function is
named by its import path, so parsing a config imports neither matplotlib nor pandas).

Scope (the options of :data:`SCOPE`, applied by :func:`runoffbench.evaluation.scope.apply_scope` to the
metrics table before the kind's function sees it): ``split``, ``forcings``, ``models`` (a list, or a
mapping model → display label; the order is the display order), ``members`` (:data:`MEMBER_MODES`),
``basins`` (:data:`BASIN_FILTERS`, several intersect) and ``factors`` (factor → levels kept).

Light on purpose: stdlib only (the Snakefile imports it in every SLURM job).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: how the members of a model's runs are shown (``members:``); a kind that reads every member itself
#: (``single_vs_ensemble``) has no such option
MEMBER_MODES = {
    "primary": "the ensemble where a model has one, else its first member (default)",
    "ensemble": "the ensemble mean only",
    "first": "the first single member (seed) only",
    "single": "every single member, each as its own line or box ('LSTM, seed 3')",
    "both": "the ensemble and the first single member (Kratzert et al. 2019, Fig. 3)",
    "seed_mean": "per basin, the mean of each metric over the single members (Kratzert Sect. 3.1; Li & Zhao)",
}

#: basin filters of ``basins:`` (a list intersects them): name or ``name:argument``
BASIN_FILTERS = {
    "all": "every basin (default)",
    "complete_record": "basins observed on every day of the test period (Frame et al. 2023)",
    "common": "basins with a value in every shown run (e.g. the 447 of the CAMELS benchmark models)",
    "common:MODEL,...": "basins with a value in every run of these models, shown or not (common:all: of every "
                        "model of the split)",
    "nse_above:X": "basins whose NSE exceeds X in every shown run; nse_above:X@MODEL: in MODEL's run",
    "file:PATH": "basins listed in a text file, one id per line",
    "list:NAME": "the dataset's named basin list (<data>/basin_lists/NAME_basin_list.txt)",
}
#: option types that may be a mapping, given as one JSON object on the command line
_MAPPING_TYPES = ("models", "mapping", "model_pairs")
_BASIN_FILTER = re.compile(r"^(all|complete_record|common(:\S+)?|nse_above:-?[0-9.]+(@\S+)?|file:\S+|list:[\w.-]+)$")


@dataclass(frozen=True)
class Option:
    """One option of an output kind.

    ``type``: ``string``, ``integer``, ``number``, ``boolean``, ``strings`` (a list), ``model`` (a model
    name of the config), ``models`` (a list of them), ``model_pairs`` (a mapping model -> model),
    ``regions`` (HUC-02 codes), ``forcing``.
    ``fallback``: key of the config's ``evaluation`` section used when the entry does not set it.
    ``default``: used when neither sets it (None: the function's own default).
    ``needs_runs``: the output is built only once its model(s) have runs (else it is skipped).
    ``argument``: the function's keyword argument, when it is not ``name``.
    ``required``: the command fails without it (a figure comparing two forcings needs both).
    """

    name: str
    type: str
    help: str
    default: Any = None
    fallback: str | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None
    needs_runs: bool = False
    argument: str | None = None
    required: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class OutputKind:
    """One table or figure kind.

    ``function``: ``"module:attribute"``, called as ``function(table, **options)`` and returning a
    matplotlib Figure (figures) or a :class:`runoffbench.evaluation.tables.BuiltTable` (tables).
    ``reads``: the table it is drawn from — ``metrics`` (tables/metrics.csv, scoped by :data:`SCOPE`),
    ``hydrographs``, ``water_balance``, ``failures`` (the runs' failures.csv), ``attributes`` (the
    dataset's attributes.nc, a row per basin) or ``analysis`` (an analysis's table or product, drawn per
    ``analyses:`` entry by the analysis rules, runoffbench.analysis.registry).
    ``members``: ``one`` when the function shows one member per model and forcing (the scope's
    ``members`` picks it), ``all`` when it reads every member itself.
    ``splits``: ``one`` (the scope's ``split``), or ``several``: ``split`` is a list of splits shown
    side by side (default every split), the rest of the scope applied per split (Feng et al. 2022, Fig. 2).
    Kinds reading ``process`` (tables/process.csv: the metrics table with each run's baseflow index and ET
    scores, :mod:`runoffbench.evaluation.process`) are scoped as those of the metrics table; ``series``
    (tables/series.csv) holds daily flows and dynamic parameters of a few basins.
    """

    name: str
    section: str
    function: str
    reads: str
    description: str
    options: tuple[Option, ...] = ()
    members: str = "one"
    check: str | None = None
    splits: str = "one"

    def load(self) -> Callable:
        module, attribute = self.function.split(":")
        return getattr(importlib.import_module(module), attribute)

    def load_check(self) -> Callable | None:
        """``check`` (``"module:attribute"``): the config check's extra test of an entry, called as
        ``check(resolved options, model entries with sweeps expanded) -> [problem, ...]``."""
        if self.check is None:
            return None
        module, attribute = self.check.split(":")
        return getattr(importlib.import_module(module), attribute)

    @property
    def all_options(self) -> tuple[Option, ...]:
        """The kind's own options and, for a kind of the metrics table, the scope."""
        if self.reads not in SCOPED_TABLES:
            return self.options
        scope = tuple(o for o in SCOPE if not (o.name == "members" and self.members == "all"))
        if self.splits == "several":
            scope = tuple(SPLITS_OPTION if o.name == "split" else o for o in scope)
        return scope + self.options


#: the tables a kind's scope applies to: the metrics table and the process table (metrics + BFI, ET scores)
SCOPED_TABLES = ("metrics", "process")


SCOPE = (
    Option("split", "string", "the split shown", fallback="split"),
    Option("forcings", "strings", "the forcings shown, in this order (default: every one)"),
    Option("models", "models", "the models shown, in this order; a mapping model -> label renames them"),
    Option("members", "string", "how members are shown", default="primary", choices=tuple(MEMBER_MODES)),
    Option("basins", "strings", "basin filters, intersected (" + ", ".join(BASIN_FILTERS) + ")",
           fallback="basins"),
    Option("factors", "mapping", "sweep factor -> the levels shown (labels of the run names)"),
)

_MIN_BASINS = Option("min_basins", "integer", "leave out regions with fewer basins", default=3,
                     fallback="min_basins_per_region")
_EXCLUDE = Option("exclude_regions", "regions", "HUC-02 regions left out (Frame et al. 2023 leave out 09)",
                  fallback="exclude_regions")
_REFERENCE = Option("baseline", "model", "the model the others are tested against", fallback="baseline_model",
                    argument="reference")
_METRICS = Option("metrics", "strings", "the metrics (columns of metrics.csv)", argument="names")
#: the scope's split of a kind showing several splits (``OutputKind.splits == "several"``)
SPLITS_OPTION = Option("split", "strings", "the splits shown, side by side in this order (default: every split)")
_NOTCH = Option("notch", "boolean", "notched boxes: the notch spans the median's 95 % confidence interval",
                default=True)
#: the display labels of the runs an analysis's figure or table shows: the ``models`` of its ``analyses:``
#: entry (runoffbench.analysis.registry.output_kind_entry; applied by runoffbench.plots.labels)
_RUN_LABELS = Option("models", "models", "the runs shown, in this order; a mapping run or model name -> display "
                     "label renames them (a model's label names each run of its sweep, with its factor levels)")


def _figure(name: str, function: str, description: str, *options: Option, reads: str = "metrics",
            members: str = "one", check: str | None = None) -> OutputKind:
    return OutputKind(name, "figures", function, reads, description, options, members, check)


def _table(name: str, function: str, description: str, *options: Option, members: str = "one",
           check: str | None = None) -> OutputKind:
    return OutputKind(name, "tables", function, "metrics", description, options, members, check)


# the across-seed statistics (runoffbench.evaluation.seeds; Li & Zhao Figs. 2-5): every member read, the
# pair's seeds checked against the signed-rank test's minimum before the first job
_SEEDS = "runoffbench.evaluation.seeds"
_SEED_CHECK = f"{_SEEDS}:check_seed_entry"
_SEED_METRIC = Option("metric", "string", "the metric (a column of metrics.csv)", default="KGE")
_SEED_BY = Option("by", "string", "the sweep factor along x (Li & Zhao: the data amount)", default="train_years")
_SEED_PAIR = Option("pair", "models", "[A, B]: per-basin signed-rank test across seeds of A against B, std A - B",
                    length=2)
_SEED_ALPHA = Option("alpha", "number", "significance level of the per-basin test", default=0.05)


_CDFS = "runoffbench.plots.cdfs"
KINDS: dict[str, OutputKind] = {kind.name: kind for kind in (
    _figure("basin_map", "runoffbench.plots.basin_map:plot_basin_map",
            "the basins coloured by HUC-02 region", reads="water_balance"),
    _figure("precip_bias_by_huc", "runoffbench.plots.precip_bias:plot_precip_bias_by_huc",
            "ratio of mean precipitation of two forcings by region",
            Option("forcing", "forcing", "the forcing compared with the reference", required=True),
            Option("reference", "forcing", "the reference forcing (dataset.reference_forcing)", required=True),
            reads="water_balance"),
    _figure("nse_cdf", f"{_CDFS}:plot_nse_cdf", "CDF over basins of the NSE"),
    _figure("kge_cdf", f"{_CDFS}:plot_kge_cdf", "CDF over basins of the KGE"),
    _figure("mass_bias_cdf", f"{_CDFS}:plot_mass_bias_cdf", "CDFs of the absolute, positive and negative mass bias"),
    _figure("mass_bias_map", "runoffbench.plots.mass_bias_map:plot_mass_bias_map",
            "map of the relative mass bias per model and forcing"),
    _figure("mass_bias_by_huc", "runoffbench.plots.mass_bias_by_huc:plot_mass_bias_by_huc",
            "boxes of the mass bias by region and model", _MIN_BASINS, _EXCLUDE, _NOTCH),
    _figure("mutual_information_cdf", f"{_CDFS}:plot_mutual_information_cdf",
            "CDF of the per-basin mutual information of observed and simulated flow"),
    _figure("kge_skill_cdf", f"{_CDFS}:plot_kge_skill_cdf", "KGE and KGE skill score against a baseline model",
            Option("baseline", "model", "the baseline model", fallback="baseline_model", needs_runs=True)),
    _figure("kge_difference_cdf", f"{_CDFS}:plot_kge_difference_cdf", "CDF of the per-basin KGE difference A - B",
            Option("pair", "models", "[A, B]", fallback="kge_difference", length=2, needs_runs=True)),
    _figure("metric_boxplot", "runoffbench.plots.metric_boxplot:plot_metric_boxplot",
            "boxes of a metric by a column (region, sweep factor) and model",
            Option("metric", "string", "the metric (a column of metrics.csv)", default="KGE"),
            Option("by", "string", "the column along the x axis: huc_02 or a sweep factor", default="huc_02"),
            _NOTCH, _MIN_BASINS, _EXCLUDE),
    _figure("hydrographs", "runoffbench.plots.hydrographs:plot_hydrographs",
            "observed and simulated flow of selected basins",
            Option("forcing", "forcing", "the forcing shown (default: evaluation.hydrographs.forcing)",
                   fallback="hydrograph_forcing"),
            Option("models", "models", "the models drawn (default: the best --max-models by NSE)"),
            Option("max_models", "integer", "models per panel without --models"),
            Option("water_year", "integer", "first water year shown (default: the one of median mean flow)"),
            Option("years", "integer", "number of water years shown"),
            Option("log", "boolean", "logarithmic flow axis"), reads="hydrographs"),
    _figure("static_noise", "runoffbench.plots.static_noise:plot_static_noise",
            "NSE under Gaussian noise on the static inputs (an analysis)", _RUN_LABELS, reads="analysis"),
    _figure("attribute_map", "runoffbench.plots.value_map:plot_attribute_map",
            "the basins coloured by catchment attributes, a map per attribute (Kratzert et al. 2019, Fig. 2)",
            Option("attributes", "strings", "attributes.nc variables, a map each (default: elev_mean, aridity, "
                   "frac_forest, p_mean)"),
            Option("columns", "integer", "maps per row", default=2), reads="attributes"),
    _figure("metric_map", "runoffbench.plots.value_map:plot_metric_map",
            "the basins coloured by a metric, a map per model and forcing",
            Option("metric", "string", "the metric (a column of metrics.csv)", default="NSE"),
            Option("vmin", "number", "lower end of the colour scale (lower values in its colour; default: the "
                   "5th percentile, at most 0)"),
            Option("vmax", "number", "upper end of the colour scale (default: the largest value, at most 1 for "
                   "efficiencies)")),
    # the figures of the analyses (runoffbench.analysis.registry: FigureUse), drawn by the analysis rules
    _figure("morris_map", "runoffbench.plots.morris:plot_morris_map",
            "map of each basin's most sensitive static attribute (a morris analysis)", _RUN_LABELS, reads="analysis"),
    _figure("embedding_heatmap", "runoffbench.plots.embedding:plot_embedding_heatmap",
            "input-gate activations of every basin and cell of one network (an embedding analysis)", _RUN_LABELS,
            reads="analysis"),
    _figure("embedding_silhouette", "runoffbench.plots.embedding:plot_embedding_silhouette",
            "mean and minimum silhouette per number of k-means clusters, embedding and raw attributes "
            "(an embedding analysis)", _RUN_LABELS, reads="analysis"),
    _figure("embedding_variance", "runoffbench.plots.embedding:plot_embedding_variance",
            "fractional reduction of the signatures' variance by the clusters (an embedding analysis)",
            _RUN_LABELS, reads="analysis"),
    _figure("embedding_clusters", "runoffbench.plots.embedding:plot_embedding_clusters",
            "maps of the k-means clusters of one network's embedding and of the raw attributes (an embedding "
            "analysis)", _RUN_LABELS, reads="analysis"),
    _figure("embedding_umap", "runoffbench.plots.embedding:plot_embedding_umap",
            "UMAP of one network's embedding coloured by attributes (an embedding analysis)", _RUN_LABELS,
            reads="analysis"),
    _figure("ig_shares", "runoffbench.plots.attributions:plot_ig_shares",
            "each input's share of the absolute integrated-gradient contributions per basin (an integrated_gradients "
            "analysis)", _RUN_LABELS, reads="analysis"),
    _figure("ig_profile", "runoffbench.plots.attributions:plot_ig_profile",
            "cumulative contribution over the look-back and seasonal shares of one basin (an integrated_gradients "
            "analysis)", _RUN_LABELS, reads="analysis"),
    _figure("seed_mean_boxes", "runoffbench.plots.seeds:plot_seed_mean_boxes",
            "boxes of the per-basin seed mean by data amount and model, the per-basin test classes of a pair",
            _SEED_METRIC, _SEED_BY, _SEED_PAIR, _SEED_ALPHA, _NOTCH, members="all", check=_SEED_CHECK),
    _figure("seed_std_boxes", "runoffbench.plots.seeds:plot_seed_std_boxes",
            "boxes of the per-basin standard deviation across seeds by data amount and model",
            _SEED_METRIC, _SEED_BY, _NOTCH, members="all"),
    _figure("seed_std_map", "runoffbench.plots.seeds:plot_seed_std_map",
            "maps of the per-basin difference of the standard deviations across seeds of a pair, per data amount",
            _SEED_PAIR, _SEED_METRIC, _SEED_BY,
            Option("levels", "strings", "the levels of the factor mapped (default: every one)"), members="all"),
    _figure("seed_hydrographs", "runoffbench.plots.seeds:plot_seed_hydrographs",
            "hydrographs of selected basins under two data amounts: seed mean and min-max band per model",
            _SEED_BY, Option("levels", "strings", "the levels shown, a column each (default: the fewest and most)"),
            Option("models", "models", "the models drawn (base names; a mapping name -> label renames them)"),
            Option("forcing", "forcing", "the forcing shown", fallback="hydrograph_forcing"),
            Option("water_year", "integer", "the water year shown (default: the one of median mean flow)"),
            Option("log", "boolean", "logarithmic flow axis"), reads="hydrographs"),
    _table("seed_robustness", f"{_SEEDS}:seed_robustness_table",
           "per data amount: medians of the seed mean and seed std per model, the pair's per-basin test counts",
           _SEED_METRIC, _SEED_BY, _SEED_PAIR, _SEED_ALPHA, members="all", check=_SEED_CHECK),
    _table("seed_statistics", f"{_SEEDS}:seed_statistics_table",
           "per basin and data amount: seeds, seed mean and seed std per model, the pair's test p and class",
           _SEED_METRIC, _SEED_BY, _SEED_PAIR, _SEED_ALPHA, members="all", check=_SEED_CHECK),
    _table("median_metrics", "runoffbench.evaluation.tables:median_metric_table",
           "median [95 % CI] of each metric per forcing and model", _METRICS),
    _table("single_vs_ensemble", "runoffbench.evaluation.tables:ensemble_table",
           "NSE of the single members and of the ensemble", members="all"),
    _table("benchmark", "runoffbench.evaluation.tables:benchmark_table",
           "medians of benchmark metrics, * where different from the reference", _REFERENCE),
    _table("comparison", "runoffbench.evaluation.tables:comparison_table",
           "per-basin wins and losses against the reference, differences, Cohen's d, Wilcoxon p",
           _REFERENCE, _METRICS,
           Option("pairs", "model_pairs", "model -> the model it is compared with (instead of every model "
                  "against the baseline)")),
    _table("metric_summary", "runoffbench.evaluation.tables:metric_summary_table",
           "mean and median NSE, basins with NSE <= 0 and medians of other metrics; the single members as mean "
           "± std over the seeds and the ensemble as rows of their own (Kratzert et al. 2019, Table 3)",
           Option("metrics", "strings", "the metrics whose median is shown after the NSE columns (default: "
                  "Alpha-NSE, Beta-NSE, FHV, FMS, FLV)", argument="names"),
           members="all"),
    OutputKind("morris_ranking", "tables", "runoffbench.analysis.morris:ranking_table", "analysis",
               "the static attributes ranked by their mean normalised sensitivity (a morris analysis; Kratzert et "
               "al. 2019, Table 4)", (_RUN_LABELS,)),
    # Feng et al. 2022 (runoffbench.plots.feng, runoffbench.evaluation.process): outputs no model is trained on
    OutputKind("metric_cdfs", "figures", "runoffbench.plots.feng:plot_metric_cdfs",
               "metrics", "CDFs of NSE and KGE, a panel per metric and split x forcing, basins and medians in the "
               "legend (Feng et al. 2022, Figs. 2, A1)",
               (Option("metrics", "strings", "the metrics, a row of panels each (default: NSE, KGE)"),
                Option("dashed", "models", "models drawn dashed (a benchmark such as mHM)"),
                Option("xmin", "number", "left end of the axes (lower values counted)", default=-1.0)),
               splits="several"),
    _figure("median_hydrographs", "runoffbench.plots.feng:plot_median_hydrographs",
            "daily flow of the basins nearest a model's median NSE, NSE in the legend, location inset "
            "(Feng et al. 2022, Fig. 3)",
            Option("models", "models", "the models drawn, in order; a mapping model -> label renames them"),
            Option("years", "integer", "water years shown", default=2),
            Option("water_year", "integer", "first water year shown (default: the last full ones)"),
            Option("log", "boolean", "logarithmic flow axis", default=False), reads="series"),
    _figure("parameter_series", "runoffbench.plots.feng:plot_parameter_series",
            "dynamic parameters beta^t, gamma^t of every component (grey) and their median (Feng et al. 2022, Fig. 4)",
            Option("model", "model", "the δ model shown (default: the first with dynamic parameters)"),
            Option("label", "string", "its display label (default: the model's name)"),
            Option("years", "integer", "water years shown", default=2),
            Option("water_year", "integer", "first water year shown (default: the last full ones)"), reads="series"),
    _figure("bfi_maps", "runoffbench.plots.feng:plot_bfi_maps",
            "CAMELS and simulated baseflow index maps and their scatter (Feng et al. 2022, Fig. 5)", reads="process"),
    _figure("et_scores", "runoffbench.plots.feng:plot_et_scores",
            "ET against MOD16A2: temporal r and RMSE boxes, basin mean ET (Feng et al. 2022, Fig. 6)", reads="process"),
    OutputKind("process_scores", "tables", "runoffbench.evaluation.process:process_score_table", "process",
               "median NSE, spatial r of the simulated BFI with CAMELS, median temporal r of ET with MODIS "
               "(Feng et al. 2022, Table 2)"),
    OutputKind("failures", "tables", "runoffbench.evaluation.tables:failures_table", "failures",
               "the basins every run left out, with stage and reason"),
)}


def build(name: str, table, **options):
    """Build output kind ``name`` from its input ``table`` (a Figure or a BuiltTable)."""
    return output_kind(name).load()(table, **options)


def kind_of(section: str, output_id: str, entry: Mapping | None) -> str:
    """The kind an entry builds: its ``plot:`` (figures) or ``table:`` (tables), by default its id."""
    return (entry or {}).get("plot" if section == "figures" else "table", output_id)


def output_kind(name: str, section: str | None = None) -> OutputKind:
    """The registered kind ``name`` (of ``section``), or a ValueError naming the choices."""
    kind = KINDS.get(name)
    if kind is None or (section is not None and kind.section != section):
        choices = sorted(k for k, v in KINDS.items() if section in (None, v.section))
        raise ValueError(f"unknown {section[:-1] if section else 'output'} kind {name!r}; known: {', '.join(choices)}")
    return kind


#: keys of an entry that are not options of its kind
ENTRY_KEYS = ("caption", "paper", "plot", "table")
#: tables with a command of their own (not a kind of the registry): listed for their caption only
OWN_COMMAND_TABLES = {"water_balance": "runoffbench water-balance", "run_summary": "runoffbench run-summary"}


def builds_by_own_command(section: str, output_id: str, entry: Mapping | None) -> bool:
    """Whether an entry is a table of :data:`OWN_COMMAND_TABLES` (built by its own rule, not a kind)."""
    return section == "tables" and output_id in OWN_COMMAND_TABLES and "table" not in (entry or {})


def entry_problems(section: str, output_id: str, entry: Mapping | None) -> list[str]:
    """What is wrong with one table or figure entry (unknown kind, options its kind lacks, bad values)."""
    where = f"{section}.{output_id}"
    if builds_by_own_command(section, output_id, entry):
        extra = [k for k in entry or {} if k not in ENTRY_KEYS]
        return [f"{where}.{k}: {output_id} takes no options (built by {OWN_COMMAND_TABLES[output_id]})" for k in extra]
    try:
        kind = output_kind(kind_of(section, output_id, entry), section)
    except ValueError as error:
        return [f"{where}: {error}"]
    known = {o.name: o for o in kind.all_options}
    problems = []
    for key, value in (entry or {}).items():
        if key in ENTRY_KEYS:
            continue
        option = known.get(key)
        if option is None:
            problems.append(f"{where}.{key}: not an option of {kind.name}; its options: {', '.join(known) or 'none'}")
        elif option.choices and value not in option.choices:
            problems.append(f"{where}.{key}: {value!r} is not one of {', '.join(option.choices)}")
        elif option.length and len(value) != option.length:
            problems.append(f"{where}.{key}: expected {option.length} values, got {value!r}")
    for token in _as_list((entry or {}).get("basins")):
        if not _BASIN_FILTER.match(str(token)):
            problems.append(f"{where}.basins: unknown basin filter {token!r}; filters: {', '.join(BASIN_FILTERS)}")
    return problems


def resolved_options(section: str, output_id: str, entry: Mapping | None,
                     evaluation: Mapping | None = None) -> dict[str, Any]:
    """Every option of an entry with a value: its own, else the ``evaluation`` section's, else the default."""
    entry, evaluation = entry or {}, evaluation or {}
    kind = output_kind(kind_of(section, output_id, entry), section)
    values = {}
    for option in kind.all_options:
        if option.name in entry:
            value = entry[option.name]
        elif option.fallback and evaluation.get(option.fallback) is not None:
            value = evaluation[option.fallback]
        else:
            value = option.default
        if value is not None:
            values[option.name] = value
    return values


def _given(section: str, output_id: str, entry: Mapping | None, evaluation: Mapping | None) -> dict[str, Any]:
    """:func:`resolved_options` less the values equal to their option's default (the command's own)."""
    kind = output_kind(kind_of(section, output_id, entry), section)
    defaults = {o.name: o.default for o in kind.all_options}
    values = resolved_options(section, output_id, entry, evaluation)
    return {name: value for name, value in values.items() if value != defaults[name]}


def required_models(section: str, output_id: str, entry: Mapping | None,
                    evaluation: Mapping | None = None) -> list[str]:
    """Models that must have runs before the output is built (a baseline, a pair of models)."""
    kind = output_kind(kind_of(section, output_id, entry), section)
    values = resolved_options(section, output_id, entry, evaluation)
    needed = []
    for option in kind.all_options:
        if option.needs_runs:
            needed += _as_list(values.get(option.name))
    return needed


def command_line(section: str, output_id: str, entry: Mapping | None, evaluation: Mapping | None = None) -> str:
    """The flags of ``runoffbench figure|table <kind>`` that build the entry (the rules' ``params``)."""
    kind = output_kind(kind_of(section, output_id, entry), section)
    values = _given(section, output_id, entry, evaluation)
    parts = []
    for option in kind.all_options:
        if option.name not in values:
            continue
        value = values[option.name]
        if option.type == "boolean":
            parts.append(option.flag if value else f"--no-{option.flag[2:]}")
        elif option.type in _MAPPING_TYPES and isinstance(value, Mapping):
            parts.append(f"{option.flag} {_quote(json.dumps(dict(value)))}")
        elif isinstance(value, (list, tuple)):
            if value:
                parts.append(f"{option.flag} " + " ".join(_quote(str(v)) for v in value))
        else:
            parts.append(f"{option.flag} {_quote(str(value))}")
    return " ".join(parts)


def add_kind_arguments(parser, kind: OutputKind) -> None:
    """The flags of ``kind``'s options on an argparse parser (the inverse of :func:`command_line`)."""
    import argparse

    for option in kind.all_options:
        text = option.help + (f" (default: {option.default})" if option.default is not None else "")
        if option.type == "boolean":
            parser.add_argument(option.flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif option.type in _MAPPING_TYPES:
            parser.add_argument(option.flag, nargs="+", type=str, default=None, help=text + "; or a JSON mapping")
        elif option.type in ("strings", "regions"):
            parser.add_argument(option.flag, nargs="+", default=None, choices=option.choices or None, help=text)
        else:
            number = {"integer": int, "number": float}.get(option.type, str)
            parser.add_argument(option.flag, type=number, default=None, choices=option.choices or None, help=text)


def parsed_options(args, kind: OutputKind) -> dict[str, Any]:
    """The kind's option values given on the command line (JSON mappings decoded), by option name."""
    values = {}
    for option in kind.all_options:
        value = getattr(args, option.name, None)
        if value is None:
            continue
        if option.type in _MAPPING_TYPES and len(value) == 1 and value[0].startswith("{"):
            value = json.loads(value[0])
        values[option.name] = value
    return values


def schema_additions() -> dict[str, Any]:
    """The schema's view of the registry: kind enums and the union of option names per section, merged
    into ``output_spec`` by :func:`runoffbench.config_check.check_schema`; the per-kind check is
    :func:`entry_problems`."""
    return {section: sorted(k for k, v in KINDS.items() if v.section == section) for section in ("figures", "tables")}


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)

