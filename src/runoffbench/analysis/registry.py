"""The registry of analyses of trained runs (docs/architecture.md, contract 6): one :class:`AnalysisKind`
per kind of the config's ``analyses:`` entries.

An entry of :data:`ANALYSIS_KINDS` says everything the rest of the project needs about a kind:

- ``analyse``: the function (named by import path) that analyses one reloaded run (contract 5) over
  its test period into a per-basin table, called as ``function(run, tensors, **run options)`` with the
  :class:`~runoffbench.training.saved_run.TrainedRun` and its test-period
  :class:`~runoffbench.training.data.PeriodTensors`; :func:`analyse_run` adds the run's ``model``,
  ``forcing``, ``split``, ``member`` (and the options marked ``record``) as columns.
- ``options``: each with its type, default and help. The config check validates an entry's keys
  against them (:func:`option_problems`), ``runoffbench analyse <kind>`` generates its flags from them
  (:func:`add_arguments`) and the workflow hands an entry's values to the command as one
  ``--settings JSON`` (:func:`settings_argument`). An option of stage ``summary`` belongs to the
  experiment-level step.
- ``needs``: the :data:`CAPABILITIES` a model must have (static inputs, an EA-LSTM embedding,
  sequence-to-one prediction, regional training), checked for every analysed model before the first
  job (:func:`capability_problem`) and again when a run is reloaded (:func:`check_run`).
- ``summarise`` and ``products``: an optional experiment-level step over the joined table of every
  run (``tables/<id>.csv``), called as ``function(table, attributes, **summary options)`` and returning
  one table per product, written as ``tables/<id>_<product>.csv`` (the attributes are the dataset's
  ``attributes.nc`` as a basin-indexed frame when ``reads_attributes``).
- ``figures``: the figure kinds it feeds, each with the table it reads (the analysis table or a
  product) and its file ``figures/<id>[_<suffix>].pdf|png``; ``tables``: likewise the table kinds that
  format a product for the paper, ``tables/<id>_<suffix>.csv|md|tex``. Each kind is registered in
  :data:`runoffbench.outputs.KINDS` (``reads="analysis"``) and drawn by ``runoffbench figure|table <kind>``.

Beside its options an entry names the ``models`` it analyses (a list, or a mapping model -> display label,
the order shown: the keys of the entry that are options of a figure or table kind of the output registry
reach that kind's command, :func:`output_kind_entry`), the ``members`` (seeds), and its ``caption`` and ``paper``
for the report: a string, or a mapping from the kinds of its figures and tables to one
(:func:`report_text`).

Light on purpose: stdlib only, functions named by import path — ``workflow/rules/analyses_common.smk``
imports this module in every (SLURM) job.
"""

from __future__ import annotations

import importlib
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runoffbench.errors import ConfigError

#: option types: the JSON value each accepts
OPTION_TYPES = ("integer", "number", "string", "boolean", "integers", "numbers", "strings")
#: keys of an ``analyses:`` entry that are not options of its kind
ENTRY_KEYS = ("kind", "models", "members", "caption", "paper")
#: the entry keys the report reads: a string, or a mapping from the kind's figure and table kinds to one
REPORT_KEYS = ("caption", "paper")
#: the columns :func:`analyse_run` adds to every per-run table (then the recorded options)
RUN_COLUMNS = ("model", "forcing", "split", "member")


