"""Checks of a workflow configuration before the first job (``snakemake -n`` included).

Two layers, both run when the Snakefile is parsed:

- :func:`schema_problems`: the JSON schema (``workflow/schemas/config.schema.yaml``), reported as one
  line per offending key with its path (``config key models.lstm: unknown key 'hidden_sise' ...``)
  instead of Snakemake's dump of the whole schema; light (yaml and jsonschema), so it runs in every
  process, SLURM jobs included.
- :func:`check_config`: what the schema cannot know — names in the registries (nn and conceptual
  models, losses, network options, baseline methods, metrics, static attributes), periods inside the
  dataset's dates, reversed periods, data amounts (``train_years``) longer than the training period,
  sweep factors a calibrated model cannot take, warm-up ≥ sequence length, unknown paper splits, models
  named by the evaluation that the config lacks. It imports the model registries (torch), so the Snakefile
  runs it in the main process only. Overlapping training and test periods are a warning.

Every problem found is reported at once, each naming its config key.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from runoffbench.errors import ConfigError

#: first and last day of the CAMELS-US v1p2 forcing files per product (Newman et al. 2015; the
#: Maurer products end in 2008) and of the streamflow
CAMELS_DATES: dict[str, tuple[str, str]] = {
    "daymet": ("1980-01-01", "2014-12-31"),
    "nldas": ("1980-01-01", "2014-12-31"),
    "nldas_extended": ("1980-01-01", "2014-12-31"),
    "maurer": ("1980-01-01", "2008-12-31"),
    "maurer_extended": ("1980-01-01", "2008-12-31"),
}


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def schema_problems(config: Mapping[str, Any], schema_path: str | Path) -> list[str]:
    """One line per schema violation, ``config key <path>: <message>``, the deepest first."""
    import jsonschema

    from runoffbench.outputs import entry_problems, schema_additions

    schema = yaml.safe_load(Path(schema_path).read_text())
    spec = schema["definitions"]["output_spec"]["properties"]  # the kinds come from the output registry
    kinds = schema_additions()
    spec["plot"]["enum"], spec["table"]["enum"] = kinds["figures"], kinds["tables"]
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(dict(config)), key=lambda e: (-len(e.path), list(map(str, e.path)))):
        message = error.message
        if error.validator == "additionalProperties":
            known = sorted((error.schema.get("properties") or {}).keys())
            message += f"; known keys here: {', '.join(known)}" if known else ""
        elif error.validator in ("oneOf", "anyOf") and error.context:
            message = "; or ".join(sorted({e.message for e in error.context}))
        if len(message) > 400:
            message = message[:400] + " ..."
        problems.append(f"config key {_key(error.path)}: {message}")
    for section in ("tables", "figures"):  # each entry against the options of its kind
        entries = config.get(section) if isinstance(config.get(section), Mapping) else {}
        named_kind = "plot" if section == "figures" else "table"
        for output_id, entry in entries.items():
            entry = entry or {}
            if not isinstance(entry, Mapping) or entry.get(named_kind, output_id) not in kinds[section] and \
                    named_kind in entry:
                continue  # the schema names it: not a mapping, or a kind the registry lacks
            problems += [f"config key {p}" for p in entry_problems(section, output_id, entry)]
    return problems


def check_schema(config: Mapping[str, Any], schema_path: str | Path) -> None:
    """:class:`ConfigError` listing :func:`schema_problems` (nothing when the config is valid)."""
    problems = schema_problems(config, schema_path)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the configuration (schema {schema_path}):\n  "
                          + "\n  ".join(problems))


def _dataset_dates(dataset: Mapping[str, Any]) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """First and last day of every configured forcing's data."""
    if dataset["name"] == "synthetic":
        synthetic = dataset.get("synthetic") or {}
        span = (pd.Timestamp(str(synthetic.get("start", "1980-01-01"))),
                pd.Timestamp(str(synthetic.get("end", "2014-12-31"))))
        return {forcing: span for forcing in dataset["forcings"]}
    return {f: tuple(pd.Timestamp(d) for d in CAMELS_DATES[f]) for f in dataset["forcings"] if f in CAMELS_DATES}


