# Gradient-trained models (config `models`, kind: nn) -> predictions (contract 2), weights, epoch log and
# resolved config. One job per model x forcing x split x seed (`models.<name>.seeds`; the seed is the
# run's member). Resources come from the `training` section (threads, gpus, mem_mb); a profile may
# override them per rule (set-resources: train: gpu: 1).
include: "training_common.smk"


rule train:
    input:
        cache=f"{CACHE}/{{forcing}}.nc",
        attributes=f"{CACHE}/attributes.nc",
        basins=basins_file(),
    output:
        predictions=f"{RESULTS}/{RUN}/predictions.nc",
        model=f"{RESULTS}/{RUN}/model.pt",
        log_csv=f"{RESULTS}/{RUN}/training_log.csv",
        config=f"{RESULTS}/{RUN}/config.yaml",
        failures=f"{RESULTS}/{RUN}/failures.csv",
    wildcard_constraints:
        model=NN_MODEL_NAMES,
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member=r"\d+",
    params:
        args=train_args,
        output_dir=lambda wildcards, output: Path(output.predictions).parent,
    threads: TRAINING.get("threads", 1)
    resources:
        gpu=TRAINING.get("gpus", 0),
        mem_mb=TRAINING.get("mem_mb", 4000),
    log:
        f"{RESULTS}/logs/{RUN}/train.log",
    benchmark:
        f"{RESULTS}/logs/{RUN}/train.benchmark.tsv"
    conda:
        "../../envs/dl.yaml"
    shell:
        "runoffbench train --name {wildcards.model} {params.args} --cache {input.cache} "
        "--attributes {input.attributes} --basins {input.basins} --forcing {wildcards.forcing} "
        "--split {wildcards.split} --seed {wildcards.member} --output {params.output_dir} > {log} 2>&1"
