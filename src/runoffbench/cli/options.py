"""Arguments several commands share: the split, the forcing cache and KEY=VALUE settings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def key_value(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` of a repeatable ``--set``-style flag, as (key, value)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def add_split_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--split NAME`` and ``--periods JSON`` (the config's definition of a non-preset split)."""
    parser.add_argument("--split", required=required, metavar="NAME",
                        help="split name; a predefined paper split unless --periods defines it")
    parser.add_argument("--periods", metavar="JSON",
                        help='the split\'s periods as in the config, e.g. \'{"train": {"water_years": '
                             '[2000, 2008]}, "test": {"water_years": [1990, 1999]}}\'')


def resolve_split(args: argparse.Namespace) -> dict:
    """Periods (``train``, ``test``, ...) of ``args.split``; ConfigError naming a bad split."""
    from runoffbench.errors import ConfigError
    from runoffbench.periods import resolve_splits

    try:
        spec = json.loads(args.periods) if args.periods else None
    except json.JSONDecodeError as error:
        raise ConfigError(f"--periods of split {args.split!r} is not valid JSON ({error})") from None
    return resolve_splits({args.split: spec})[args.split]


def add_cache_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--cache", required=True, type=Path, metavar="FORCING.nc", help=help_text)
