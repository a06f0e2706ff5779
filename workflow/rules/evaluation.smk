# Predictions (contract 2) -> per-basin metrics (contract 3) -> ensemble, long tables, the papers'
# tables and figures (contract 4). Which runs exist comes from the config's `models` through MODEL_RUNS
# (common.smk); models of a kind without a producing rule are skipped (see evaluation_runs).

EVALUATION = config.get("evaluation", {})
EVALUATION_SPLIT = EVALUATION.get("split") or SPLITS[0]
METRICS_ARG = " ".join(EVALUATION.get("metrics", ["all"]))

if "CONCEPTUAL_MODELS" in globals():  # calibration.smk: one run per forcing x split, member = the seed
    MODEL_RUNS.setdefault(
        "conceptual",
        lambda name, spec: [(f, s, [config.get("calibration", {}).get("seed", 0)]) for f in FORCINGS for s in SPLITS],
    )


def evaluation_runs():
    """{(model, forcing, split): [members]} of every model whose kind has a producing rule."""
    found = {}
    for name, spec in MODELS.items():
        producer = MODEL_RUNS.get(spec["kind"])
        if producer is None:
            continue  # e.g. kind nn before the training rule exists: nothing can write its predictions
        for forcing, split, members in producer(name, spec):
            found[(name, forcing, split)] = [str(m) for m in members]
    return found


RUNS = evaluation_runs()
ENSEMBLE_RUNS = {run: members for run, members in RUNS.items() if len(members) > 1}
EVALUATED_MODELS = sorted({model for model, _, _ in RUNS})


def metrics_files():
    files = [f"{RESULTS}/metrics/{m}/{f}/{s}/{member}.csv" for (m, f, s), members in RUNS.items() for member in members]
    files += [f"{RESULTS}/metrics/{m}/{f}/{s}/ensemble.csv" for (m, f, s) in ENSEMBLE_RUNS]
    return files


def hydrograph_predictions():
    """Every member (and ensemble) of the evaluation split in the hydrograph forcing."""
    forcing = EVALUATION.get("hydrographs", {}).get("forcing", REFERENCE_FORCING)
    paths = []
    for (model, run_forcing, split), members in RUNS.items():
        if run_forcing == forcing and split == EVALUATION_SPLIT:
            names = members + (["ensemble"] if (model, run_forcing, split) in ENSEMBLE_RUNS else [])
            paths += [f"{RESULTS}/runs/{model}/{forcing}/{split}/{m}/predictions.nc" for m in names]
    return paths


def figure_options(figure):
    """CLI options of an evaluation figure from the `evaluation` config section."""
    options = [f"--split {EVALUATION_SPLIT}"]
    if figure == "kge_skill_cdf":
        options.append(f"--baseline {EVALUATION['baseline_model']}")
    if figure == "kge_difference_cdf":
        options.append("--models " + " ".join(EVALUATION["kge_difference"]))
    if figure == "mass_bias_by_huc":
        options.append(f"--min-basins {EVALUATION.get('min_basins_per_region', 3)}")
    if figure == "hydrographs":
        options = [f"--forcing {EVALUATION.get('hydrographs', {}).get('forcing', REFERENCE_FORCING)}"]
    return " ".join(options)


EVALUATION_TABLES = ["median_metrics", "single_vs_ensemble", "benchmark"]
EVALUATION_FIGURES = ["nse_cdf", "kge_cdf", "mass_bias_cdf", "mass_bias_map", "mass_bias_by_huc",
                      "mutual_information_cdf", "kge_skill_cdf", "kge_difference_cdf", "hydrographs"]


def requested_figures():
    """Evaluation figures listed under the config's `figures`, less those whose models have no runs."""
    wanted = [f for f in EVALUATION_FIGURES if f in config.get("figures", {})]
    baseline = EVALUATION.get("baseline_model")
    if "kge_skill_cdf" in wanted and baseline not in MODELS:
        raise ValueError(f"config key evaluation.baseline_model: {baseline!r} (the KGE skill score's baseline) "
                         f"is not a model of the config; models: {sorted(MODELS)}")
    if "kge_skill_cdf" in wanted and baseline not in EVALUATED_MODELS:
        wanted.remove("kge_skill_cdf")  # listed, but no rule writes its runs yet (e.g. the LSTM, kind nn)
    pair = EVALUATION.get("kge_difference", [])
    if "kge_difference_cdf" in wanted and not (pair and set(pair) <= set(EVALUATED_MODELS)):
        wanted.remove("kge_difference_cdf")  # Frame Fig. 7 needs both models (e.g. MC-LSTM and LSTM)
    return wanted