@dataclass(frozen=True)
class Option:
    """One option of an analysis kind.

    ``stage``: ``run`` (the per-run analysis) or ``summary`` (the experiment-level step).
    ``record``: the value is written as a column of every per-run table (e.g. the seed of the noise).
    ``flag_name``: the command-line flag when it differs from the name (``--sigma`` of ``sigmas``, given
    once per value).
    """

    name: str
    type: str
    default: Any
    help: str
    minimum: float | None = None
    choices: tuple = ()
    stage: str = "run"
    record: bool = False
    flag_name: str | None = None

    @property
    def flag(self) -> str:
        return "--" + (self.flag_name or self.name).replace("_", "-")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not a valid value of the option (None when it is)."""
        many = self.type in ("integers", "numbers", "strings")
        values = value if many else [value]
        if many and (not isinstance(value, (list, tuple)) or not value):
            return f"expected a non-empty list ({self.type}), got {value!r}"
        base = self.type[:-1] if many else self.type
        for item in values:
            ok = {"integer": isinstance(item, int) and not isinstance(item, bool),
                  "number": isinstance(item, (int, float)) and not isinstance(item, bool),
                  "string": isinstance(item, str),
                  "boolean": isinstance(item, bool)}[base]
            if not ok:
                return f"expected {'a list of ' if many else ''}{base}{'s' if many else ''}, got {value!r}"
            if self.minimum is not None and item < self.minimum:
                return f"expected values >= {self.minimum:g}, got {value!r}"
            if self.choices and item not in self.choices:
                return f"{item!r} is not one of {', '.join(map(str, self.choices))}"
        return None


@dataclass(frozen=True)
class Capability:
    """What an analysis may need of a model, tested on its settings and model class.

    ``needs`` completes "<kind> needs ..." in the config check, ``requirement`` when a run is reloaded;
    ``lacking`` says what the models without it lack (``{models}``: the offending names), ``run_lacking``
    what a reloaded run lacks (``{run}``: its folder, ``{name}``: its model entry).
    """

    name: str
    needs: str
    requirement: str
    lacking: str
    run_lacking: str
    test: Callable[[Any, type], bool]


CAPABILITIES: dict[str, Capability] = {c.name: c for c in (
    Capability("static_inputs", "static attributes", "a model with static inputs",
               "{models} have none (models.<name>.static_attributes is empty)",
               "{run} has none (models.{name}.static_attributes is empty)",
               lambda settings, model_class: bool(settings.static_attributes)),
    Capability("embedding", "an EA-LSTM embedding (the input gate of a model with an embedding(x_s) method)",
               "a model with an embedding (the EA-LSTM's input gate)",
               "{models} have no embedding (only the EA-LSTM, models.<name>.model: ealstm, has one)",
               "{run} is a {model_class}, which has none (only the EA-LSTM has one)",
               lambda settings, model_class: callable(getattr(model_class, "embedding", None))),
    Capability("seq2one", "sequence-to-one prediction (mode: seq2one; a gradient per predicted day)",
               "a sequence-to-one run (mode: seq2one)",
               "{models} are sequence-to-sequence (models.<name>.mode: seq2seq)",
               "{run} is sequence-to-sequence (models.{name}.mode: seq2seq)",
               lambda settings, model_class: settings.mode == "seq2one"),
    Capability("regional", "regional training (one network for all basins)",
               "a regional run (training: regional)",
               "{models} are trained per basin (models.<name>.training: local)",
               "{run} is a local (per-basin) run: its basins' own weights cannot be analysed with other inputs",
               lambda settings, model_class: settings.training != "local"),
)}


@dataclass(frozen=True)
class FigureUse:
    """A figure an analysis feeds: ``runoffbench figure <kind>`` drawn by ``function`` from the analysis
    table (``reads`` empty: ``tables/<id>.csv``) or a product (``tables/<id>_<reads>.csv``), written as
    ``figures/<id>.pdf|png`` (``suffix`` empty) or ``figures/<id>_<suffix>.pdf|png``. In ``tables``: a
    table built by ``runoffbench table <kind>``, ``tables/<id>_<suffix>.csv|md|tex`` (``suffix`` required)."""

    kind: str
    function: str
    description: str
    reads: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class AnalysisKind:
    """One kind of analysis (module docstring)."""

    name: str
    description: str
    paper: str
    analyse: str
    options: tuple[Option, ...] = ()
    needs: tuple[str, ...] = ()
    figures: tuple[FigureUse, ...] = ()
    tables: tuple[FigureUse, ...] = ()
    summarise: str | None = None
    products: tuple[str, ...] = ()
    reads_attributes: bool = False
    coordinates: bool = False

    def option(self, name: str) -> Option:
        return {o.name: o for o in self.options}[name]

    def stage_options(self, stage: str) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.stage == stage)

    @property
    def output_kinds(self) -> tuple[str, ...]:
        """The figure and table kinds of the output registry it feeds."""
        return tuple(use.kind for use in (*self.figures, *self.tables))

    @property
    def capabilities(self) -> tuple[Capability, ...]:
        return tuple(CAPABILITIES[name] for name in self.needs)


def load(function: str) -> Callable:
    """The callable named ``module:attribute``."""
    module, attribute = function.split(":")
    return getattr(importlib.import_module(module), attribute)


_PAPER_SIGMAS = [round(0.1 * k, 1) for k in range(1, 11)]
#: the 13 hydrological signatures of CAMELS (camels_hydro.txt; Addor et al. 2017, Table 3), whose variance the
#: clusters of Kratzert et al. (2019, Fig. 10) reduce
CAMELS_SIGNATURES = ("q_mean", "runoff_ratio", "slope_fdc", "baseflow_index", "stream_elas", "q5", "q95",
                     "high_q_freq", "high_q_dur", "low_q_freq", "low_q_dur", "zero_q_freq", "hfd_mean")

ANALYSIS_KINDS: dict[str, AnalysisKind] = {kind.name: kind for kind in (
    AnalysisKind(
        "static_noise",
        "NSE of every basin with Gaussian noise of each sigma on the standardised static inputs, draws per "
        "basin and sigma (sigma 0 once)",
        "Kratzert et al. 2019, Sect. 3.3, Fig. 6",
        "runoffbench.analysis.static_noise:noise_table",
        options=(
            Option("sigmas", "numbers", _PAPER_SIGMAS, "noise standard deviations (the paper's 0.1 ... 1.0)",
                   minimum=0, flag_name="sigma"),
            Option("draws", "integer", 50, "draws per basin and sigma (the paper's 50)", minimum=1),
            Option("draws_per_batch", "integer", 10, "draws predicted in one batch", minimum=1),
            Option("seed", "integer", 0, "seed of the noise (recorded in the table)", minimum=0, record=True),
        ),
        needs=("static_inputs", "regional"),
        figures=(FigureUse("static_noise", "runoffbench.plots.static_noise:plot_static_noise",
                           "boxes of the NSE per sigma and model"),),
    ),
    AnalysisKind(
        "morris",
        "Morris-style sensitivity: per basin the mean absolute gradient of the predicted flow with respect to "
        "each standardised static input over the test days, divided by the basin's largest (rank 1: the most "
        "sensitive attribute); the ranking over the basins is the product 'ranking'",
        "Kratzert et al. 2019, Sect. 2.7 and 3.4, Fig. 7, Table 4",
        "runoffbench.analysis.morris:sensitivity_table",
        options=(
            Option("windows_per_batch", "integer", 0, "windows (basin-days) differentiated in one batch; 0: the "
                   "run's prediction batch size", minimum=0),
        ),
        needs=("static_inputs", "seq2one"),
        figures=(FigureUse("morris_map", "runoffbench.plots.morris:plot_morris_map",
                           "map of each basin's most sensitive static attribute"),),
        tables=(FigureUse("morris_ranking", "runoffbench.analysis.morris:ranking_table",
                          "the attributes ranked by their mean normalised sensitivity (Table 4)",
                          reads="ranking", suffix="ranking_table"),),
        summarise="runoffbench.analysis.morris:morris_summary",
        products=("ranking",),
        coordinates=True,
    ),
    AnalysisKind(
        "embedding",
        "the EA-LSTM's input gate i = sigmoid(W_i x_s + b_i) of every basin (one column per cell, and the "
        "standardised static inputs); over the runs, k-means of the embeddings and of the raw standardised "
        "attributes (silhouettes per k, the clusters' reduction of the variance of the CAMELS signatures) "
        "and a UMAP of one network's embedding",
        "Kratzert et al. 2019, Sect. 2.8 and 3.5, Figs. 8-12",
        "runoffbench.analysis.embedding:embedding_table",
        needs=("embedding",),
        options=(
            Option("k_min", "integer", 2, "fewest clusters", minimum=2, stage="summary"),
            Option("k_max", "integer", 15, "most clusters", minimum=2, stage="summary"),
            Option("restarts", "integer", 10, "k-means restarts per k (the best inertia is kept)", minimum=1,
                   stage="summary"),
            Option("seed", "integer", 0, "seed of k-means and UMAP (recorded in the tables)", minimum=0,
                   stage="summary"),
            Option("variance_k", "integers", [5, 6], "cluster counts whose signature variance reduction is "
                   "computed (the paper's 5 and 6)", minimum=2, stage="summary"),
            Option("signatures", "strings", list(CAMELS_SIGNATURES), "attributes.nc variables whose variance the "
                   "clusters reduce (the 13 CAMELS signatures)", stage="summary"),
            Option("umap_member", "string", "", "the member whose embedding UMAP maps (default: the first)",
                   stage="summary"),
            Option("umap_neighbors", "integer", 15, "UMAP n_neighbors", minimum=2, stage="summary"),
            Option("umap_min_dist", "number", 0.1, "UMAP min_dist", minimum=0, stage="summary"),
        ),
        figures=(
            FigureUse("embedding_heatmap", "runoffbench.plots.embedding:plot_embedding_heatmap",
                      "input-gate activations of every basin and cell of one network (Fig. 8)"),
            FigureUse("embedding_silhouette", "runoffbench.plots.embedding:plot_embedding_silhouette",
                      "mean and minimum silhouette per k, embedding against raw attributes (Fig. 9)",
                      reads="silhouette", suffix="silhouette"),
            FigureUse("embedding_variance", "runoffbench.plots.embedding:plot_embedding_variance",
                      "fractional reduction of the signatures' variance by the clusters (Fig. 10)",
                      reads="variance", suffix="variance"),
            FigureUse("embedding_clusters", "runoffbench.plots.embedding:plot_embedding_clusters",
                      "maps of the k-means clusters of one network's embedding and of the raw attributes (Fig. 11)",
                      reads="clusters", suffix="clusters"),
            FigureUse("embedding_umap", "runoffbench.plots.embedding:plot_embedding_umap",
                      "UMAP of one network's embedding coloured by attributes (Fig. 12)",
                      reads="umap", suffix="umap"),
        ),
        summarise="runoffbench.analysis.embedding:embedding_summary",
        products=("silhouette", "clusters", "variance", "umap"),
        reads_attributes=True,
        coordinates=True,  # the basins' lat/lon, carried into the clusters for their maps (Fig. 11)
    ),
    AnalysisKind(
        "integrated_gradients",
        "integrated gradients (captum) of the predicted flow of every test day with respect to every dynamic input "
        "over the look-back, for the basins of each run with the highest KGE: each input's share of the absolute "
        "contributions per basin and season, the look-back profile of the best basins and the convergence delta",
        "Li & Zhao, Sect. 2.5 and 3.3, Figs. 6-7",
        "runoffbench.analysis.integrated_gradients:attribution_table",
        options=(
            Option("top_basins", "integer", 50, "basins of each run attributed: those with the highest test KGE "
                   "(the paper's 50)", minimum=1),
            Option("basins", "strings", [], "attribute these basins instead of the best top_basins"),
            Option("baseline", "string", "zero", "the integration's start: zero (every standardised input at its "
                   "training mean, no precipitation in the mass input) or window_mean", choices=("zero", "window_mean"),
                   record=True),
            Option("steps", "integer", 50, "integration points (the convergence delta shows too few)", minimum=2,
                   record=True),
            Option("method", "string", "gausslegendre", "captum's integration rule",
                   choices=("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle"),
                   record=True),
            Option("windows_per_batch", "integer", 32, "windows (basin-days) per captum call, each expanded by steps",
                   minimum=1),
            Option("profile_basins", "integer", 1, "the best basins whose look-back profile is kept (Fig. 7)",
                   minimum=0),
            Option("profile_basin", "string", "", "the basin of Fig. 7 (default: the one profiled by the most runs)",
                   stage="summary"),
        ),
        needs=("seq2one",),
        figures=(
            FigureUse("ig_shares", "runoffbench.plots.attributions:plot_ig_shares",
                      "each input's share of the absolute contributions per basin, by data amount and model (Fig. 6)"),
            FigureUse("ig_profile", "runoffbench.plots.attributions:plot_ig_profile",
                      "cumulative contribution over the look-back and seasonal shares of one basin (Fig. 7)",
                      reads="profile", suffix="profile"),
        ),
        summarise="runoffbench.analysis.integrated_gradients:attribution_summary",
        products=("shares", "profile"),
    ),
)}


def analysis_kind(name: str) -> AnalysisKind:
    """The registered kind ``name``; :class:`ConfigError` naming the choices."""
    try:
        return ANALYSIS_KINDS[name]
    except KeyError:
        raise ConfigError(f"unknown analysis kind {name!r}; known: {', '.join(ANALYSIS_KINDS)}") from None


def option_problems(kind: AnalysisKind, entry: Mapping[str, Any], where: str) -> list[str]:
    """What is wrong with the options of an entry (unknown keys, bad values), each naming ``where.<key>``."""
    known = {o.name: o for o in kind.options}
    problems = []
    for key, value in entry.items():
        if key in ENTRY_KEYS:
            continue
        option = known.get(key)
        if option is None:
            problems.append(f"{where}.{key}: not an option of {kind.name}; its options: "
                            f"{', '.join(known) or 'none'}")
        elif (problem := option.problem(value)) is not None:
            problems.append(f"{where}.{key}: {problem}")
    return problems


def entry_key_problems(kind: AnalysisKind, entry: Mapping[str, Any], where: str) -> list[str]:
    """What is wrong with the keys of an entry that are not options (each naming ``where.<key>``): ``models``
    must be a list of names or a mapping name -> display label, ``caption`` and ``paper`` a string or a
    mapping from the kind's figure and table kinds (:attr:`AnalysisKind.output_kinds`) to one."""
    problems = []
    models = entry.get("models")
    if isinstance(models, Mapping):
        bad = {name: label for name, label in models.items() if not isinstance(label, str) or not label.strip()}
        if bad:
            problems.append(f"{where}.models: the display labels of {sorted(map(str, bad))} are not text "
                            f"({bad}); a mapping model -> label, or a list of models")
    for key in REPORT_KEYS:
        value = entry.get(key)
        if not isinstance(value, Mapping):
            continue
        unknown = sorted(str(name) for name in value if name not in kind.output_kinds)
        if unknown:
            problems.append(f"{where}.{key}: {unknown} are not figures or tables of {kind.name}; its figures and "
                            f"tables: {', '.join(kind.output_kinds)}")
    return problems


