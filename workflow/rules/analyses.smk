# Analyses of trained runs (config `analyses`, contract 6): each reloads a run's model.pt (contract 5),
# nothing is retrained, and writes one table per run. Resources as the train rule (GPU where granted).
include: "analyses_common.smk"


rule analyse:
    input:
        model=f"{RESULTS}/runs/{{model}}/{{forcing}}/{{split}}/{{member}}/model.pt",
        config=f"{RESULTS}/runs/{{model}}/{{forcing}}/{{split}}/{{member}}/config.yaml",
        cache=f"{CACHE}/{{forcing}}.nc",
    output:
        f"{RESULTS}/analyses/{ANALYSIS_RUN}.csv",
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
        f"{RESULTS}/logs/analyses/{ANALYSIS_RUN}.log",
    benchmark:
        f"{RESULTS}/logs/analyses/{ANALYSIS_RUN}.benchmark.tsv"
    conda:
        "../../envs/dl.yaml"
    shell:
        "runoffbench analyse {params.args} --run {params.run_dir} --cache {input.cache} --output {output} "
        "> {log} 2>&1"
