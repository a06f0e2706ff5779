"""``runoffbench process-table``: the metrics table joined with the outputs no model is trained on (simulated
baseflow index against CAMELS, ET against MOD16A2 composites) per run and basin."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``process-table`` subcommand."""
    p = subparsers.add_parser(
        "process-table", help="metrics + simulated BFI and ET scores against MODIS per run and basin",
        description="Every row of tables/metrics.csv with BFI (sum of the baseflow flux / sum of qsim), BFI-CAMELS "
        "and, with --modis-et, ET-r, ET-RMSE, ET-mean, ET-mean-MODIS and ET-composites of the run's et flux "
        "on the MOD16A2 8-day composites (runoffbench.evaluation.process; Feng et al. 2022, Table 2, Figs. 5-6).",
    )
    p.add_argument("predictions", nargs="+", type=Path, metavar="predictions.nc",
                   help="runs/<model>/<forcing>/<split>/<member>/predictions.nc (members and ensembles)")
    p.add_argument("--metrics", required=True, type=Path, metavar="metrics.csv", help="tables/metrics.csv")
    p.add_argument("--attributes", required=True, type=Path, metavar="attributes.nc",
                   help="attribute cache providing CAMELS baseflow_index")
    p.add_argument("--modis-et", type=Path, metavar="FOLDER",
                   help="MOD16A2 basin means, <gauge_id>_lump_modis16a2v006_et.txt below it "
                        "(runoffbench.data.modis_et)")
    p.add_argument("--modis-scale", type=float, default=0.1,
                   help="stored ET value x scale = mm per composite (default 0.1, the product's)")
    p.add_argument("--modis-missing-basins", default="error", choices=["error", "skip"],
                   help="basins without a MODIS file: an error (default), or left out of the ET scores")
    p.add_argument("--output", required=True, type=Path, metavar="process.csv")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from runoffbench.data.cache import open_attributes
    from runoffbench.evaluation.process import process_table
    from runoffbench.evaluation.scope import read_metrics_table
    from runoffbench.io import write_text_atomic

    table = process_table(args.predictions, read_metrics_table(args.metrics), open_attributes(args.attributes),
                          args.modis_et, {"scale": args.modis_scale, "missing_basins": args.modis_missing_basins})
    write_text_atomic(args.output, table.to_csv(index=False, float_format="%.6g"))
    log.info("wrote %s: %d rows, BFI of %d, ET scores of %d", args.output, len(table), int(table["BFI"].notna().sum()),
             int(table["ET-r"].notna().sum()))
    return 0
