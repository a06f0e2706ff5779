"""``runoffbench figure``: draw one registered figure from its table (PDF + PNG)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)

DESCRIPTION = """\
Draw one figure of the figure registry (runoffbench.plots.registry) from the table it reads and
write it as PDF and 300-dpi PNG; the suffix of --output is replaced by .pdf and .png."""

EPILOG = """\
examples:
  runoffbench figure basin_map --table results/x/tables/water_balance.csv \\
      --output results/x/figures/basin_map.pdf
  runoffbench figure precip_bias_by_huc --table results/x/tables/water_balance.csv \\
      --output results/x/figures/precip_bias_by_huc.pdf \\
      --forcing nldas_extended --reference daymet
  runoffbench figure hydrographs --table results/x/tables/hydrographs.csv \\
      --output results/x/figures/hydrographs.pdf --models lstm sacsma --water-year 2005 --log"""

#: CLI options a figure may take, passed on only to figures whose registry entry lists them
_FIGURE_OPTIONS = ("forcing", "reference", "min_basins", "exclude_regions", "split", "baseline", "models",
                   "max_models", "water_year", "years", "log")

#: table columns that hold codes, read as text so "01" stays "01"
_TEXT_COLUMNS = {"basin": str, "huc_02": str, "forcing": str, "member": str, "split": str, "model": str}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``figure`` subcommand."""
    p = subparsers.add_parser(
        "figure", help="draw one registered figure (PDF + PNG)", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("figure_id", metavar="ID", help="figure id, e.g. basin_map, precip_bias_by_huc")
    p.add_argument("--table", required=True, type=Path, metavar="TABLE.csv",
                   help="the table the figure reads (e.g. the water-balance CSV)")
    p.add_argument("--output", required=True, type=Path, metavar="FIGURE.pdf",
                   help="output path; writes FIGURE.pdf and FIGURE.png")
    p.add_argument("--forcing", help="forcing shown by figures that compare forcings")
    p.add_argument("--reference", help="reference forcing of figures that compare forcings")
    p.add_argument("--min-basins", type=int,
                   help="leave out regions with fewer basins (figures grouped by region)")
    p.add_argument("--exclude-regions", nargs="+", metavar="HUC",
                   help="regions left out of figures grouped by region (Frame et al. 2023 leave out 09)")
    p.add_argument("--basins", default="all", choices=("all", "complete_record"),
                   help="figures of the metrics table: all basins (default) or those observed on every test day")
    p.add_argument("--split", help="split shown by figures of model runs (default: the table's first)")
    p.add_argument("--baseline", help="model the KGE skill score is computed against")
    p.add_argument("--models", nargs="+", metavar="MODEL",
                   help="models compared by kge_difference_cdf (two: A − B), or drawn by hydrographs")
    p.add_argument("--max-models", type=int,
                   help="hydrographs: models per panel when --models is not given (default 3, the best by NSE)")
    p.add_argument("--water-year", type=int,
                   help="hydrographs: first water year shown (Oct-Sep, named by the year it ends in; "
                   "default: the representative one, of median mean flow)")
    p.add_argument("--years", type=int, help="hydrographs: number of water years shown (default 1)")
    p.add_argument("--log", action="store_true", default=None, help="hydrographs: logarithmic flow axis")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Draw and save the figure; 0 on success."""
    import pandas as pd

    from runoffbench.errors import ConfigError, DataError
    from runoffbench.evaluation.collect import select_basins
    from runoffbench.plots.registry import figure_spec
    from runoffbench.plots.style import save_figure

    spec = figure_spec(args.figure_id)
    missing = [name for name in spec.options if getattr(args, name) is None]
    if missing:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
        raise ConfigError(f"figure {args.figure_id!r} needs {flags}")
    if not args.table.is_file():
        raise DataError(f"table {args.table} (for figure {args.figure_id!r}) does not exist")
    table = pd.read_csv(args.table, dtype=_TEXT_COLUMNS)
    if spec.table == "metrics":
        table = select_basins(table, args.basins)
    if args.models is not None:
        args.models = tuple(args.models)
    if args.exclude_regions is not None:
        args.exclude_regions = tuple(args.exclude_regions)
    options = {name: getattr(args, name) for name in _FIGURE_OPTIONS
               if getattr(args, name) is not None and _accepts(spec, name)}
    pdf, png = save_figure(spec.function(table, **options), args.output)
    log.info("figure %s: wrote %s and %s", args.figure_id, pdf, png)
    return 0


def _accepts(spec, name: str) -> bool:
    """Whether the figure function takes the keyword argument ``name``."""
    import inspect

    return name in inspect.signature(spec.function).parameters
