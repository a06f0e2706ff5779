"""``runoffbench analyse <kind>``: analyses of trained runs (contract 6), one subcommand per kind of
:data:`runoffbench.analysis.registry.ANALYSIS_KINDS`, its flags generated from the kind's options."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``analyse`` subcommand, with a subcommand per analysis kind, to ``subparsers``."""
    from runoffbench.analysis.registry import ANALYSIS_KINDS, add_arguments

    p = subparsers.add_parser(
        "analyse",
        help="analyse a trained run into a per-basin table (" + ", ".join(ANALYSIS_KINDS) + ")",
        description="Reload a trained run (RUNDIR/model.pt, config.yaml), analyse it over its test period and "
        "write its per-basin table (--run); join such tables (--collect); or compute a kind's experiment-level "
        "tables from the joined table (--summarise). Options come as --settings JSON (what the workflow passes) "
        "and as flags, which override it.",
    )
    kinds = p.add_subparsers(dest="analysis", required=True, metavar="KIND")
    for kind in ANALYSIS_KINDS.values():
        products = f" --summarise writes {', '.join(kind.products)}." if kind.products else ""
        needs = f" Needs {', '.join(kind.needs)}." if kind.needs else ""
        sub = kinds.add_parser(kind.name, help=kind.description.split(";")[0],
                               description=f"{kind.description} ({kind.paper}).{needs}{products}")
        what = sub.add_mutually_exclusive_group(required=True)
        what.add_argument("--run", dest="run_dir", type=Path, metavar="RUNDIR", help="a trained run")
        what.add_argument("--collect", nargs="+", type=Path, metavar="TABLE.csv",
                          help="concatenate these per-run tables of the analysis into --output")
        if kind.summarise:
            what.add_argument("--summarise", type=Path, metavar="TABLE.csv",
                              help="the joined table (--collect): write PREFIX_<product>.csv for each product")
            sub.add_argument("--output-prefix", metavar="PREFIX", help="with --summarise: where the products go")
            if kind.reads_attributes:
                sub.add_argument("--attributes", type=Path, metavar="ATTRIBUTES.nc",
                                 help="with --summarise: the dataset's attributes.nc")
        sub.add_argument("--settings", metavar="JSON", help="the options as a JSON object (the config entry's)")
        add_arguments(sub, kind)
        sub.add_argument("--cache", type=Path, metavar="FORCING.nc", help="forcing cache (default: the run's)")
        sub.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
        sub.add_argument("--output", type=Path, metavar="TABLE.csv", help="the table written (--run, --collect)")
        sub.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.analysis.registry import analyse_run, analysis_kind, collect, parsed_options, read_attributes
    from runoffbench.analysis.registry import summarise as summarise_table
    from runoffbench.errors import ConfigError
    from runoffbench.io import write_text_atomic

    kind = analysis_kind(args.analysis)
    options = parsed_options(args, kind)
    summarise = getattr(args, "summarise", None)
    if summarise is not None:
        if not args.output_prefix:
            raise ConfigError(f"runoffbench analyse {kind.name} --summarise needs --output-prefix")
        import pandas as pd

        table = pd.read_csv(summarise, dtype={"basin": str, "member": str})
        attributes_path = getattr(args, "attributes", None)
        attributes = read_attributes(attributes_path) if attributes_path else None
        for product, frame in summarise_table(kind.name, table, attributes, options).items():
            path = Path(f"{args.output_prefix}_{product}.csv")
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"wrote {write_text_atomic(path, frame.to_csv(index=False))}")
        return 0
    if args.output is None:
        raise ConfigError(f"runoffbench analyse {kind.name}: --output is required with --run and --collect")
    if args.collect:
        table = collect(args.collect)
    else:
        table = analyse_run(kind.name, args.run_dir, options, cache=args.cache, device=args.device)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_text_atomic(args.output, table.to_csv(index=False))}")
    return 0
