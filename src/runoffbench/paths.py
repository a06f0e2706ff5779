"""Where the stages' files live (docs/architecture.md, contracts 2, 3, 5 and 6), relative to
``results/<experiment>``: one definition that the rules, the CLI and the tests share.

Each pattern is a Snakemake wildcard pattern as it stands (``f"{RESULTS}/{RUN}/predictions.nc"`` in a
rule) and a format string for one run (:func:`run_file`). Light on purpose: every SLURM job re-parses
the Snakefile, which imports this module.
"""

from __future__ import annotations

from pathlib import Path

#: the run folder of one model × forcing × split × member (a seed, or ``ensemble``)
RUN = "runs/{model}/{forcing}/{split}/{member}"
#: the per-basin metrics of one run (contract 3)
METRICS_FILE = "metrics/{model}/{forcing}/{split}/{member}.csv"
#: one analysis of one trained run (contract 6)
ANALYSIS_FILE = "analyses/{analysis}/{model}/{forcing}/{split}/{member}.csv"
#: a calibration run's working folder, and one basin chunk of it (merged into the run folder)
CALIBRATION_RUN = "calibration/{model}/{forcing}/{split}/{member}"
CALIBRATION_CHUNK = CALIBRATION_RUN + "/chunk_{chunk}"


def run_dir(results: str | Path, model: str, forcing: str, split: str, member: str | int) -> Path:
    """``<results>/runs/<model>/<forcing>/<split>/<member>`` (``results`` = ``results/<experiment>``)."""
    return Path(results) / RUN.format(model=model, forcing=forcing, split=split, member=member)


def run_file(results: str | Path, model: str, forcing: str, split: str, member: str | int, name: str) -> Path:
    """A file of a run folder, e.g. ``predictions.nc`` (contract 2) or ``model.pt`` (contract 5)."""
    return run_dir(results, model, forcing, split, member) / name


def prediction_path(results: str | Path, model: str, forcing: str, split: str, member: str | int) -> Path:
    return run_file(results, model, forcing, split, member, "predictions.nc")


def metrics_path(results: str | Path, model: str, forcing: str, split: str, member: str | int) -> Path:
    """``<results>/metrics/<model>/<forcing>/<split>/<member>.csv`` (contract 3)."""
    return Path(results) / METRICS_FILE.format(model=model, forcing=forcing, split=split, member=member)
