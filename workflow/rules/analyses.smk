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


# The figure of an analysis, named by its id, drawn by the registered figure of its kind.
rule analysis_figure:
    input:
        f"{RESULTS}/tables/{{analysis}}.csv",
    output:
        pdf=f"{RESULTS}/figures/{{analysis}}.pdf",
        png=f"{RESULTS}/figures/{{analysis}}.png",
    wildcard_constraints:
        analysis="|".join(ANALYSES) or "^$",
    params:
        kind=lambda wildcards: ANALYSES[wildcards.analysis]["kind"],
    log:
        f"{RESULTS}/logs/figures/{{analysis}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure {params.kind} --table {input} --output {output.pdf} > {log} 2>&1"
