"""End-to-end: the default configuration through Snakemake in a temporary copy of the workflow."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from runoffbench.analysis.registry import ANALYSIS_KINDS, figure_names, report_text, table_names
from runoffbench.outputs import KINDS
from runoffbench.paths import prediction_path
from runoffbench.predictions import read_predictions

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def copy_workflow(destination: Path) -> Path:
    """The files a user's clone needs to run the workflow (not results or data)."""
    for folder in ("config", "workflow", "envs"):
        shutil.copytree(REPO / folder, destination / folder)
    shutil.copy(REPO / "Snakefile", destination)
    for link in ("profiles", "slurm"):  # the default workflow profile and the SLURM profile's short name
        (destination / link).symlink_to((REPO / link).readlink())
    return destination


def run_to_completion(workdir: Path) -> Path:
    """README's command in ``workdir``, which must succeed; returns ``workdir``."""
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["snakemake", "--cores", "2", *args], cwd=workdir, capture_output=True, text=True, timeout=timeout
    )


def test_default_run_writes_caches_table_and_figures(default_run):
    cache = default_run / "data" / "cache" / "synthetic"
    for forcing in ("daymet", "nldas_extended"):
        with xr.open_dataset(cache / f"{forcing}.nc") as dataset:
            assert dataset.sizes["basin"] == 24
            assert dataset.attrs["forcing"] == forcing
    assert (cache / "attributes.nc").is_file()
    table = pd.read_csv(default_run / "results" / "default" / "tables" / "water_balance.csv", dtype={"basin": str})
    assert len(table) == 48 and table["basin"].str.len().eq(8).all()
    for figure in ("basin_map", "precip_bias_by_huc"):
        for suffix in ("pdf", "png"):
            assert (default_run / "results" / "default" / "figures" / f"{figure}.{suffix}").stat().st_size > 10_000


def configured_runs(config: dict):
    """(model, forcing, member) of every run the configuration asks for, ensembles included."""
    from runoffbench.experiment import expand_models

    forcings = config["dataset"]["forcings"]
    for model, spec in expand_models(config["models"]).items():
        members = spec.get("seeds") or spec.get("members") or [0]
        for forcing in [spec["forcing"]] if "forcing" in spec else spec.get("forcings", forcings):
            for member in [*members, *(["ensemble"] if len(members) > 1 else [])]:
                yield model, forcing, str(member)


def test_default_run_writes_every_configured_model_table_and_figure(default_run):
    config = yaml.safe_load((default_run / "config" / "config.yaml").read_text())
    results = default_run / "results" / "default"
    runs = list(configured_runs(config))
    assert {model.partition("@")[0] for model, _, _ in runs} >= {"lstm", "ealstm", "mclstm", "dhbv", "dexphydro",
                                                                  "sacsma", "exphydro"}
    for model, forcing, member in runs:
        path = prediction_path(results, model, forcing, "kratzert2019", member)
        with read_predictions(path) as predictions:
            assert predictions.sizes["basin"] == 24, path
            assert predictions.attrs["model"] == model and predictions.attrs["member"] == member, path
            assert float(np.isfinite(predictions["qsim"]).mean()) > 0.99, path
    metrics = pd.read_csv(results / "tables" / "metrics.csv", dtype={"basin": str, "member": str})
    scored = set(metrics[["model", "forcing", "member"]].itertuples(index=False, name=None))
    assert scored == set(runs)
    for table in config["tables"]:
        if table == "failures":  # the basins the runs left out: none on the default data, a header only
            failures = pd.read_csv(results / "tables" / "failures.csv", dtype=str)
            assert list(failures.columns) == ["model", "forcing", "split", "member", "basin", "stage", "reason"]
            assert "No basin was left out" in (results / "tables" / "failures.md").read_text()
            continue
        assert (results / "tables" / f"{table}.csv").stat().st_size > 100, table
    for figure in config["figures"]:
        for suffix in ("pdf", "png"):
            assert (results / "figures" / f"{figure}.{suffix}").stat().st_size > 10_000, figure


def test_the_default_run_is_a_fair_camels_like_benchmark(default_run):
    """On the embedded data the ranking is not decided by the generator's structure (issue 10): the
    attributes explain behaviour, so the LSTM with attributes beats the one without (Kratzert et al.
    2019), and calibrated EXP-HYDRO, one of the three truth structures, no longer scores NSE ~0.99."""
    metrics = pd.read_csv(default_run / "results" / "default" / "tables" / "metrics.csv",
                          dtype={"basin": str, "member": str})
    ensembles = metrics[metrics["member"] == "ensemble"]
    median = ensembles.groupby(["model", "forcing"])["NSE"].median()
    for forcing in ("daymet", "nldas_extended"):
        assert median["lstm", forcing] > median["lstm_no_static", forcing] + 0.03, median
    single = metrics[metrics["model"] == "exphydro"].groupby("forcing")["NSE"].median()
    assert (single < 0.9).all(), single