def report_text(entry: Mapping[str, Any], key: str, output_kind: str) -> str | None:
    """The entry's ``caption`` or ``paper`` (``key``) of its output drawn by ``output_kind``: the string, or
    the mapping's value for that kind (None when it has none)."""
    value = entry.get(key)
    return value.get(output_kind) if isinstance(value, Mapping) else value


def output_kind_entry(entry: Mapping[str, Any], output_kind) -> dict[str, Any]:
    """The keys of an ``analyses:`` entry that are options of ``output_kind`` (an
    :class:`runoffbench.outputs.OutputKind` it feeds, e.g. ``models``: the display labels), as an entry of
    that kind (``plot:`` or ``table:`` naming it) for :func:`runoffbench.outputs.command_line`."""
    named = "plot" if output_kind.section == "figures" else "table"
    return {named: output_kind.name, **{o.name: entry[o.name] for o in output_kind.options if o.name in entry}}


def resolved_options(kind: AnalysisKind, values: Mapping[str, Any] | None, stage: str,
                     where: str = "settings") -> dict[str, Any]:
    """Every option of ``stage`` with its value in ``values`` or its default; :class:`ConfigError` for an
    unknown key or a bad value (options of the other stage are checked and left out)."""
    values = {k: v for k, v in (values or {}).items() if k not in ENTRY_KEYS}
    problems = option_problems(kind, values, where)
    if problems:
        raise ConfigError(f"runoffbench analyse {kind.name}: " + "; ".join(problems))
    return {o.name: values.get(o.name, o.default) for o in kind.stage_options(stage)}


