"""``runoffbench calibrate``: calibrate a conceptual model on one basin or a chunk of basins."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from runoffbench.cli.options import add_split_arguments, key_value, resolve_split

LOGGER = logging.getLogger(__name__)
#: flags overriding a field of CalibrationSettings (whose defaults are the only ones)
_SETTING_FLAGS = ("algorithm", "evaluations", "trials", "objective", "spinup_years", "train_years", "seed",
                  "max_failed_share")


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
    p.add_argument("--name", help="the run's model name in the outputs, e.g. exphydro@train_years=3 (default: "
                   "--model)")
    p.add_argument("--factors", metavar="JSON", help="factor -> level of a swept run (runoffbench.experiment), "
                   "written to the predictions' attributes")
    p.add_argument("--cache", required=True, type=Path, help="forcing cache data/cache/<dataset>/<forcing>.nc")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--basin", action="append", help="a basin id (repeatable)")
    which.add_argument("--basins", type=Path, metavar="FILE", help="basin list file, one id per line")
    p.add_argument("--chunk", default="0/1", metavar="I/N",
                   help="with --basins: calibrate the I-th (0-based) of N contiguous slices (default: 0/1)")
    add_split_arguments(p)
    p.add_argument("--output-dir", required=True, type=Path, help="folder for the chunk's files")
    defaults = _defaults()
    p.add_argument("--settings", metavar="JSON",
                   help="the calibration settings as JSON (keys of runoffbench.calibration.settings."
                   "CalibrationSettings: algorithm, evaluations, trials, objective, spinup_years, train_years, seed, "
                   "bounds, model_options, algorithm_options, max_failed_share), as the workflow passes them; the "
                   "flags below override single keys")
    p.add_argument("--algorithm", help=f"sceua or dds (default: {defaults['algorithm']})")
    p.add_argument("--evaluations", type=int, help=f"model runs per trial (default: {defaults['evaluations']})")
    p.add_argument("--trials", type=int,
                   help="independent random-start calibrations per basin, the best (training objective) kept; "
                   f"the CAMELS protocol (Newman et al. 2015) is 10 SCE-UA trials (default: {defaults['trials']})")
    p.add_argument("--objective", help=f"rmse (as NCAR), nse or kge (default: {defaults['objective']})")
    p.add_argument("--spinup-years", type=int,
                   help=f"spin-up before each period (default: {defaults['spinup_years']})")
    p.add_argument("--train-years", type=int, metavar="N",
                   help="calibrate on the last N years of the training period only (a data amount; default: all)")
    p.add_argument("--seed", type=int, help=f"random state; the run's member (default: {defaults['seed']})")
    p.add_argument("--bound", action="append", type=key_value, default=[], metavar="PARAM=LO,HI",
                   help="override a parameter's calibration bounds (repeatable)")
    p.add_argument("--option", action="append", type=key_value, default=[], metavar="KEY=VALUE",
                   help="model option, e.g. scheme=euler for exphydro (repeatable)")
    p.add_argument("--algorithm-option", action="append", type=key_value, default=[], metavar="KEY=VALUE",
                   help="algorithm setting, e.g. ngs=4 for sceua (default: from the budget) or r=0.2 for dds "
                   "(repeatable)")
    p.add_argument("--max-failed-share", type=float, metavar="SHARE",
                   help="fail (exit status 2, after writing failures.csv) when more than this share of the basins "
                   "failed; a chunk in which no basin succeeded always fails "
                   f"(default: {defaults['max_failed_share']})")
    p.add_argument("--threads", type=int, default=1, help="worker processes (default: 1)")
    p.set_defaults(run=run)
    return p


def _defaults() -> dict:
    import dataclasses

    from runoffbench.calibration.settings import CalibrationSettings

    return {f.name: f.default for f in dataclasses.fields(CalibrationSettings) if f.default is not dataclasses.MISSING}


def _settings(args: argparse.Namespace):
    """CalibrationSettings from --settings, then the flags (ConfigError naming a bad value)."""
    import json

    from runoffbench.calibration.settings import CalibrationSettings
    from runoffbench.errors import ConfigError

    try:
        values = json.loads(args.settings) if args.settings else {}
    except json.JSONDecodeError as error:
        raise ConfigError(f"--settings is not valid JSON ({error})") from None
    values.update({key: getattr(args, key) for key in _SETTING_FLAGS if getattr(args, key) is not None})
    for param, interval in args.bound:
        try:
            values.setdefault("bounds", {})[param] = [float(v) for v in interval.split(",")]
        except ValueError:
            raise ConfigError(f"--bound {param}={interval}: expected LO,HI") from None
    values.setdefault("model_options", {}).update(dict(args.option))
    values.setdefault("algorithm_options", {}).update({key: _number(value) for key, value in args.algorithm_option})
    try:
        return CalibrationSettings(**values)
    except TypeError as error:
        raise ConfigError(f"--settings: {error}") from None


def _factors(text: str | None) -> dict | None:
    import json

    from runoffbench.errors import ConfigError

    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as error:
        raise ConfigError(f"--factors is not valid JSON ({error})") from None


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
    from runoffbench.data.camels_us import read_basin_list

    settings = _settings(args)
    periods = resolve_split(args)
    train, test = periods["train"], periods["test"]
    if args.basins is not None:  # the one basin-list reader: comments, id check, duplicates
        basins = chunk_basins(read_basin_list(args.basins), *_chunk(args.chunk))
    else:
        basins = list(args.basin)
    started = time.perf_counter()
    summary = calibrate_chunk(args.model, args.cache, basins, args.split, train, test, settings,
                              args.output_dir, threads=args.threads, run_name=args.name,
                              factors=_factors(args.factors))
    LOGGER.info("chunk finished in %.1f s: %d calibrated, %d skipped, %d failed", time.perf_counter() - started,
                len(summary.done), len(summary.skipped), len(summary.failed))
    return 0
