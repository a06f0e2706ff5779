# Predictions (contract 2) -> per-basin metrics (contract 3) -> ensemble, long tables, the papers'
# tables and figures (contract 4). Which runs exist comes from the config's `models` through MODEL_RUNS
# (common.smk); models of a kind without a producing rule are skipped (see evaluation_runs).

include: "evaluation_common.smk"


rule evaluate:
    input:
        predictions=f"{RESULTS}/{RUN}/predictions.nc",
        cache=f"{CACHE}/{{forcing}}.nc",
    output:
        f"{RESULTS}/{METRICS_FILE}",
    wildcard_constraints:
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member=r"\d+|ensemble",
    params:
        metrics=METRICS_ARG,
        periods=split_periods,
    log:
        f"{RESULTS}/logs/{METRICS_FILE.removesuffix('.csv')}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench evaluate --predictions {input.predictions} --cache {input.cache} --split {wildcards.split} "
        "{params.periods} --metrics {params.metrics} --output {output} > {log} 2>&1"


rule ensemble:
    input:
        lambda wildcards: [
            f"{RESULTS}/{RUN}/predictions.nc".format(**wildcards, member=m)
            for m in ENSEMBLE_RUNS[(wildcards.model, wildcards.forcing, wildcards.split)]
        ],
    output:
        f"{RESULTS}/{RUN}/predictions.nc".replace("{member}", "ensemble"),
    wildcard_constraints:
        model="|".join(sorted({m for m, _, _ in ENSEMBLE_RUNS})) or "^$",
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
    log:
        f"{RESULTS}/logs/{RUN.replace('{member}', 'ensemble')}.log",
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


# Outputs no model is trained on (Feng et al. 2022; runoffbench.evaluation.process): the metrics table joined
# with each run's simulated baseflow index and its ET scores against MOD16A2 (evaluation.modis_et), and the
# daily flows and dynamic parameters of the basins nearest a model's median NSE (evaluation.series).
rule process_table:
    input:
        predictions=all_run_predictions(),
        metrics=rules.collect_metrics.output,
        attributes=f"{CACHE}/attributes.nc",
        modis=modis_input(),
    output:
        f"{RESULTS}/tables/process.csv",
    params:
        modis=process_table_options(),
    log:
        f"{RESULTS}/logs/tables/process.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench process-table {input.predictions} --metrics {input.metrics} --attributes {input.attributes} "
        "{params.modis} --output {output} > {log} 2>&1"


rule series_table:
    input:
        predictions=series_predictions(),
        metrics=rules.collect_metrics.output,
    output:
        f"{RESULTS}/tables/series.csv",
    params:
        options=series_table_options(),
    log:
        f"{RESULTS}/logs/tables/series.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench series-table {input.predictions} --metrics {input.metrics} {params.options} --output {output} "
        "> {log} 2>&1"


rule evaluation_table:
    input:
        evaluation_table_input,
    output:
        csv=reported(f"{RESULTS}/tables/{{table}}.csv", "tables"),
        md=f"{RESULTS}/tables/{{table}}.md",
        tex=f"{RESULTS}/tables/{{table}}.tex",
    wildcard_constraints:
        table="|".join(re.escape(t) for t in requested_tables() if t != "run_summary") or "^$",
    params:
        kind=lambda wildcards: output_kind_name("tables", wildcards.table),
        options=lambda wildcards: output_options("tables", wildcards.table),
        expected=expected_runs_arg(),
    log:
        f"{RESULTS}/logs/tables/{{table}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench table {params.kind} --table {input} {params.options} {params.expected} --output {output.csv} "
        "> {log} 2>&1"


# The basins every run left out (runoffbench.failures: screened out for too little training flow, or failed
# while fitting), from the runs' failures.csv; always built, and its log warns how many failed where.
rule failures_table:
    input:
        failure_files(),
    output:
        csv=reported(f"{RESULTS}/tables/failures.csv", "tables", "failures"),
        md=f"{RESULTS}/tables/failures.md",
        tex=f"{RESULTS}/tables/failures.tex",
    log:
        f"{RESULTS}/logs/tables/failures.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench table failures --failures {input} --output {output.csv} > {log} 2>&1"


rule run_summary:
    input:
        predictions=evaluation_split_predictions(),
        attributes=f"{CACHE}/attributes.nc",
        failures=failure_files(),
    output:
        csv=reported(f"{RESULTS}/tables/run_summary.csv", "tables", "run_summary"),
        md=f"{RESULTS}/tables/run_summary.md",
        tex=f"{RESULTS}/tables/run_summary.tex",
    log:
        f"{RESULTS}/logs/tables/run_summary.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench run-summary {input.predictions} --attributes {input.attributes} --failures {input.failures} "
        "--output {output.csv} > {log} 2>&1"


rule evaluation_figure:
    input:
        evaluation_figure_input,
    output:
        pdf=f"{RESULTS}/figures/{{figure}}.pdf",
        png=reported(f"{RESULTS}/figures/{{figure}}.png", "figures"),
    wildcard_constraints:
        figure="|".join(re.escape(f) for f in requested_outputs("figures")) or "^$",
    params:
        kind=lambda wildcards: output_kind_name("figures", wildcards.figure),
        options=lambda wildcards: output_options("figures", wildcards.figure),
    log:
        f"{RESULTS}/logs/figures/{{figure}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure {params.kind} --table {input} {params.options} --output {output.pdf} > {log} 2>&1"


STAGE_OUTPUTS.append(evaluation_outputs)


localrules:
    failures_table,


# No stale result looks current: when a job fails (with or without --keep-going), the tables and figures it
# kept from being rebuilt are removed (remove_stale_results), each named in the log.
onerror:
    remove_stale_results()