def settings_argument(entry: Mapping[str, Any], stage: str = "run") -> str:
    """``--settings JSON`` with the options of ``stage`` that the ``analyses:`` entry sets (the rules'
    flags; the defaults stay in the registry)."""
    kind = analysis_kind(entry["kind"])
    names = {o.name for o in kind.stage_options(stage)}
    chosen = {k: v for k, v in entry.items() if k in names}
    return f"--settings {shlex.quote(json.dumps(chosen))}" if chosen else ""


def product_names(entry_id: str, kind: AnalysisKind) -> list[str]:
    """``<id>_<product>``: the names of the experiment-level tables of an entry."""
    return [f"{entry_id}_{product}" for product in kind.products]


def figure_names(entry_id: str, kind: AnalysisKind) -> list[str]:
    """``<id>`` or ``<id>_<suffix>``: the names of an entry's figures."""
    return [f"{entry_id}_{use.suffix}" if use.suffix else entry_id for use in kind.figures]


def table_names(entry_id: str, kind: AnalysisKind) -> list[str]:
    """``<id>_<suffix>``: the names of an entry's formatted tables (csv, md, tex)."""
    return [f"{entry_id}_{use.suffix}" for use in kind.tables]


def capability_problem(capability: Capability, kind: AnalysisKind, entry_id: str,
                       chosen: Mapping[str, tuple[Any, type]],
                       candidates: Mapping[str, tuple[Any, type]]) -> str | None:
    """The config check's line when some of the ``chosen`` models (name -> (settings, model class)) lack
    ``capability``: names them and the ``candidates`` (the config's nn models) that have it."""
    lacking = [name for name, (settings, model_class) in chosen.items() if not capability.test(settings, model_class)]
    if not lacking:
        return None
    able = sorted(name for name, (settings, model_class) in candidates.items()
                  if all(c.test(settings, model_class) for c in kind.capabilities))
    return (f"analyses.{entry_id}: {kind.name} needs {capability.needs}; "
            f"{capability.lacking.format(models=lacking)}; choose analyses.{entry_id}.models among the nn models "
            f"that can: {', '.join(able) or 'none in this config'}")


