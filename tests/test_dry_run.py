"""Dry runs of every configuration: the jobs per rule that `snakemake -n` plans equal the counts the
configuration implies (computed here from the YAML alone, independently of the rules), and the full
531-basin paper configurations parse and plan in under 10 s (each SLURM job re-parses the Snakefile).

The real-data configurations need no data for a dry run: download_camels is the first job of the DAG.
"""

from __future__ import annotations

import functools
import math
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from runoffbench.analysis.registry import ANALYSIS_KINDS
from runoffbench.experiment import expand_models
from runoffbench.outputs import KINDS, kind_of
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "config" / "config.yaml"
CONFIGS = [DEFAULT, *sorted((REPO / "config" / "experiments").glob("*.yaml"))]
#: figures made by the data stage (analysis.smk) from the water-balance table; every other configured
#: figure is an evaluation figure (evaluation_figure rule)
DATA_FIGURES = {"basin_map", "precip_bias_by_huc"}
PARSE_SECONDS = 10

STATS = re.compile(r"^Job stats:\njob\s+count\n[- ]+\n((?:\S+\s+\d+\n)+)", re.MULTILINE)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A clean copy (no data, no results), so every job of every configuration is planned."""
    return copy_workflow(tmp_path_factory.mktemp("dry_run"))


@functools.cache
def dry_run(workdir: Path, config: Path) -> tuple[Counter, float]:
    """Jobs per rule of `snakemake -n` with this configuration, and the wall time it took (once per
    configuration and test session)."""
    args = [] if config == DEFAULT else ["--configfile", str(config)]
    start = time.monotonic()
    result = subprocess.run(
        ["snakemake", "-n", "--quiet", "rules", "--cores", "1", *args],
        cwd=workdir, capture_output=True, text=True, timeout=120,
    )
    seconds = time.monotonic() - start
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    match = STATS.search(output)
    assert match, f"no job stats in:\n{output[-3000:]}"
    counts = Counter({rule: int(n) for rule, n in re.findall(r"^(\S+)\s+(\d+)$", match.group(1), re.MULTILINE)})
    total = counts.pop("total")
    assert total == sum(counts.values())
    return counts, seconds


def expected_jobs(config: dict) -> Counter:
    """Jobs per rule of a run from nothing, from the configuration (with the schema's defaults)."""
    dataset = config["dataset"]
    forcings = dataset["forcings"]
    splits = list(config["splits"])
    models = expand_models(config.get("models", {}))  # a sweep: one model entry per combination
    figures = set(config.get("figures", {}))
    jobs = Counter(all=1, build_cache=len(forcings), build_attributes_cache=1, water_balance=1, basin_map=1)
    if dataset["name"] == "synthetic":
        jobs["synthesize_dataset"] = 1
    else:
        jobs["download_camels"] = 1
    if len(forcings) > 1:  # a forcing to compare with the reference
        jobs["precip_bias_by_huc"] = 1

    members = {}  # (model, forcing, split) -> members: the prediction runs
    n_chunks = config.get("calibration", {}).get("n_chunks", 1)
    for name, spec in models.items():
        kind = spec["kind"]
        if kind == "nn":  # model x forcing x split x seed
            runs = {(f, s): spec.get("seeds", [0]) for f in spec.get("forcings", forcings)
                    for s in spec.get("splits", splits)}
            jobs["train"] += sum(len(m) for m in runs.values())
        elif kind == "conceptual":  # model x forcing x split, each in n_chunks basin chunks
            runs = {(f, s): [config["calibration"].get("seed", 0)] for f in forcings for s in splits}
            jobs["calibrate"] += n_chunks * len(runs)
            jobs["merge_calibration"] += len(runs)
        elif kind == "baseline":
            runs = {(f, s): spec.get("members", [0])
                    for f in spec.get("forcings", forcings) for s in spec.get("splits", splits)}
            jobs["baseline"] += sum(len(m) for m in runs.values())
        elif kind == "external":
            runs = {(spec["forcing"], s): [0] for s in spec.get("splits", splits)}
            jobs["import_simulation"] += len(runs)
        else:
            raise AssertionError(f"unknown model kind {kind}")
        members.update({(name, *run): m for run, m in runs.items()})
    for analysis in (config.get("analyses") or {}).values():  # one job per run of an analysed nn model
        analysed = analysis.get("models") or [n for n, spec in models.items() if spec["kind"] == "nn"]
        analysed = [run for m in analysed for run in ([m] if m in models else  # a swept entry: all its runs
                                                     [r for r, spec in models.items() if spec.get("base_model") == m])]
        chosen = set(analysis.get("members") or [])  # the seeds analysed (default all)
        jobs["analyse"] += sum(len([s for s in models[m].get("seeds", [0]) if not chosen or s in chosen])
                               * len(forcings) * len(splits) for m in analysed)
        jobs["analysis_table"] += 1
        kind = ANALYSIS_KINDS[analysis["kind"]]  # its experiment-level step, figures and formatted tables
        jobs[f"analysis_summary_{kind.name}"] += int(bool(kind.products))
        jobs["analysis_figure"] += sum(not use.suffix for use in kind.figures)
        jobs["analysis_extra_figure"] += sum(bool(use.suffix) for use in kind.figures)
        jobs["analysis_output_table"] += len(kind.tables)
    # the CAMELS benchmark release, downloaded once into each configured folder (none exists in a clean copy)
    jobs["download_camels_benchmarks"] = len({spec["path"] for spec in models.values()
                                              if spec.get("format") == "camels_benchmark"})
    if members:
        ensembles = sum(len(m) > 1 for m in members.values())
        jobs["ensemble"] = ensembles
        jobs["evaluate"] = sum(len(m) for m in members.values()) + ensembles  # every member and ensemble
        jobs["collect_metrics"] = 1
        jobs["evaluation_table"] = len(set(config.get("tables", {})) - {"water_balance", "run_summary", "failures"})
        jobs["failures_table"] = 1  # always: the basins the runs left out (runoffbench.failures)
        jobs["run_summary"] = int("run_summary" in config.get("tables", {}))
        jobs["evaluation_figure"] = len(figures - DATA_FIGURES)
        if any(KINDS[kind_of("figures", f, e)].reads == "hydrographs" for f, e in config.get("figures", {}).items()):
            jobs["hydrograph_table"] = 1
        # the tables of outputs no model is trained on (Feng et al. 2022), when a listed kind reads them
        import runoffbench.outputs as registry

        reads = {registry.KINDS[registry.kind_of(section, i, e)].reads for section in ("tables", "figures")
                 for i, e in (config.get(section) or {}).items() if registry.kind_of(section, i, e) in registry.KINDS}
        jobs["process_table"], jobs["series_table"] = int("process" in reads), int("series" in reads)
    return +jobs  # without zero counts


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_dry_run_plans_the_jobs_the_configuration_implies(workdir, config):
    raw = yaml.safe_load(config.read_text())
    counts, seconds = dry_run(workdir, config)
    assert counts == expected_jobs(raw)
    print(f"{config.name}: {sum(counts.values())} jobs planned in {seconds:.1f} s: {dict(counts)}")


@pytest.mark.parametrize("config", CONFIGS[1:], ids=[c.stem for c in CONFIGS[1:]])
def test_full_paper_configuration_parses_fast_and_submits_hundreds_of_jobs(workdir, config):
    raw = yaml.safe_load(config.read_text())
    if raw["dataset"].get("basin_list") != "531":
        pytest.skip(f"{config.name} is not a 531-basin configuration")
    counts, seconds = dry_run(workdir, config)
    assert seconds < PARSE_SECONDS, f"snakemake -n with {config.name} took {seconds:.1f} s"
    # calibration is chunked: one calibrate job per model x forcing x split x chunk of basins, not per basin
    n_chunks = raw.get("calibration", {}).get("n_chunks", 1)
    conceptual = [m for m, spec in expand_models(raw.get("models", {})).items() if spec["kind"] == "conceptual"]
    runs = len(conceptual) * len(raw["dataset"]["forcings"]) * len(raw["splits"])
    assert counts["calibrate"] == n_chunks * runs < 531 * runs or not runs
    assert sum(counts.values()) < 1000, f"{config.name} plans {sum(counts.values())} jobs"
    chunking = f", {math.ceil(531 / n_chunks)} basins per calibrate job" if runs else ""
    print(f"{config.name}: {sum(counts.values())} jobs{chunking}, planned in {seconds:.1f} s")


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_every_reported_output_has_a_caption(config):
    """The report captions (workflow/report/caption.rst) come from `figures:`/`tables:`: every table and
    figure a configuration always makes needs an entry there (evaluation tables and figures are made only
    when listed, so they have one by construction)."""
    raw = yaml.safe_load(config.read_text())
    tables = ["water_balance"]  # evaluation tables are made only when listed, like evaluation figures
    if raw.get("models"):
        tables.append("failures")  # but the failures table always is
    figures = ["basin_map"] + (["precip_bias_by_huc"] if len(raw["dataset"]["forcings"]) > 1 else [])
    for kind, ids in (("tables", tables), ("figures", figures)):
        for output_id in ids:
            entry = raw.get(kind, {}).get(output_id) or {}
            assert entry.get("caption"), f"{config.name}: no caption under {kind}: {output_id}:"
    for kind in ("tables", "figures"):
        for output_id, entry in raw.get(kind, {}).items():
            assert set(entry) >= {"caption", "paper"}, f"{config.name}: {kind}: {output_id}: needs caption and paper"
