# Settings and helpers of the evaluation rules (evaluation.smk), derived from the validated config.
import re

import runoffbench.outputs as outputs_registry

EVALUATION = config.get("evaluation", {})
EVALUATION_SPLIT = EVALUATION.get("split") or SPLITS[0]
#: the basins the tables and the metric figures cover (runoffbench.evaluation.collect.BASIN_SETS)
EVALUATION_BASINS = EVALUATION.get("basins", "all")
METRICS_ARG = " ".join(EVALUATION.get("metrics", ["all"]))

def evaluation_runs():
    """{(model, forcing, split): [members]} of every model whose kind has a producing rule."""
    found = {}
    for name, spec in MODELS.items():
        producer = MODEL_RUNS.get(spec["kind"])
        if producer is None:
            continue  # e.g. a kind without a producing rule yet, so nothing writes its predictions
        for forcing, split, members in producer(name, spec):
            found[(name, forcing, split)] = [str(m) for m in members]
    return found


RUNS = evaluation_runs()
ENSEMBLE_RUNS = {run: members for run, members in RUNS.items() if len(members) > 1}
EVALUATED_MODELS = sorted({model for model, _, _ in RUNS})


def metrics_files():
    files = [run_path(METRICS_FILE, m, f, s, member) for (m, f, s), members in RUNS.items() for member in members]
    files += [run_path(METRICS_FILE, m, f, s, "ensemble") for (m, f, s) in ENSEMBLE_RUNS]
    return files


#: model kinds whose rules write failures.csv beside predictions.nc (runoffbench.failures: train, calibrate via
#: merge_calibration, baseline); an imported external simulation has none
FAILURE_KINDS = ("nn", "conceptual", "baseline")


def failure_files():
    """failures.csv of every member run of a kind that writes one (the failures table's input)."""
    return [run_path(f"{RUN}/failures.csv", m, f, s, member) for (m, f, s), members in RUNS.items()
            if MODELS[m]["kind"] in FAILURE_KINDS for member in members]


def expected_runs_arg():
    """--expected-runs of the tables: every model/forcing configured in the evaluation split (a table built
    from fewer says which are missing)."""
    expected = [f"{m}/{f}" for (m, f, s) in RUNS if s == EVALUATION_SPLIT]
    return "--expected-runs " + " ".join(expected) if expected else ""


def hydrograph_predictions():
    """Every member (and ensemble) of the evaluation split in the hydrograph forcing."""
    forcing = EVALUATION.get("hydrographs", {}).get("forcing", REFERENCE_FORCING)
    paths = []
    for (model, run_forcing, split), members in RUNS.items():
        if run_forcing == forcing and split == EVALUATION_SPLIT:
            names = members + (["ensemble"] if (model, run_forcing, split) in ENSEMBLE_RUNS else [])
            paths += [run_path(f"{RUN}/predictions.nc", model, forcing, split, m) for m in names]
    return paths


def output_entry(section, output_id):
    """The config entry `section.<output_id>` (tables or figures), {} when it is empty."""
    return config.get(section, {}).get(output_id) or {}


def _output_defaults():
    """What an output entry falls back to (runoffbench.outputs: Option.fallback): the evaluation section,
    resolved (its split, its basins as a filter list, the hydrograph table's forcing)."""
    hydrographs = EVALUATION.get("hydrographs", {})
    return {**EVALUATION, "split": EVALUATION_SPLIT, "basins": _basin_filters(EVALUATION_BASINS),
            "hydrograph_forcing": hydrographs.get("forcing", REFERENCE_FORCING)}


def _basin_filters(basins):
    """Basin filters with `list:NAME` resolved to the dataset's basin-list file."""
    tokens = basins if isinstance(basins, list) else [basins]
    return [f"file:{ROOT}/basin_lists/{t[5:]}_basin_list.txt" if str(t).startswith("list:") else t for t in tokens]


def output_kind_name(section, output_id):
    """The registered kind (runoffbench.outputs.KINDS) an output id builds: its `plot:`/`table:`, else the id."""
    return outputs_registry.kind_of(section, output_id, output_entry(section, output_id))


def output_options(section, output_id):
    """The flags of `runoffbench figure|table <kind>` of an output entry, from the output registry."""
    entry = dict(output_entry(section, output_id))
    if "basins" in entry:
        entry["basins"] = _basin_filters(entry["basins"])
    return outputs_registry.command_line(section, output_id, entry, _output_defaults())


def requested_outputs(section):
    """Output ids listed under `section` whose kind is drawn from the model runs (the metrics or hydrograph
    table) or the dataset's attributes, less those whose required models (a baseline, a pair) have no runs."""
    wanted = []
    for output_id, entry in (config.get(section) or {}).items():
        if outputs_registry.builds_by_own_command(section, output_id, entry):
            continue  # water_balance (analysis.smk), run_summary (below)
        kind = outputs_registry.output_kind(output_kind_name(section, output_id), section)
        if kind.reads in PROCESS_TABLES:  # tables/process.csv, tables/series.csv: built from the runs below
            if set(outputs_registry.required_models(section, output_id, entry, _output_defaults())) <= set(EVALUATED_MODELS):
                wanted.append(output_id)
            continue
        if kind.reads not in ("metrics", "hydrographs", "attributes"):
            continue  # a data figure (analysis.smk), an analysis's figure, the failures table
        needed = outputs_registry.required_models(section, output_id, entry, _output_defaults())
        if set(needed) <= set(EVALUATED_MODELS):
            wanted.append(output_id)
    return wanted


def requested_tables():
    """Evaluation table ids listed under `tables`; run_summary has a rule of its own."""
    listed = config.get("tables", {})
    return requested_outputs("tables") + (["run_summary"] if "run_summary" in listed else [])