def test_the_ealstm_is_about_as_good_as_the_lstm_with_attributes(default_run):
    """Kratzert et al. 2019 (Table 2, Sect. 3.1) on the embedded data, whose attributes drive the generator's
    parameters: the EA-LSTM, whose input gate the attributes alone set, is about as good as the LSTM with the
    attributes concatenated (ensemble median NSE within 0.06) and, like it, better than the LSTM without
    them; per basin (the mean over the seeds) it beats the LSTM without attributes in most basins."""
    metrics = pd.read_csv(default_run / "results" / "default" / "tables" / "metrics.csv",
                          dtype={"basin": str, "member": str})
    median = metrics[metrics["member"] == "ensemble"].groupby(["model", "forcing"])["NSE"].median()
    seed_mean = metrics[metrics["member"] != "ensemble"].groupby(["model", "forcing", "basin"])["NSE"].mean()
    for forcing in ("daymet", "nldas_extended"):
        assert median["ealstm", forcing] > median["lstm_no_static", forcing] + 0.03, median
        assert abs(median["ealstm", forcing] - median["lstm", forcing]) < 0.06, median
        wins = (seed_mean["ealstm", forcing] > seed_mean["lstm_no_static", forcing]).mean()
        assert wins > 0.5, (forcing, wins)


def test_rules_log_to_their_log_files(default_run):
    logs = default_run / "results" / "logs" / "synthetic"
    assert (logs / "build_cache_daymet.log").read_text().count("writing") == 1
    assert (logs / "build_cache_daymet.benchmark.tsv").is_file()


def test_second_run_has_nothing_to_do(default_run):
    result = snakemake(default_run, "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def report_variable(page: str, name: str):
    """The JSON value of `var <name> = ...` in Snakemake's report.html."""
    start = page.index(f"var {name} = {{") + len(f"var {name} = ")
    return json.JSONDecoder().raw_decode(page, start)[0]


def test_report_holds_every_configured_figure_and_table_with_its_caption(default_run):
    result = snakemake(default_run, "--report", "results/report.zip")
    assert result.returncode == 0, result.stderr[-5000:]
    config = yaml.safe_load((default_run / "config" / "config.yaml").read_text())
    with zipfile.ZipFile(default_run / "results" / "report.zip") as archive:
        page = archive.read("report/report.html").decode()
        files = {Path(name).name for name in archive.namelist()}
    categories, results = report_variable(page, "categories"), report_variable(page, "results")
    # the analyses' figures and tables, their caption and paper from the analyses: entry (per kind they show)
    analysed = {}
    for name, spec in (config.get("analyses") or {}).items():
        analysis = ANALYSIS_KINDS[spec["kind"]]
        for section, names, uses in (("figures", figure_names(name, analysis), analysis.figures),
                                     ("tables", table_names(name, analysis), analysis.tables)):
            for output_id, use in zip(names, uses, strict=True):
                analysed[section, output_id] = {"plot" if section == "figures" else "table": use.kind,
                                                "caption": report_text(spec, "caption", use.kind),
                                                "paper": report_text(spec, "paper", use.kind)}
    # grouped by experiment, then figures (png) and tables (csv): exactly the configured ones
    expected = {
        "figures": sorted(f"results/default/figures/{figure}.png"
                          for figure in [*config["figures"], *(i for s, i in analysed if s == "figures")]),
        "tables": sorted(f"results/default/tables/{table}.csv"
                         for table in [*config["tables"], *(i for s, i in analysed if s == "tables")]),
    }
    assert {kind: sorted(paths) for kind, paths in categories["default"].items()} == expected
    assert list(categories) == ["default"]
    for kind, paths in expected.items():
        for path in paths:
            output_id = Path(path).stem
            entry = analysed.get((kind, output_id)) or config[kind][output_id]
            assert Path(path).name in files, f"{path} is not in the report"
            record = results[path]
            registered = KINDS.get(entry.get("plot" if kind == "figures" else "table", output_id))
            described = f"{registered.name}: {registered.description}" if registered else "-"  # water_balance...
            assert record["labels"] == {kind[:-1]: output_id, "kind": described, "paper": entry["paper"] or "-"}
            assert html.escape(" ".join(entry["caption"].split()), quote=False) in record["caption"], path
            if entry["paper"]:
                assert f"<strong>Reproduces:</strong> {html.escape(entry['paper'], quote=False)}." in record["caption"]
            else:
                assert "Reproduces" not in record["caption"]


def test_lint_is_clean():
    result = subprocess.run(["snakemake", "--lint"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