rule evaluate:
    input:
        predictions=f"{RESULTS}/runs/{{model}}/{{forcing}}/{{split}}/{{member}}/predictions.nc",
        cache=f"{CACHE}/{{forcing}}.nc",
    output:
        f"{RESULTS}/metrics/{{model}}/{{forcing}}/{{split}}/{{member}}.csv",
    wildcard_constraints:
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member=r"\d+|ensemble",
    params:
        metrics=METRICS_ARG,
        periods=split_periods,
    log:
        f"{RESULTS}/logs/metrics/{{model}}/{{forcing}}/{{split}}/{{member}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench evaluate --predictions {input.predictions} --cache {input.cache} --split {wildcards.split} "
        "{params.periods} --metrics {params.metrics} --output {output} > {log} 2>&1"


rule ensemble:
    input:
        lambda wildcards: [
            f"{RESULTS}/runs/{wildcards.model}/{wildcards.forcing}/{wildcards.split}/{m}/predictions.nc"
            for m in ENSEMBLE_RUNS[(wildcards.model, wildcards.forcing, wildcards.split)]
        ],
    output:
        f"{RESULTS}/runs/{{model}}/{{forcing}}/{{split}}/ensemble/predictions.nc",
    wildcard_constraints:
        model="|".join(sorted({m for m, _, _ in ENSEMBLE_RUNS})) or "^$",
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
    log:
        f"{RESULTS}/logs/runs/{{model}}/{{forcing}}/{{split}}/ensemble.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench ensemble {input} --output {output} > {log} 2>&1"


rule collect_metrics:
    input:
        metrics=metrics_files(),
        cache=cache_file(REFERENCE_FORCING),
    output:
        f"{RESULTS}/tables/metrics.csv",
    log:
        f"{RESULTS}/logs/collect_metrics.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench collect-metrics {input.metrics} --cache {input.cache} --output {output} > {log} 2>&1"


rule hydrograph_table:
    input:
        hydrograph_predictions(),
    output:
        f"{RESULTS}/tables/hydrographs.csv",
    params:
        basins=lambda wildcards: (
            "--basins " + " ".join(EVALUATION["hydrographs"]["basins"])
            if EVALUATION.get("hydrographs", {}).get("basins")
            else f"--count {EVALUATION.get('hydrographs', {}).get('count', 3)}"
        ),
    log:
        f"{RESULTS}/logs/hydrograph_table.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench hydrograph-table {input} {params.basins} --output {output} > {log} 2>&1"


rule evaluation_table:
    input:
        rules.collect_metrics.output,
    output:
        multiext(f"{RESULTS}/tables/{{table}}", ".csv", ".md", ".tex"),
    wildcard_constraints:
        table="|".join(EVALUATION_TABLES),
    params:
        reference=(f"--reference {EVALUATION['baseline_model']}"
                   if EVALUATION.get("baseline_model") in EVALUATED_MODELS else ""),
    log:
        f"{RESULTS}/logs/tables/{{table}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench table {wildcards.table} --metrics {input} --split {EVALUATION_SPLIT} {params.reference} "
        "--output {output[0]} > {log} 2>&1"


rule evaluation_figure:
    input:
        lambda wildcards: rules.hydrograph_table.output if wildcards.figure == "hydrographs" else rules.collect_metrics.output,
    output:
        pdf=f"{RESULTS}/figures/{{figure}}.pdf",
        png=f"{RESULTS}/figures/{{figure}}.png",
    wildcard_constraints:
        figure="|".join(EVALUATION_FIGURES),
    params:
        options=lambda wildcards: figure_options(wildcards.figure),
    log:
        f"{RESULTS}/logs/figures/{{figure}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure {wildcards.figure} --table {input} {params.options} --output {output.pdf} > {log} 2>&1"


def evaluation_outputs():
    if not RUNS:
        return []
    outputs = expand(f"{RESULTS}/tables/{{table}}.{{ext}}", table=EVALUATION_TABLES, ext=["csv", "md", "tex"])
    outputs += expand(f"{RESULTS}/figures/{{figure}}.{{ext}}", figure=requested_figures(), ext=["pdf", "png"])
    return outputs


STAGE_OUTPUTS.append(evaluation_outputs)