def check_run(kind: AnalysisKind, run) -> None:
    """:class:`ConfigError` when the reloaded ``run`` lacks something ``kind`` needs."""
    for capability in kind.capabilities:
        if not capability.test(run.settings, type(run.model)):
            lacking = capability.run_lacking.format(run=run.run_dir, name=run.settings.name,
                                                    model_class=type(run.model).__name__)
            raise ConfigError(f"{kind.name} needs {capability.requirement}; {lacking}")


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def add_arguments(parser, kind: AnalysisKind) -> None:
    """A flag per option of ``kind`` (the inverse of :func:`settings_argument`; a flag overrides
    ``--settings``)."""
    for option in kind.options:
        text = option.help + (f" (default: {option.default})" if option.default not in ("", None) else "")
        if option.stage == "summary":
            text = "[--summarise] " + text
        if option.type == "boolean":
            import argparse

            parser.add_argument(option.flag, dest=option.name, action=argparse.BooleanOptionalAction, default=None,
                                help=text)
            continue
        number = {"integer": int, "number": float, "integers": int, "numbers": float}.get(option.type, str)
        if option.type in ("integers", "numbers", "strings"):
            if option.flag_name:  # one flag per value: --sigma 0.1 --sigma 0.2
                parser.add_argument(option.flag, dest=option.name, type=number, action="append", default=None,
                                    metavar=option.flag_name[0].upper(), help=text + "; repeatable")
            else:
                parser.add_argument(option.flag, dest=option.name, type=number, nargs="+", default=None, help=text)
        else:
            parser.add_argument(option.flag, dest=option.name, type=number, default=None,
                                choices=option.choices or None, help=text)


