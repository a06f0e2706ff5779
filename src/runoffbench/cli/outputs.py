"""What ``runoffbench figure`` and ``runoffbench table`` share: one subcommand per registered kind of
:data:`runoffbench.outputs.KINDS`, its flags generated from the kind's options, and the driver that
reads the kind's input, applies the scope and calls the kind's function."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from runoffbench.outputs import KINDS, SCOPED_TABLES, OutputKind, add_kind_arguments, parsed_options

log = logging.getLogger(__name__)

#: what each kind's --table is
INPUTS = {"metrics": "tables/metrics.csv", "hydrographs": "tables/hydrographs.csv",
          "water_balance": "tables/water_balance.csv", "analysis": "tables/<analysis>.csv",
          "attributes": "data/cache/<dataset>/attributes.nc"}

INPUTS.update({"process": "tables/process.csv (metrics + BFI and ET scores, runoffbench.evaluation.process)",
               "series": "tables/series.csv (daily flows and dynamic parameters of a few basins)"})


def add_kind_parsers(parser: argparse.ArgumentParser, section: str, run) -> None:
    """A sub-subcommand per kind of ``section`` on ``parser``, each with its options' flags."""
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in (k for k in KINDS.values() if k.section == section):
        p = kinds.add_parser(kind.name, help=kind.description, description=kind.description)
        if kind.reads == "failures":
            p.add_argument("--failures", nargs="*", type=Path, default=[], metavar="failures.csv",
                           help="the runs' runs/<model>/<forcing>/<split>/<member>/failures.csv")
        else:
            p.add_argument("--table", required=True, type=Path, metavar="TABLE.csv",
                           help=f"the table it reads: {INPUTS[kind.reads]}")
        if kind.reads in SCOPED_TABLES and section == "tables":
            p.add_argument("--expected-runs", nargs="+", default=None, metavar="MODEL/FORCING",
                           help="the configured runs: a table built from fewer says which are missing")
        p.add_argument("--output", required=True, type=Path, metavar="FILE",
                       help="output path (a figure writes .pdf and .png, a table .csv, .md and .tex)")
        add_kind_arguments(p, kind)
        p.set_defaults(run=run, output_kind=kind)


def kind_input(args: argparse.Namespace, kind: OutputKind):
    """The kind's input table, scoped (metrics), and its function's keyword arguments."""
    import pandas as pd

    from runoffbench.errors import ConfigError, DataError
    from runoffbench.evaluation.scope import ALL_MEMBERS, apply_scope, read_metrics_table

    values = parsed_options(args, kind)
    missing = [o.flag for o in kind.all_options if o.required and o.name not in values]
    if missing:
        raise ConfigError(f"{kind.section[:-1]} {kind.name!r} needs {', '.join(missing)}")
    own = {o.name for o in kind.options}
    arguments = {o.name: o.argument or o.name for o in kind.options}
    options = {name: value for name, value in values.items() if name in own}
    if kind.reads in SCOPED_TABLES:
        scope = {name: value for name, value in values.items() if name not in own}
        if kind.splits == "several":  # side by side, the scope applied per split
            from runoffbench.evaluation.scope import ALL_SPLITS

            scope["split"] = scope.get("split") or ALL_SPLITS
        if kind.members == "all":  # the kind reads every member itself
            scope["members"] = ALL_MEMBERS
        table, labels = apply_scope(read_metrics_table(args.table), scope)
        options = {name: _relabelled(value, labels, option_type(kind, name)) for name, value in options.items()}
        if getattr(args, "expected_runs", None):  # the configured runs the scope shows, as they are labelled
            args.expected_runs = expected_in_scope(args.expected_runs, scope, labels)
    elif kind.reads == "attributes":
        table = read_attributes_table(args.table, kind.name)
    else:
        if not args.table.is_file():
            raise DataError(f"table {args.table} (for {kind.name}) does not exist")
        table = pd.read_csv(args.table, dtype={c: str for c in ("basin", "huc_02", "forcing", "member", "split",
                                                                  "model")})
    return table, {arguments[name]: tuple(v) if isinstance(v, list) else v for name, v in options.items()}


def expected_in_scope(expected: list[str], scope: dict, labels: dict[str, str]) -> list[str]:
    """The configured runs ``model/forcing`` (``--expected-runs``) that the scope shows (its ``forcings`` and
    ``models``), each model in its display label (a swept run of a labelled base model: label + factors),
    so that a table's coverage note compares like with like."""
    from runoffbench.experiment import parse_run_name

    forcings = scope.get("forcings")
    kept = []
    for run in expected:
        model, _, forcing = run.partition("/")
        if forcings and forcing not in forcings:
            continue
        if scope.get("models"):
            base = parse_run_name(model)[0]
            if model in labels:
                model = labels[model]
            elif base in labels:
                model = labels[base] + model[len(base):]
            else:
                continue
        kept.append(f"{model}/{forcing}")
    return kept


def read_attributes_table(path: Path, what: str):
    """The dataset's ``attributes.nc`` as a frame with a ``basin`` column (a row per basin)."""
    from runoffbench.errors import DataError

    if not path.is_file():
        raise DataError(f"attributes {path} (for {what}) does not exist")
    from runoffbench.analysis.registry import read_attributes

    table = read_attributes(path)
    return table.rename_axis("basin").reset_index()


def option_type(kind: OutputKind, name: str) -> str:
    return next(o.type for o in kind.all_options if o.name == name)


def _relabelled(value, labels: dict[str, str], kind_type: str):
    """A model-valued option in the display labels of the scope's ``models``."""
    if kind_type == "model":
        return labels.get(value, value)
    if kind_type == "models":
        return [labels.get(v, v) for v in value]
    if kind_type == "model_pairs":
        return {labels.get(k, k): labels.get(v, v) for k, v in dict(value).items()}
    return value