def _check_splits(config, problems: list[str]) -> None:
    from runoffbench.periods import last_years, resolve_splits

    try:
        splits = resolve_splits(config.get("splits"))
    except ConfigError as error:
        problems.append(str(error))
        return
    spans = _dataset_dates(config["dataset"])
    for name, periods in splits.items():
        for period_name, period in periods.items():
            outside = sorted(f for f in _forcings_using(config, name) if f in spans
                             and (period.start < spans[f][0] or period.end > spans[f][1]))
            if outside:
                first, last = spans[outside[0]]
                problems.append(f"splits.{name}.{period_name}: {period} lies outside the data of "
                                f"{', '.join(outside)} ({first.date()}..{last.date()}), which models of the "
                                f"config run on")
        train, test = periods.get("train"), periods.get("test")
        for model, entry in (config.get("models") or {}).items():  # a data amount longer than the training period
            years = entry.get("train_years") if entry.get("kind") in ("nn", "conceptual") else None
            if (train and isinstance(years, int) and not isinstance(years, bool) and years >= 1
                    and name in (entry.get("splits") or config.get("splits") or {})):
                try:
                    last_years(train, years, f"models.{entry.get('base_model', model)}.train_years")
                except ConfigError as error:
                    problem = f"{error} (split {name})"
                    if problem not in problems:  # once for all the runs of a sweep with that data amount
                        problems.append(problem)
        if train and test and train.start <= test.end and test.start <= train.end:
            warnings.warn(f"splits.{name}: the train period {train} and the test period {test} overlap", stacklevel=2)


def _forcings_using(config, split: str) -> set[str]:
    """The forcings some model of the config runs on with ``split`` (a model's ``forcings`` and
    ``splits`` default to all of them; an external model names its one forcing)."""
    used = set()
    for entry in (config.get("models") or {}).values():
        if split not in (entry.get("splits") or config.get("splits") or {}):
            continue
        if entry.get("kind") == "external":
            used |= {entry["forcing"]} if entry.get("forcing") else set()
        else:
            used |= set(entry.get("forcings") or config["dataset"]["forcings"])
    return used


def _known_attributes() -> set[str]:
    """CAMELS attributes a model may use: numeric ones, and text ones (one-hot encoded by the trainer)
    except the gauge's name."""
    from runoffbench.data.synthetic.attributes import TABLE_COLUMNS

    return {c for columns in TABLE_COLUMNS.values() for c in columns} - {"gauge_id", "gauge_name"}


def _check_models(config, problems: list[str]) -> None:
    from runoffbench.models import conceptual
    from runoffbench.models.baselines import METHODS
    from runoffbench.training.losses import get_loss
    from runoffbench.training.settings import parse_settings

    attributes = _known_attributes()
    for name, entry in (config.get("models") or {}).items():
        kind = entry.get("kind")
        try:
            if kind == "nn":
                settings = parse_settings(
                    name, {k: v for k, v in entry.items() if k not in ("kind", "forcings", "splits")})
                get_loss(settings.loss)
                unknown = [a for a in settings.static_attributes if a not in attributes]
                if unknown:
                    problems.append(f"models.{name}.static_attributes: unknown attribute(s) {unknown}; CAMELS "
                                    f"attributes: {', '.join(sorted(attributes))}")
            elif kind == "conceptual":
                model = conceptual.get_model(entry.get("model", name))
                model.resolve_bounds(entry.get("bounds"))
                model.check_options(entry.get("options"))
                _check_calibrated_sweep(entry.get("base_model", name), entry, problems)
            elif kind == "baseline" and entry.get("method") not in METHODS:
                problems.append(f"models.{name}.method: unknown {entry.get('method')!r}; known: {', '.join(METHODS)}")
        except ConfigError as error:
            message = str(error)
            problems.append(message if message.startswith("models.") else f"models.{name}: {message}")
        for key in ("forcings", "splits"):
            configured = config["dataset"]["forcings"] if key == "forcings" else list(config.get("splits") or {})
            unknown = [v for v in entry.get(key) or [] if v not in configured]
            if unknown:
                problems.append(f"models.{name}.{key}: {unknown} not configured (choices: {', '.join(configured)})")


def _check_calibrated_sweep(name: str, entry: Mapping[str, Any], problems: list[str]) -> None:
    """A conceptual model's sweep varies only ``train_years`` (a calibration takes its other settings from the
    ``calibration`` section), and a data amount is a positive whole number of years; each problem once for all
    the runs of the sweep."""
    found = [f"models.{name}.sweep.{factor}: a calibrated (conceptual) model cannot take this factor; of the sweep "
             "factors only train_years (the data amount) is meaningful for a calibration"
             for factor in entry.get("factors") or {} if factor != "train_years"]
    years = entry.get("train_years")
    if years is not None and (isinstance(years, bool) or not isinstance(years, int) or years < 1):
        key = "sweep.train_years" if "train_years" in (entry.get("factors") or {}) else "train_years"
        found.append(f"models.{name}.{key}: expected a positive whole number of years, got {years!r}")
    problems += [problem for problem in found if problem not in problems]


