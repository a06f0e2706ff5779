"""``runoffbench water-balance``: the water-balance table of several forcing caches."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from runoffbench.io import write_text_atomic

log = logging.getLogger(__name__)

DESCRIPTION = """\
Compute the long-term water balance of every basin under every forcing product: mean
precipitation and streamflow (mm/day), runoff ratio Q/P over the days both are present, the
precipitation ratio P(forcing) / P(reference) and the number of days with observed streamflow.
Writes one row per basin and forcing to a CSV file and a Markdown copy beside it (.md)."""

EPILOG = """\
example:
  runoffbench water-balance --cache daymet=data/cache/camels_us/531/daymet.nc \\
      --cache nldas_extended=data/cache/camels_us/531/nldas_extended.nc \\
      --reference daymet --output results/frame2022/tables/water_balance.csv"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``water-balance`` subcommand."""
    p = subparsers.add_parser(
        "water-balance", help="water-balance table of forcing caches (CSV + Markdown)",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--cache", action="append", required=True, type=_forcing_path,
                   metavar="FORCING=PATH.nc",
                   help="a forcing cache and the forcing name to report it under (repeat)")
    p.add_argument("--reference", required=True, metavar="FORCING",
                   help="forcing the precipitation ratio is relative to (e.g. daymet)")
    p.add_argument("--output", required=True, type=Path, metavar="TABLE.csv",
                   help="CSV file to write; the Markdown copy goes beside it with suffix .md")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="first day of the period (default: all)")
    p.add_argument("--end", metavar="YYYY-MM-DD", help="last day of the period (default: all)")
    p.set_defaults(run=run)
    return p


def _forcing_path(text: str) -> tuple[str, Path]:
    """Parse ``FORCING=PATH`` into (forcing, path)."""
    name, separator, path = text.partition("=")
    if not separator or not name or not path:
        raise argparse.ArgumentTypeError(f"expected FORCING=PATH.nc, got {text!r}")
    return name, Path(path)


def run(args: argparse.Namespace) -> int:
    """Read the caches, compute the table and write it; 0 on success."""
    from runoffbench.analysis.water_balance import COLUMNS, water_balance
    from runoffbench.errors import ConfigError

    names = [name for name, _ in args.cache]
    if len(set(names)) != len(names):
        raise ConfigError(f"water-balance: a forcing is given twice in --cache: {names}")
    caches = {name: _open_cache(name, path) for name, path in args.cache}
    period = None if args.start is None and args.end is None else (args.start, args.end)
    table = water_balance(caches, args.reference, period)
    write_csv(table, args.output)
    write_markdown(table, args.output.with_suffix(".md"), COLUMNS)
    log.info("water-balance: wrote %d rows to %s and %s", len(table), args.output,
             args.output.with_suffix(".md"))
    return 0


def _open_cache(name: str, path: Path):
    """Open one forcing cache; DataError if it is missing or labelled as another forcing."""
    from runoffbench.data.cache import open_cache
    from runoffbench.errors import DataError

    dataset = open_cache(path)
    labelled = dataset.attrs.get("forcing")
    if labelled is not None and labelled != name:
        raise DataError(f"forcing cache {path} holds forcing {labelled!r}, not {name!r}")
    return dataset


def write_csv(table, path: Path) -> None:
    """Write ``table`` as CSV under a temporary name, then rename it to ``path``."""
    write_text_atomic(path, table.to_csv(index=False, float_format="%.6g"))


def write_markdown(table, path: Path, units: dict[str, str]) -> None:
    """Write ``table`` as a Markdown table with units in the header, atomically."""
    header = [f"{column} [{units[column]}]" if units.get(column) else column
              for column in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    write_text_atomic(path, "\n".join(lines) + "\n")


def _cell(value) -> str:
    """A Markdown cell: floats to 3 decimals, everything else as text."""
    return f"{value:.3f}" if isinstance(value, float) else str(value)
