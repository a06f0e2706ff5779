"""Arguments several commands share: the split and the forcing cache."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_split_arguments(parser: argparse.ArgumentParser) -> None:
    """``--split NAME`` and ``--periods JSON`` (the config's definition of a non-preset split)."""
    parser.add_argument("--split", required=True, metavar="NAME",
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