def parsed_options(args, kind: AnalysisKind) -> dict[str, Any]:
    """``--settings`` JSON overridden by the flags given."""
    values = {}
    if getattr(args, "settings", None):
        try:
            values = json.loads(args.settings)
        except json.JSONDecodeError as error:
            raise ConfigError(f"runoffbench analyse {kind.name}: --settings is not valid JSON ({error})") from None
        if not isinstance(values, dict):
            raise ConfigError(f"runoffbench analyse {kind.name}: --settings must be a JSON object, got {args.settings}")
    for option in kind.options:
        value = getattr(args, option.name, None)
        if value is not None:
            values[option.name] = value
    return values


# ------------------------------------------------------------------------------------------------
# running an analysis
# ------------------------------------------------------------------------------------------------
def analyse_run(kind_name: str, run_dir: str | Path, options: Mapping[str, Any] | None = None,
                cache: str | Path | None = None, device: str = "cpu"):
    """The per-basin table of analysis ``kind_name`` of the saved run ``run_dir`` over its test period:
    the kind's columns, then (with ``coordinates``) the basins' ``lat``/``lon`` from the cache, the run's
    ``model``, ``forcing``, ``split``, ``member`` and the recorded options."""
    from runoffbench.training.run import run_test_tensors
    from runoffbench.training.saved_run import load_trained_run

    kind = analysis_kind(kind_name)
    values = resolved_options(kind, options, "run")
    run = load_trained_run(run_dir, device)
    check_run(kind, run)
    tensors = run_test_tensors(run, cache=cache, device=device)
    table = load(kind.analyse)(run, tensors, **values)
    if kind.coordinates:
        table = _with_coordinates(table, Path(cache or run.config["cache"]))
    config = run.config
    table = table.assign(model=run.settings.name, forcing=config["forcing"], split=config["split"],
                         member=str(config["seed"]))
    return table.assign(**{o.name: values[o.name] for o in kind.options if o.record})