def _check_evaluation(config, problems: list[str]) -> None:
    from runoffbench.evaluation.metrics import METRICS

    evaluation = config.get("evaluation") or {}
    models = list(config.get("models") or {})
    named = {"baseline_model": [evaluation.get("baseline_model")], "kge_difference": evaluation.get("kge_difference")}
    for key, names in named.items():
        unknown = [n for n in names or [] if n is not None and n not in models]
        if unknown:
            problems.append(f"evaluation.{key}: {unknown} not among the configured models ({', '.join(models)})")
    known = {m.lower() for m in METRICS}
    unknown = [m for m in evaluation.get("metrics") or [] if m != "all" and m.lower() not in known]
    if unknown:
        problems.append(f"evaluation.metrics: unknown {unknown}; known: all, {', '.join(METRICS)}")
    forcing = (evaluation.get("hydrographs") or {}).get("forcing")
    if forcing is not None and forcing not in config["dataset"]["forcings"]:
        problems.append(f"evaluation.hydrographs.forcing: {forcing!r} is not one of dataset.forcings "
                        f"({', '.join(config['dataset']['forcings'])})")
    split = evaluation.get("split")
    if split is not None and split not in (config.get("splits") or {}):
        problems.append(f"evaluation.split: {split!r} is not a configured split "
                        f"({', '.join(config.get('splits') or {})})")


def _check_outputs(config, problems: list[str]) -> None:
    """Every table and figure scope names splits, forcings, models, factors and basin files the config has."""
    from runoffbench.outputs import KINDS, kind_of, resolved_options

    splits, forcings = list(config.get("splits") or {}), list(config["dataset"]["forcings"])
    models = config.get("models") or {}
    names = {*models, *(entry.get("base_model") for entry in models.values() if entry.get("base_model"))}
    factors: dict[str, set[str]] = {}
    for model in models.values():
        for factor, label in (model.get("factors") or {}).items():
            factors.setdefault(factor, set()).add(str(label))
    for section in ("tables", "figures"):
        for output_id, entry in (config.get(section) or {}).items():
            entry, where = entry or {}, f"{section}.{output_id}"
            kind = KINDS.get(kind_of(section, output_id, entry))
            if kind is None:
                continue  # reported by the schema check
            listed = entry.get("split")  # a list for a kind showing several splits (OutputKind.splits)
            for split in (listed if isinstance(listed, list) else [] if listed is None else [listed]):
                if split not in splits:
                    problems.append(f"{where}.split: {split!r} is not a configured split ({', '.join(splits)})")
            unknown = [f for f in entry.get("forcings") or [] if f not in forcings]
            if unknown:
                problems.append(f"{where}.forcings: {unknown} not among dataset.forcings ({', '.join(forcings)})")
            for option in kind.all_options:
                if option.type in ("model", "models", "model_pairs") and option.name in entry:
                    value = entry[option.name]
                    named = [value] if isinstance(value, str) else list(value)
                    if option.type == "model_pairs" and isinstance(value, Mapping):  # model -> its reference
                        named += list(value.values())
                    unknown = [m for m in named if m not in names]
                    if unknown:
                        problems.append(f"{where}.{option.name}: {unknown} not among the configured models "
                                        f"({', '.join(sorted(names))})")
            for factor, levels in (entry.get("factors") or {}).items():
                if factor not in factors:
                    problems.append(f"{where}.factors: {factor!r} is no sweep factor of the config "
                                    f"({', '.join(sorted(factors)) or 'no sweeps'})")
                elif not {str(level) for level in levels} & factors[factor]:
                    problems.append(f"{where}.factors.{factor}: none of {levels} is a level "
                                    f"({', '.join(sorted(factors[factor]))})")
            basins = entry.get("basins") or []
            root = Path(config["dataset"]["root"])
            for token in basins if isinstance(basins, list) else [basins]:
                listed = Path(token[5:]) if str(token).startswith("file:") else (
                    root / "basin_lists" / f"{token[5:]}_basin_list.txt" if str(token).startswith("list:") else None)
                # a named list of a dataset not yet downloaded is installed with it (runoffbench.data.download)
                if listed is not None and not listed.is_file() and (str(token).startswith("file:") or root.is_dir()):
                    problems.append(f"{where}.basins: basin list {listed} does not exist")
                elif listed is not None and listed.is_file() and not listed.read_text().split():
                    problems.append(f"{where}.basins: basin list {listed} lists no basin")
            check = kind.load_check()  # a kind's own test of its entry (e.g. enough seeds for a per-basin test)
            if check is not None:
                values = resolved_options(section, output_id, entry, config.get("evaluation") or {})
                problems += [f"{where}: {problem}" for problem in check(values, models)]