#: tables built from the runs' predictions for kinds of outputs no model is trained on (Feng et al. 2022):
#: tables/process.csv (rule process_table) and tables/series.csv (rule series_table)
PROCESS_TABLES = ("process", "series")


def evaluation_table_input(wildcards):
    """The table a table kind reads: the metrics table, or tables/process.csv (runoffbench.evaluation.process)."""
    kind = outputs_registry.output_kind(output_kind_name("tables", wildcards.table), "tables")
    return f"{RESULTS}/tables/{kind.reads}.csv" if kind.reads in PROCESS_TABLES else f"{RESULTS}/tables/metrics.csv"


def all_run_predictions():
    """Every member and ensemble of every run, all splits (the process table's input)."""
    return [
        run_path(f"{RUN}/predictions.nc", model, forcing, split, member)
        for (model, forcing, split), members in RUNS.items()
        for member in members + (["ensemble"] if (model, forcing, split) in ENSEMBLE_RUNS else [])
    ]


def process_table_options(wildcards=None):
    """--modis-et and its options of the process table (evaluation.modis_et), or nothing."""
    modis = EVALUATION.get("modis_et")
    if not modis:
        return ""
    return (f"--modis-et {shlex.quote(modis['path'])} --modis-scale {modis.get('scale', 0.1)} "
            f"--modis-missing-basins {modis.get('missing_basins', 'error')}")


def modis_input(wildcards=None):
    """The MODIS folder as an input when it exists (its changes then rebuild the table); a missing one stops
    the process_table job with its path named (runoffbench.data.modis_et), not the dry run."""
    modis = EVALUATION.get("modis_et")
    return [modis["path"]] if modis and Path(modis["path"]).exists() else []


#: evaluation.series: the basins near a model's median NSE of the series table
SERIES = EVALUATION.get("series") or {}
SERIES_FORCING = SERIES.get("forcing") or EVALUATION.get("hydrographs", {}).get("forcing") or REFERENCE_FORCING


def series_predictions(wildcards=None):
    """Per model of the evaluation split in the series forcing: its first member and its ensemble."""
    paths = []
    for (model, forcing, split), members in RUNS.items():
        if forcing == SERIES_FORCING and split == EVALUATION_SPLIT:
            names = members[:1] + (["ensemble"] if (model, forcing, split) in ENSEMBLE_RUNS else [])
            paths += [run_path(f"{RUN}/predictions.nc", model, forcing, split, m) for m in names]
    return paths


def series_table_options(wildcards=None):
    if SERIES.get("basins"):
        return "--basins " + " ".join(SERIES["basins"])
    reference = f"--reference {shlex.quote(SERIES['reference'])} " if SERIES.get("reference") else ""
    return f"{reference}--count {SERIES.get('count', 3)}"


def evaluation_figure_input(wildcards):
    """The table a figure is drawn from: the hydrograph table, the metrics table or the dataset's attributes."""
    kind = outputs_registry.output_kind(output_kind_name("figures", wildcards.figure), "figures")
    if kind.reads == "attributes":
        return f"{CACHE}/attributes.nc"
    return f"{RESULTS}/tables/{kind.reads}.csv"


def evaluation_split_predictions():
    """Every member and ensemble of every model and forcing in the evaluation split (the run summary's input)."""
    return [
        run_path(f"{RUN}/predictions.nc", model, forcing, split, member)
        for (model, forcing, split), members in RUNS.items()
        if split == EVALUATION_SPLIT
        for member in members + (["ensemble"] if (model, forcing, split) in ENSEMBLE_RUNS else [])
    ]


def evaluation_outputs():
    """Tables and figures of the evaluation; the failures table always (the basins the runs left out)."""
    if not RUNS:
        return []
    tables = requested_tables() + ["failures"]
    outputs = expand(f"{RESULTS}/tables/{{table}}.{{ext}}", table=tables, ext=["csv", "md", "tex"])
    outputs += expand(f"{RESULTS}/figures/{{figure}}.{{ext}}", figure=requested_outputs("figures"), ext=["pdf", "png"])
    return outputs


def stale_evaluation_outputs():
    """Tables and figures of the evaluation (evaluation_outputs) that exist but predate, or lack, one of the
    run files they are built from: left from an earlier invocation while this one failed (with or without
    --keep-going), they would look current. The onerror handler (evaluation.smk) removes them."""
    from runoffbench.evaluation.collect import stale_outputs

    inputs = [run_path(f"{RUN}/predictions.nc", m, f, s, member) for (m, f, s), members in RUNS.items()
              for member in members]
    inputs += failure_files() + metrics_files() + [f"{RESULTS}/tables/metrics.csv"]
    return stale_outputs(evaluation_outputs(), inputs)


def remove_stale_results():
    """After a failed invocation (the onerror handler of evaluation.smk): remove every table and figure
    (contract 4) that Snakemake had to rebuild but did not (a job of it or upstream failed, e.g. with
    --keep-going), and every evaluation output older than one of its run files, each named in the log:
    what is left in tables/ and figures/ matches the runs it was built from."""
    import logging

    shown = (f"{RESULTS}/tables/", f"{RESULTS}/figures/")
    stale = set()
    try:
        pending = list(workflow.dag.needrun_jobs())  # jobs that had to run and did not finish
    except AttributeError:  # no DAG (or another Snakemake API): the modification times below still apply
        pending = []
    for job in pending:
        stale |= {Path(f) for f in job.output if str(f).startswith(shown) and Path(f).exists()}
    stale |= set(stale_evaluation_outputs())
    for path in sorted(stale):
        path.unlink(missing_ok=True)
        logging.getLogger("snakemake").warning(
            f"removed {path}: it predates the failed jobs of its runs and would no longer match them; it is "
            "rebuilt once they complete")
