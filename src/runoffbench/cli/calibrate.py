"""``runoffbench calibrate``: calibrate a conceptual model on one basin or a chunk of basins."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from runoffbench.cli.options import add_split_arguments, resolve_split

LOGGER = logging.getLogger(__name__)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``calibrate`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "calibrate",
        help="calibrate a conceptual model per basin with SpotPy (one basin or a chunk)",
        description="Calibrate EXP-HYDRO or SAC-SMA+Snow-17+UH on each basin's train period and write the "
        "test-period predictions (prediction contract), parameters.csv, trace.csv and failures.csv to "
        "--output-dir. Basins already calibrated with the same settings are skipped on a re-run. Basins with "
        "too little observed training flow are left out (runoffbench.failures); the command fails when no basin "
        "succeeded or more than --max-failed-share failed.",
    )
    p.add_argument("--model", required=True, help="registered conceptual model: exphydro, sacsma")
    p.add_argument("--cache", required=True, type=Path, help="forcing cache data/cache/<dataset>/<forcing>.nc")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--basin", action="append", help="a basin id (repeatable)")
    which.add_argument("--basins", type=Path, metavar="FILE", help="basin list file, one id per line")
    p.add_argument("--chunk", default="0/1", metavar="I/N",
                   help="with --basins: calibrate the I-th (0-based) of N contiguous slices (default: 0/1)")
    add_split_arguments(p)
    p.add_argument("--output-dir", required=True, type=Path, help="folder for the chunk's files")
    p.add_argument("--algorithm", default="sceua", help="sceua (default) or dds")
    p.add_argument("--evaluations", type=int, default=10000, help="model runs per trial (default: 10000)")
    p.add_argument("--trials", type=int, default=1,
                   help="independent random-start calibrations per basin, the best (training objective) kept; "
                   "the CAMELS protocol (Newman et al. 2015) is 10 SCE-UA trials (default: 1)")
    p.add_argument("--objective", default="rmse", help="rmse (default, as NCAR), nse or kge")
    p.add_argument("--spinup-years", type=int, default=2, help="spin-up before each period (default: 2)")
    p.add_argument("--seed", type=int, default=0, help="random state; the run's member (default: 0)")
    p.add_argument("--bound", action="append", type=_key_value, default=[], metavar="PARAM=LO,HI",
                   help="override a parameter's calibration bounds (repeatable)")
    p.add_argument("--option", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                   help="model option, e.g. scheme=euler for exphydro (repeatable)")
    p.add_argument("--algorithm-option", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                   help="algorithm setting, e.g. ngs=4 for sceua (default: from the budget) or r=0.2 for dds "
                   "(repeatable)")
    p.add_argument("--max-failed-share", type=float, default=0.5, metavar="SHARE",
                   help="fail (exit status 2, after writing failures.csv) when more than this share of the basins "
                   "failed; a chunk in which no basin succeeded always fails (default: 0.5)")
    p.add_argument("--threads", type=int, default=1, help="worker processes (default: 1)")
    p.set_defaults(run=run)
    return p


def _chunk(text: str) -> tuple[int, int]:
    from runoffbench.errors import ConfigError

    try:
        chunk, n_chunks = (int(v) for v in text.split("/"))
    except ValueError:
        raise ConfigError(f"--chunk {text!r}: expected I/N, e.g. 0/4") from None
    return chunk, n_chunks


def run(args: argparse.Namespace) -> int:
    """Calibrate the basins selected by ``args``; returns the exit status."""
    from runoffbench.calibration.chunks import calibrate_chunk, chunk_basins
    from runoffbench.calibration.settings import CalibrationSettings
    from runoffbench.errors import ConfigError, DataError

    bounds = {}
    for param, interval in args.bound:
        try:
            bounds[param] = [float(v) for v in interval.split(",")]
        except ValueError:
            raise ConfigError(f"--bound {param}={interval}: expected LO,HI") from None
    settings = CalibrationSettings(
        algorithm=args.algorithm, evaluations=args.evaluations, trials=args.trials, objective=args.objective,
        spinup_years=args.spinup_years, seed=args.seed, bounds=bounds, model_options=dict(args.option),
        algorithm_options={key: _number(value) for key, value in args.algorithm_option},
        max_failed_share=args.max_failed_share,
    )
    periods = resolve_split(args)
    train, test = periods["train"], periods["test"]
    if args.basins is not None:
        if not args.basins.is_file():
            raise DataError(f"basin list {args.basins} does not exist")
        listed = [line.split()[0] for line in args.basins.read_text().splitlines() if line.strip()]
        basins = chunk_basins(listed, *_chunk(args.chunk))
    else:
        basins = list(args.basin)
    started = time.perf_counter()
    summary = calibrate_chunk(args.model, args.cache, basins, args.split, train, test, settings,
                              args.output_dir, threads=args.threads)
    LOGGER.info("chunk finished in %.1f s: %d calibrated, %d skipped, %d failed", time.perf_counter() - started,
                len(summary.done), len(summary.skipped), len(summary.failed))
    return 0
