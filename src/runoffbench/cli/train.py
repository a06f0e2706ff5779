"""``runoffbench train``: train one nn model (model × forcing × split × seed) and write its run directory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from runoffbench.cli.options import add_split_arguments, key_value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "train",
        help="train an nn model (LSTM, EA-LSTM, MC-LSTM, δ models, dEXP-HYDRO) and predict the test period",
        description="Train one nn model on the train period of a split and write predictions.nc (prediction "
        "contract), model.pt, training_log.csv and config.yaml to --output (and checkpoint.pt while training); a "
        "killed run restarted with the same arguments and data resumes from its last epoch, anything else trains "
        "afresh. Settings come from --config RUN.yaml (keys: name, settings, cache, attributes, basins, split, "
        "periods, seed, output, forcing) and/or the flags below, which take precedence. Progress is logged per epoch.",
    )
    p.add_argument("--config", type=Path, metavar="RUN.yaml", help="run description (YAML)")
    p.add_argument("--model", help="registered nn model (lstm, ealstm, mclstm, dhbv, dexphydro); also the run's name")
    p.add_argument("--name", help="the run's model name in the outputs (default: --model)")
    p.add_argument("--settings", metavar="JSON", help="the config entry models.<name> as JSON")
    p.add_argument("--set", action="append", type=key_value, default=[], metavar="KEY=VALUE",
                   help="override one setting, VALUE parsed as YAML, e.g. hidden_size=64 (repeatable)")
    p.add_argument("--factors", metavar="JSON", help="factor -> level of a swept run (runoffbench.experiment), "
                   "written to config.yaml and the predictions' attributes")
    p.add_argument("--cache", type=Path, metavar="FORCING.nc", help="forcing cache data/cache/<dataset>/<forcing>.nc")
    p.add_argument("--attributes", type=Path, help="attributes.nc of the dataset")
    p.add_argument("--basins", type=Path, metavar="FILE", help="basin list file, one id per line")
    p.add_argument("--forcing", help="forcing name in the outputs (default: the cache file's stem)")
    p.add_argument("--seed", type=int, help="random seed; the run's member (default: 0)")
    p.add_argument("--device", help="auto (default: cuda if available), cpu or cuda[:N]")
    p.add_argument("--output", type=Path, metavar="RUNDIR", help="run directory")
    add_split_arguments(p, required=False)  # or in --config
    p.set_defaults(run=run)
    return p


def _run_description(args: argparse.Namespace) -> dict:
    import yaml

    from runoffbench.errors import ConfigError

    description = {}
    if args.config is not None:
        if not args.config.is_file():
            raise ConfigError(f"--config {args.config}: no such file")
        description = yaml.safe_load(args.config.read_text()) or {}
    settings = dict(description.get("settings") or {})
    if args.settings:
        try:
            settings.update(json.loads(args.settings))
        except json.JSONDecodeError as error:
            raise ConfigError(f"--settings is not valid JSON ({error})") from None
    for key, value in args.set:
        settings[key] = yaml.safe_load(value)
    if args.model:
        settings["model"] = args.model
    if args.device:
        settings["device"] = args.device
    description["settings"] = settings
    for key in ("name", "cache", "attributes", "basins", "forcing", "seed", "output", "split", "periods", "factors"):
        value = getattr(args, key)
        if value is not None:
            description[key] = json.loads(value) if key in ("periods", "factors") else value
    description.setdefault("name", settings.get("model"))
    missing = [k for k in ("name", "cache", "attributes", "basins", "split", "output") if not description.get(k)]
    if missing:
        raise ConfigError(f"runoffbench train: {', '.join(missing)} not given (flags or --config)")
    return description


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.camels_us import read_basin_list
    from runoffbench.periods import resolve_splits
    from runoffbench.training.run import train_run
    from runoffbench.training.settings import parse_settings

    description = _run_description(args)
    settings = parse_settings(description["name"], description["settings"])
    split = description["split"]
    periods = resolve_splits({split: description.get("periods")})[split]
    basins = description["basins"]
    basins = read_basin_list(basins) if isinstance(basins, (str, Path)) else [str(b) for b in basins]
    cache = Path(description["cache"])
    path = train_run(settings, cache, description["attributes"], basins, periods, int(description.get("seed", 0)),
                     description["output"], description.get("forcing") or cache.stem, split,
                     factors=description.get("factors"))
    print(f"wrote {path}")
    return 0
