# Settings and helpers of the evaluation rules (evaluation.smk), derived from the validated config.
import re

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


def figure_kind(figure):
    """The registered figure a figure id draws: its `plot:`, by default the id itself."""
    return output_entry("figures", figure).get("plot", figure)


def table_kind(table):
    """The table kind a table id builds: its `table:`, by default the id itself."""
    return output_entry("tables", table).get("table", table)


def table_reference(table):
    """--reference of a table (the model others are tested against): its `baseline`, else evaluation.baseline_model."""
    reference = output_entry("tables", table).get("baseline", EVALUATION.get("baseline_model"))
    return f"--reference {reference}" if reference in EVALUATED_MODELS else ""


def output_scope(section, output_id):
    """--split and --basins of a table or figure: its own, else the `evaluation` section's."""
    entry = output_entry(section, output_id)
    return f"--split {entry.get('split', EVALUATION_SPLIT)} --basins {entry.get('basins', EVALUATION_BASINS)}"


def figure_options(figure):
    """CLI options of an evaluation figure: its kind's, from its entry or the `evaluation` section."""
    kind, entry = figure_kind(figure), output_entry("figures", figure)
    if kind == "hydrographs":
        return f"--forcing {EVALUATION.get('hydrographs', {}).get('forcing', REFERENCE_FORCING)}"
    options = [output_scope("figures", figure)]
    if kind == "kge_skill_cdf":
        options.append(f"--baseline {entry.get('baseline', EVALUATION.get('baseline_model'))}")
    if kind == "kge_difference_cdf":
        options.append("--models " + " ".join(entry.get("models", EVALUATION.get("kge_difference", []))))
    if kind == "mass_bias_by_huc":
        options.append(f"--min-basins {entry.get('min_basins', EVALUATION.get('min_basins_per_region', 3))}")
        regions = entry.get("exclude_regions", EVALUATION.get("exclude_regions"))
        if regions:
            options.append("--exclude-regions " + " ".join(regions))
    return " ".join(options)


#: tables of `runoffbench table` (runoffbench.evaluation.tables.TABLES), built when listed under `tables:`
EVALUATION_TABLES = ["median_metrics", "single_vs_ensemble", "benchmark", "comparison"]
EVALUATION_FIGURES = ["nse_cdf", "kge_cdf", "mass_bias_cdf", "mass_bias_map", "mass_bias_by_huc",
                      "mutual_information_cdf", "kge_skill_cdf", "kge_difference_cdf", "hydrographs"]


def requested_figures():
    """Evaluation figure ids listed under `figures` (a kind of EVALUATION_FIGURES), less those whose models
    have no runs."""
    wanted = []
    for figure in config.get("figures", {}):
        kind, entry = figure_kind(figure), output_entry("figures", figure)
        if kind not in EVALUATION_FIGURES:
            continue  # a data figure (analysis.smk)
        if kind == "kge_skill_cdf":
            baseline = entry.get("baseline", EVALUATION.get("baseline_model"))
            if baseline not in MODELS:
                raise ValueError(f"config key figures.{figure}: the KGE skill score's baseline {baseline!r} is "
                                 f"not a model of the config; models: {sorted(MODELS)}")
            if baseline not in EVALUATED_MODELS:
                continue  # listed, but no rule writes its runs
        if kind == "kge_difference_cdf":
            pair = entry.get("models", EVALUATION.get("kge_difference", []))
            if not (pair and set(pair) <= set(EVALUATED_MODELS)):
                continue  # Frame Fig. 7 needs both models (e.g. MC-LSTM and LSTM)
        wanted.append(figure)
    return wanted


def requested_tables():
    """Evaluation table ids listed under `tables` (a kind of EVALUATION_TABLES; run_summary has a rule of its own)."""
    listed = config.get("tables", {})
    return [t for t in listed if table_kind(t) in EVALUATION_TABLES] + (["run_summary"] if "run_summary" in listed else [])


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
    outputs += expand(f"{RESULTS}/figures/{{figure}}.{{ext}}", figure=requested_figures(), ext=["pdf", "png"])
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