def _analysed_model(name: str, entry: Mapping[str, Any]):
    """(settings, model class) of an nn model entry, None when the entry itself is wrong (reported there)."""
    from runoffbench.models.nn import get_model
    from runoffbench.training.settings import parse_settings

    try:
        settings = parse_settings(name, {k: v for k, v in entry.items() if k not in ("kind", "forcings", "splits")})
        return settings, get_model(settings.model)
    except ConfigError:
        return None


def _check_analyses(config, problems: list[str]) -> None:
    """Every analysis is a registered kind with valid options (:mod:`runoffbench.analysis.registry`), names
    nn models of the config, and each of them has what the kind needs (static inputs, an embedding, ...)."""
    from runoffbench.analysis.registry import (
        ANALYSIS_KINDS,
        capability_problem,
        entry_key_problems,
        figure_names,
        option_problems,
        product_names,
        table_names,
    )

    models = config.get("models") or {}
    nn = {name for name, entry in models.items() if entry.get("kind") == "nn"}
    resolved = {name: _analysed_model(name, models[name]) for name in sorted(nn)}
    resolved = {name: value for name, value in resolved.items() if value is not None}
    analyses = config.get("analyses") or {}
    # an analysis writes tables/<id>.csv, its products tables/<id>_<product>.csv and its figures: the ids the
    # config lists and the files every workflow writes are taken, and so are the other analyses' files
    taken = {*(config.get("tables") or {}), *(config.get("figures") or {}), "metrics", "hydrographs", "failures",
             "water_balance", "basin_map", "precip_bias_by_huc"}
    for name, entry in analyses.items():
        kind = ANALYSIS_KINDS.get(entry.get("kind"))
        if kind is None:
            problems.append(f"analyses.{name}.kind: unknown {entry.get('kind')!r}; known: {', '.join(ANALYSIS_KINDS)}")
            continue
        if name in taken:
            problems.append(f"analyses.{name}: the id names its table and figure, and {name!r} is taken by another "
                            "table or figure; choose another id")
        others = {file for other, spec in analyses.items() if other != name and spec.get("kind") in ANALYSIS_KINDS
                  for file in (*product_names(other, ANALYSIS_KINDS[spec["kind"]]),
                               *figure_names(other, ANALYSIS_KINDS[spec["kind"]]),
                               *table_names(other, ANALYSIS_KINDS[spec["kind"]]))}
        clash = sorted(({*product_names(name, kind), *figure_names(name, kind), *table_names(name, kind)}
                        & (taken | others)) - {name})
        if clash or name in others:
            problems.append(f"analyses.{name}: its tables or figures {clash or [name]} are written by another "
                            "table, figure or analysis; choose another id")
        problems += option_problems(kind, entry, f"analyses.{name}")
        problems += entry_key_problems(kind, entry, f"analyses.{name}")
        chosen = entry.get("models") or sorted(nn)
        chosen = [run for m in chosen for run in ([m] if m in nn else  # a swept entry: every run of its sweep
                                                  sorted(r for r in nn if models[r].get("base_model") == m) or [m])]
        unknown = [m for m in chosen if m not in nn]
        if unknown:
            problems.append(f"analyses.{name}.models: {unknown} are not nn models of the config "
                            f"(nn models: {', '.join(sorted(nn)) or 'none'})")
        for model in (m for m in chosen if m in nn and entry.get("members")):  # the seeds analysed
            seeds = models[model].get("seeds", [0])
            absent = [s for s in entry["members"] if s not in seeds]
            if absent:
                problems.append(f"analyses.{name}.members: {absent} are not seeds of {model} (seeds: {seeds})")
                break
        known = {m: resolved[m] for m in chosen if m in resolved}
        for capability in kind.capabilities:
            problem = capability_problem(capability, kind, name, known, resolved)
            if problem:
                problems.append(problem)
                break  # the first missing capability names the models that can


def check_config(config: Mapping[str, Any]) -> None:
    """:class:`ConfigError` listing every problem the schema cannot see (module docstring)."""
    from runoffbench.experiment import SweepError, expand_models

    problems: list[str] = []
    try:  # every check sees the runs of a sweep, as the rules do
        config = {**config, "models": expand_models(config.get("models") or {})}
    except SweepError as error:
        raise ConfigError(f"1 problem(s) in the configuration:\n  {error}") from None
    _check_splits(config, problems)
    _check_models(config, problems)
    _check_evaluation(config, problems)
    _check_analyses(config, problems)
    _check_outputs(config, problems)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the configuration:\n  " + "\n  ".join(problems))