def _with_coordinates(table, cache: Path):
    """``table`` with the ``lat`` and ``lon`` of its basins where the cache has them."""
    import xarray as xr

    with xr.open_dataset(cache) as data:
        names = [c for c in ("lat", "lon") if c in data.coords or c in data.data_vars]
        if not names:
            return table
        coordinates = data[names].reset_coords()[names].to_dataframe()
    coordinates.index = coordinates.index.astype(str)
    return table.join(coordinates, on="basin")


def collect(paths: Sequence[str | Path]):
    """The per-run tables ``paths`` of an analysis joined into one (``tables/<id>.csv``)."""
    import pandas as pd

    return pd.concat([pd.read_csv(path, dtype={"basin": str, "member": str}) for path in paths], ignore_index=True)


def read_attributes(path: str | Path):
    """``attributes.nc`` as a frame indexed by basin."""
    import xarray as xr

    with xr.open_dataset(path) as data:
        frame = data.to_dataframe()
    frame.index = frame.index.astype(str)
    return frame


def summarise(kind_name: str, table, attributes=None, options: Mapping[str, Any] | None = None) -> dict:
    """The experiment-level products of ``kind_name`` from its joined table: product -> DataFrame."""
    kind = analysis_kind(kind_name)
    if kind.summarise is None:
        raise ConfigError(f"analysis {kind.name} has no experiment-level step (nothing to --summarise)")
    if kind.reads_attributes and attributes is None:
        raise ConfigError(f"runoffbench analyse {kind.name} --summarise needs --attributes (attributes.nc)")
    values = resolved_options(kind, options, "summary")
    products = load(kind.summarise)(table, attributes, **values)
    missing = [p for p in kind.products if p not in products]
    if missing:  # a programming error of the kind, named
        raise RuntimeError(f"{kind.summarise} returned no {missing}")
    return {p: products[p] for p in kind.products}
