"""Calibrate a chunk of basins in a process pool and write the chunk's outputs.

A chunk is one model × forcing × split × member and a slice of the basin list (:func:`chunk_basins`).
With ``settings.train_years`` (a data amount, the run ``exphydro@train_years=3`` of a sweep) every basin is
calibrated on the last N years of the training period only (:func:`runoffbench.periods.last_years`, the
block the networks of that data amount train on), spun up over the ``spinup_years`` of forcing before the
block, and the basins observed on too few of the block's days are left out
(:func:`runoffbench.failures.screen_data_amount`), as in training.
:func:`calibrate_chunk` runs its basins through ``threads`` worker processes (one basin per process:
SpotPy runs sequentially) with a progress bar of basins done / total, and writes to ``output_dir``:

- ``predictions.nc``: the prediction contract (qsim, qobs and the model's internal fluxes and stores
  over the test period) for the basins that succeeded;
- ``parameters.csv``: basin × parameter, the best set of each basin;
- ``trace.csv``: ``basin, evaluation, objective, best_value`` — the best objective value after that
  many model runs, at log-spaced evaluation counts;
- ``failures.csv``: every basin left out, in the format of :mod:`runoffbench.failures` (``basin,
  stage, reason``, stage ``calibrate``; header only when none was): the basins the screening rule
  every model kind applies rejects before any fitting (too little observed streamflow in the training
  period), and those that fail during calibration, with their error as the reason.

A chunk fails as a whole (:class:`DataError`, after writing ``failures.csv`` only) when no basin
succeeded, or when more than ``settings.max_failed_share`` of its basins failed; its message names
the chunk and the first reasons. Periods outside the forcing cache fail before any basin starts.

Each finished basin is saved at once to ``work/<fingerprint>/<basin>.npz``; the fingerprint hashes
the model, its bounds and options, the calibration settings, the periods, the forcing file's size
and modification time, and the source files of the models and of this package. A re-run with the
same fingerprint skips the basins already saved (after an
interruption, only the rest is calibrated); failed basins are tried again; work folders of other
fingerprints are stale and removed. The chunk files are assembled from the saved basins at the end.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import shutil
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from runoffbench.calibration.calibrate import BasinInputs, BasinResult, calibrate_basin
from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.data.cache import open_cache
from runoffbench.errors import ConfigError, DataError
from runoffbench.failures import read_failures, screen_data_amount, screen_training_record, write_failures
from runoffbench.io import atomic_output, write_text_atomic
from runoffbench.models import conceptual as conceptual_models
from runoffbench.models.conceptual import ConceptualModel, get_model
from runoffbench.periods import Period, last_years
from runoffbench.predictions import make_predictions, merge_predictions, read_predictions, write_predictions

log = logging.getLogger(__name__)

OUTPUT_FILES = ("predictions.nc", "parameters.csv", "trace.csv", "failures.csv")
#: the stage named in failures.csv
STAGE = "calibrate"
#: reasons quoted in the error of a failed chunk
QUOTED_REASONS = 3


@dataclass(frozen=True)
class ChunkSummary:
    """Basins of a chunk: newly calibrated, skipped (already done), failed."""

    done: list[str]
    skipped: list[str]
    failed: dict[str, str]


def chunk_basins(basins: Sequence[str], chunk: int, n_chunks: int) -> list[str]:
    """The ``chunk``-th (0-based) of ``n_chunks`` contiguous, near-equal slices of ``basins``."""
    if n_chunks < 1 or not 0 <= chunk < n_chunks:
        raise ConfigError(f"chunk {chunk} of {n_chunks}: need 0 <= chunk < n_chunks")
    return [str(b) for b in np.array_split(np.asarray(list(basins), dtype=object), n_chunks)[chunk]]


def _code_digest() -> str:
    """Hash of the model and calibration sources: a code change invalidates saved basins."""
    digest = hashlib.sha256()
    for folder in (Path(conceptual_models.__file__).parent, Path(__file__).parent):
        for source in sorted(folder.glob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _fingerprint(model: ConceptualModel, settings: CalibrationSettings, train: Period, test: Period,
                 cache_path: Path) -> str:
    stat = cache_path.stat()
    description = {
        "code": _code_digest(),
        "model": model.name,
        "bounds": model.resolve_bounds(settings.bounds),
        "settings": {k: v for k, v in asdict(settings).items() if k != "max_failed_share"},
        "periods": [str(train), str(test)],
        "cache": [cache_path.name, stat.st_size, stat.st_mtime_ns],
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _save(result: BasinResult, path: Path) -> None:
    with atomic_output(path) as temporary, open(temporary, "wb") as handle:
        np.savez(
            handle,
            names=np.array(list(result.parameters)),
            values=np.array(list(result.parameters.values())),
            train_value=result.train_value,
            evaluations=result.evaluations,
            trace=result.trace,
            seconds=result.seconds,
            **{f"out_{name}": values.astype(np.float32) for name, values in result.test_outputs.items()},
        )


def _calibrate_and_save(model_name, inputs, qobs, train, test, settings, path) -> tuple[str, str | None, float]:
    """Worker: calibrate one basin and save it; ``(basin, error or None, seconds)``, never raises."""
    try:
        result = calibrate_basin(get_model(model_name), inputs, qobs, train, test, settings)
        _save(result, path)
        return inputs.basin, None, result.seconds
    except Exception as error:  # noqa: BLE001 - one basin's failure must not stop the chunk
        log.debug("basin %s failed:\n%s", inputs.basin, traceback.format_exc())
        return inputs.basin, f"{type(error).__name__}: {error}", 0.0


def _assemble(model, run_name, factors, basins, work, cache, forcing, split, block, test, settings, failed,
              output_dir) -> None:
    saved = [b for b in basins if (work / f"{b}.npz").is_file()]
    parameters, traces, fluxes = [], [], {name: [] for name in model.outputs}
    for basin in saved:
        with np.load(work / f"{basin}.npz") as stored:
            parameters.append(dict(zip(stored["names"].tolist(), stored["values"].tolist())))
            trace = pd.DataFrame(stored["trace"], columns=["evaluation", "best_value"])
            traces.append(trace.assign(basin=basin, objective=settings.objective))
            for name in model.outputs:
                fluxes[name].append(stored[f"out_{name}"])
    dates = test.dates
    empty = np.empty((0, dates.size))
    qobs = cache["qobs"].sel(basin=saved, date=dates).to_numpy() if saved else empty
    stacked = {name: np.stack(values) if values else empty for name, values in fluxes.items()}
    predictions = make_predictions(
        stacked.pop("qsim"), qobs, saved, dates, model=run_name, forcing=forcing, split=split,
        member=settings.seed,
        fluxes={name: (stacked[name], units) for name, (_key, units) in model.outputs.items() if name != "qsim"},
        attrs={"algorithm": settings.algorithm, "objective": settings.objective,
               "evaluations": int(settings.evaluations), "trials": int(settings.trials),
               "spinup_years": int(settings.spinup_years), "calibration_period": str(block),
               **{f"factor:{k}": str(v) for k, v in (factors or {}).items()}},
    )
    write_predictions(predictions, output_dir / "predictions.nc")
    table = pd.DataFrame(parameters, index=pd.Index(saved, name="basin"), columns=list(model.parameter_names))
    write_text_atomic(output_dir / "parameters.csv", table.to_csv())
    columns = ["basin", "evaluation", "objective", "best_value"]
    trace = pd.concat(traces)[columns] if traces else pd.DataFrame(columns=columns)
    write_text_atomic(output_dir / "trace.csv", trace.astype({"evaluation": int}).to_csv(index=False))
    write_failures(output_dir / "failures.csv", failed, stage=STAGE)


def calibrate_chunk(
    model_name: str,
    cache_path: str | Path,
    basins: Sequence[str],
    split: str,
    train: Period,
    test: Period,
    settings: CalibrationSettings,
    output_dir: str | Path,
    threads: int = 1,
    run_name: str | None = None,
    factors: Mapping[str, str] | None = None,
) -> ChunkSummary:
    """Calibrate ``basins`` with ``threads`` processes and write the chunk files to ``output_dir``.

    ``run_name`` is the model name of the predictions (default: ``model_name``), ``factors`` (factor → level
    label) the levels of a swept run, written to the predictions' attributes ``factor:<factor>``
    (:mod:`runoffbench.experiment`).

    Settings and bounds are checked before any basin starts (:class:`ConfigError`), and the periods
    against the cache's dates (:class:`DataError`); basins with too little training flow are screened
    out (:func:`runoffbench.failures.screen_training_record`); a basin that fails afterwards (missing
    forcing, a model error) is recorded in ``failures.csv`` and the others complete. Raises
    :class:`DataError` when no basin succeeded or more than ``settings.max_failed_share`` failed.
    """
    model = get_model(model_name)
    model.resolve_bounds(settings.bounds)
    model.check_options(settings.model_options)
    cache_path, output_dir = Path(cache_path), Path(output_dir)
    cache = open_cache(cache_path)
    forcing = str(cache.attrs.get("forcing", cache_path.stem))
    _check_periods(cache, cache_path, {"train": train, "test": test})
    run_name = run_name or model.name
    block = last_years(train, settings.train_years, f"models.{run_name}.train_years")
    work = output_dir / "work" / _fingerprint(model, settings, block, test, cache_path)
    for stale in (p for p in work.parent.glob("*") if p.is_dir() and p != work):
        shutil.rmtree(stale)
    work.mkdir(parents=True, exist_ok=True)
    skipped = [b for b in basins if (work / f"{b}.npz").is_file()]
    todo = [b for b in basins if b not in skipped]
    log.info("%s / %s / %s: %d basin(s) on %s, %d already done, %d to calibrate with %d process(es)",
             run_name, forcing, split, len(basins), block, len(skipped), len(todo), threads)
    failed: dict[str, str] = {}
    done: list[str] = []
    present = [b for b in todo if b in cache.indexes["basin"]]
    observed = np.isfinite(cache["qobs"].sel(basin=present, date=slice(block.start, block.end))).sum("date")
    screened = screen_training_record(present, observed.to_numpy(), block)
    screened.update({b: reason for b, reason in screen_data_amount(present, observed.to_numpy(), block,
                                                                   settings.train_years).items() if b not in screened})

    def tasks(progress):
        for basin in todo:
            if basin not in cache.indexes["basin"]:
                record(progress, basin, f"DataError: basin {basin} is not in the forcing cache {cache_path}", 0.0)
                continue
            if basin in screened:
                record(progress, basin, screened[basin], 0.0)
                continue
            inputs = BasinInputs.from_cache(cache, basin, model.forcings)
            qobs = cache["qobs"].sel(basin=basin).to_numpy()
            yield (model.name, inputs, qobs, block, test, settings, work / f"{basin}.npz")

    def record(progress, basin, error, seconds):
        if error is None:
            done.append(basin)
            log.info("basin %s calibrated in %.1f s", basin, seconds)
        else:
            failed[basin] = error
            log.warning("basin %s failed: %s", basin, error)
        progress.update()

    with tqdm(total=len(basins), initial=len(skipped), desc=f"calibrating {model.name} {forcing}",
              unit="basin", mininterval=1) as progress:
        if threads <= 1:
            for task in tasks(progress):
                record(progress, *_calibrate_and_save(*task))
        else:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=threads, mp_context=context) as pool:
                futures = {pool.submit(_calibrate_and_save, *task): task[1].basin for task in tasks(progress)}
                for future in as_completed(futures):
                    try:
                        record(progress, *future.result())
                    except Exception as error:  # noqa: BLE001 - a crashed worker process
                        record(progress, futures[future], f"{type(error).__name__}: {error}", 0.0)
    name = f"{output_dir} ({run_name}/{forcing}/{split}/{settings.seed})"
    _check_failed_share(name, list(basins), failed, settings.max_failed_share, output_dir)
    _assemble(model, run_name, factors, list(basins), work, cache, forcing, split, block, test, settings, failed,
              output_dir)
    log.info("%d calibrated, %d skipped, %d failed -> %s", len(done), len(skipped), len(failed), output_dir)
    return ChunkSummary(done, skipped, failed)


def _check_periods(cache, cache_path: Path, periods: dict[str, Period]) -> None:
    """DataError when a period leaves the cache's dates: every basin would fail (and only after its
    calibration, for the test period)."""
    dates = pd.DatetimeIndex(cache.indexes["date"])
    for name, period in periods.items():
        if period.start < dates[0] or period.end > dates[-1]:
            raise DataError(f"the {name} period {period} lies outside the forcing cache {cache_path} "
                            f"({dates[0].date()}..{dates[-1].date()}): choose periods inside it or build the "
                            "cache over them (cache.start, cache.end)")


def _check_failed_share(name: str, basins: list[str], failed: dict[str, str], max_share: float,
                        output_dir: Path) -> None:
    """DataError (after writing ``failures.csv`` and removing the other chunk files) when no basin of
    the chunk succeeded or more than ``max_share`` of them failed."""
    if not basins or not failed:
        return
    share = len(failed) / len(basins)
    if len(failed) < len(basins) and share <= max_share:
        return
    write_failures(output_dir / "failures.csv", failed, stage=STAGE)
    for stale in OUTPUT_FILES[:-1]:
        (output_dir / stale).unlink(missing_ok=True)
    reasons = "; ".join(f"{basin}: {reason}" for basin, reason in list(failed.items())[:QUOTED_REASONS])
    more = f" (and {len(failed) - QUOTED_REASONS} more)" if len(failed) > QUOTED_REASONS else ""
    if len(failed) == len(basins):
        headline = f"no basin of chunk {name} succeeded ({len(failed)} failed)"
    else:
        headline = (f"chunk {name}: {len(failed)} of {len(basins)} basins ({round(100 * share)} %) failed, more "
                    f"than calibration.max_failed_share {max_share:g} allows")
    raise DataError(f"{headline}: {reasons}{more}; all reasons in {output_dir / 'failures.csv'}")


def merge_chunks(chunk_dirs: Sequence[str | Path], output_dir: str | Path) -> Path:
    """Merge the files of a run's chunks into ``output_dir`` (the run folder of contract 2).

    Writes ``predictions.nc`` (via :func:`runoffbench.predictions.merge_predictions`) and the
    concatenated ``parameters.csv``, ``trace.csv`` and ``failures.csv``.
    """
    chunk_dirs, output_dir = [Path(d) for d in chunk_dirs], Path(output_dir)
    merged = merge_predictions((read_predictions(d / "predictions.nc") for d in chunk_dirs),
                               source=f"calibration chunks of {output_dir}")
    write_predictions(merged, output_dir / "predictions.nc")
    for name in OUTPUT_FILES[1:]:
        read = read_failures if name == "failures.csv" else (lambda path: pd.read_csv(path, dtype={"basin": str}))
        tables = [read(d / name) for d in chunk_dirs]
        write_text_atomic(output_dir / name, pd.concat(tables, ignore_index=True).to_csv(index=False))
    return output_dir
