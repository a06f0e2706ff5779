"""``runoffbench figure KIND``: draw one figure of the output registry (PDF + PNG)."""

from __future__ import annotations

import argparse
import logging

from runoffbench.cli.outputs import add_kind_parsers, kind_input

log = logging.getLogger(__name__)

DESCRIPTION = """\
Draw one figure kind of the output registry (runoffbench.outputs.KINDS) from the table it reads and
write it as PDF and 300-dpi PNG; the suffix of --output is replaced by .pdf and .png. Figures of the
metrics table take the scope flags (--split, --forcings, --models, --members, --basins, --factors);
`runoffbench figure KIND --help` lists a kind's own flags."""

EPILOG = """\
examples:
  runoffbench figure basin_map --table results/x/tables/water_balance.csv \\
      --output results/x/figures/basin_map.pdf
  runoffbench figure kge_skill_cdf --table results/x/tables/metrics.csv --baseline mean_flow \\
      --basins complete_record --output results/x/figures/kge_skill_cdf.pdf
  runoffbench figure metric_boxplot --table results/x/tables/metrics.csv --metric KGE --by train_years \\
      --members seed_mean --models '{"lstm": "LSTM", "mclstm": "MC-LSTM"}' --output results/x/figures/kge.pdf"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``figure`` subcommand, one sub-subcommand per figure kind."""
    p = subparsers.add_parser("figure", help="draw one registered figure (PDF + PNG)", description=DESCRIPTION,
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_kind_parsers(p, "figures", run)
    return p


def run(args: argparse.Namespace) -> int:
    """Draw and save the figure; 0 on success."""
    from runoffbench.plots.style import save_figure

    kind = args.output_kind
    table, options = kind_input(args, kind)
    pdf, png = save_figure(kind.load()(table, **options), args.output)
    log.info("figure %s: wrote %s and %s", kind.name, pdf, png)
    return 0
