# Analyses of trained runs (config `analyses`, contract 6): each reloads a run's model.pt (contract 5),
# nothing is retrained, and writes one table per run. Resources as the train rule (GPU where granted).
include: "analyses_common.smk"


rule analyse:
    input:
        model=f"{RESULTS}/{RUN}/model.pt",
        config=f"{RESULTS}/{RUN}/config.yaml",
        cache=f"{CACHE}/{{forcing}}.nc",
    output:
        f"{RESULTS}/{ANALYSIS_FILE}",
    wildcard_constraints:
        analysis="|".join(ANALYSES) or "^$",
        model=NN_MODEL_NAMES,
        member=r"\d+",
    params:
        args=analysis_args,
        run_dir=lambda wildcards, input: Path(input.model).parent,
    threads: TRAINING.get("threads", 1)
    resources:
        gpu=TRAINING.get("gpus", 0),
        mem_mb=TRAINING.get("mem_mb", 4000),
    log:
        f"{RESULTS}/logs/{ANALYSIS_FILE.removesuffix('.csv')}.log",
    benchmark:
        f"{RESULTS}/logs/{ANALYSIS_FILE.removesuffix('.csv')}.benchmark.tsv"
    conda:
        "../../envs/dl.yaml"
    shell:
        "runoffbench analyse {params.args} --run {params.run_dir} --cache {input.cache} --output {output} "
        "> {log} 2>&1"


rule analysis_table:
    input:
        lambda wildcards: analysis_tables(wildcards.analysis),
    output:
        f"{RESULTS}/tables/{{analysis}}.csv",
    wildcard_constraints:
        analysis="|".join(ANALYSES) or "^$",
    log:
        f"{RESULTS}/logs/analyses/{{analysis}}.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        kind=lambda wildcards: ANALYSES[wildcards.analysis]["kind"],
    shell:
        "runoffbench analyse {params.kind} --collect {input} --output {output} > {log} 2>&1"


# The experiment-level step of a kind that has one (its products: tables/<id>_<product>.csv), a rule per
# such kind of the registry, from the joined table (and the dataset's attributes where the kind reads them).
for _kind in ANALYSIS_KINDS.values():
    if not _kind.products:
        continue

    rule:
        name:
            f"analysis_summary_{_kind.name}"
        input:
            unpack(analysis_summary_inputs),
        output:
            [f"{RESULTS}/tables/{{analysis}}_{product}.csv" for product in _kind.products],
        wildcard_constraints:
            analysis=analysis_ids([_kind.name]),
        params:
            args=analysis_summary_args,
            attributes=lambda wildcards: f"--attributes {CACHE}/attributes.nc"
            if analysis_kind_of(wildcards.analysis).reads_attributes else "",
            prefix=lambda wildcards: f"{RESULTS}/tables/{wildcards.analysis}",
        log:
            f"{RESULTS}/logs/analyses/{{analysis}}_summary.log",
        conda:
            "../../envs/analysis.yaml"
        shell:
            "runoffbench analyse {params.args} --summarise {input.table} {params.attributes} "
            "--output-prefix {params.prefix} > {log} 2>&1"


# The figures of an analysis, drawn by the registered figure kinds its kind feeds: the first as
# figures/<id>.pdf|png from tables/<id>.csv, the others as figures/<id>_<suffix> from the table they read;
# with the entry's display labels of its runs (`models`), and in the report with its caption and paper.
rule analysis_figure:
    input:
        f"{RESULTS}/tables/{{analysis}}.csv",
    output:
        pdf=f"{RESULTS}/figures/{{analysis}}.pdf",
        png=reported(f"{RESULTS}/figures/{{analysis}}.png", "figures", described=analysis_described("figures")),
    wildcard_constraints:
        analysis="|".join(ANALYSES) or "^$",
    params:
        kind=lambda wildcards: analysis_figure_use(wildcards.analysis, "").kind,
        options=lambda wildcards: analysis_output_options(wildcards.analysis, "", "figures"),
        report_entry=lambda wildcards: analysis_report_entry(wildcards.analysis, "", "figures"),
    log:
        f"{RESULTS}/logs/figures/{{analysis}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure {params.kind} --table {input} {params.options} --output {output.pdf} > {log} 2>&1"


rule analysis_extra_figure:
    input:
        lambda wildcards: analysis_figure_table(wildcards.analysis, wildcards.suffix),
    output:
        pdf=f"{RESULTS}/figures/{{analysis}}_{{suffix}}.pdf",
        png=reported(f"{RESULTS}/figures/{{analysis}}_{{suffix}}.png", "figures",
                     described=analysis_described("figures")),
    wildcard_constraints:
        analysis=analysis_ids(predicate=lambda kind: any(use.suffix for use in kind.figures)),
        suffix=ANALYSIS_FIGURE_SUFFIXES,
    params:
        kind=lambda wildcards: analysis_figure_use(wildcards.analysis, wildcards.suffix).kind,
        options=lambda wildcards: analysis_output_options(wildcards.analysis, wildcards.suffix, "figures"),
        report_entry=lambda wildcards: analysis_report_entry(wildcards.analysis, wildcards.suffix, "figures"),
    log:
        f"{RESULTS}/logs/figures/{{analysis}}_{{suffix}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure {params.kind} --table {input} {params.options} --output {output.pdf} > {log} 2>&1"


# The formatted tables of an analysis (e.g. Table 4, the attributes ranked by sensitivity), built by the
# registered table kind from the product it reads: tables/<id>_<suffix>.csv|md|tex (labelled and reported as
# the figures).
rule analysis_output_table:
    input:
        lambda wildcards: analysis_figure_table(wildcards.analysis, wildcards.suffix, tables=True),
    output:
        csv=reported(f"{RESULTS}/tables/{{analysis}}_{{suffix}}.csv", "tables", described=analysis_described("tables")),
        md=f"{RESULTS}/tables/{{analysis}}_{{suffix}}.md",
        tex=f"{RESULTS}/tables/{{analysis}}_{{suffix}}.tex",
    wildcard_constraints:
        analysis=analysis_ids(predicate=lambda kind: bool(kind.tables)),
        suffix=ANALYSIS_TABLE_SUFFIXES,
    params:
        kind=lambda wildcards: analysis_table_use(wildcards.analysis, wildcards.suffix).kind,
        options=lambda wildcards: analysis_output_options(wildcards.analysis, wildcards.suffix, "tables"),
        report_entry=lambda wildcards: analysis_report_entry(wildcards.analysis, wildcards.suffix, "tables"),
    log:
        f"{RESULTS}/logs/tables/{{analysis}}_{{suffix}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench table {params.kind} --table {input} {params.options} --output {output.csv} > {log} 2>&1"
