# Conceptual models (config `models`, kind: conceptual) calibrated per basin with SpotPy -> predictions
# (contract 2), parameter tables and traces.
#
# A swept entry (`sweep: {train_years: [...]}`) is one run per data amount, exphydro@train_years=3 etc.,
# each calibrated on the last N years of the training period (runoffbench.periods.last_years).
#
# Chunking: each model x forcing x split x member is split into `calibration.n_chunks` jobs; job i
# calibrates the i-th of n contiguous slices of the basin list (runoffbench.calibration.chunks.
# chunk_basins), so the DAG is known at parse time without reading the basin list (which may not exist
# yet) and without a checkpoint. A local rule merges the chunks into the run's predictions.nc.

include: "calibration_common.smk"


rule calibrate:
    input:
        cache=f"{CACHE}/{{forcing}}.nc",
        basins=basins_file(),
    output:
        predictions=f"{RESULTS}/{CALIBRATION_CHUNK}/predictions.nc",
        parameters=f"{RESULTS}/{CALIBRATION_CHUNK}/parameters.csv",
        trace=f"{RESULTS}/{CALIBRATION_CHUNK}/trace.csv",
        failures=f"{RESULTS}/{CALIBRATION_CHUNK}/failures.csv",
    wildcard_constraints:
        model=CONCEPTUAL_MODEL_NAMES,
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member=r"\d+",
        chunk=r"\d+",
    params:
        args=calibration_args,
        n_chunks=CALIBRATION_CHUNKS,
        output_dir=lambda wildcards, output: Path(output.predictions).parent,
    threads: CALIBRATION.get("threads", 1)
    resources:
        mem_mb=2000,
    log:
        f"{RESULTS}/logs/{CALIBRATION_CHUNK}.log",
    benchmark:
        f"{RESULTS}/logs/{CALIBRATION_CHUNK}.benchmark.tsv"
    conda:
        "../../envs/calib.yaml"
    shell:
        "runoffbench calibrate --name {wildcards.model} {params.args} --cache {input.cache} "
        "--basins {input.basins} --chunk {wildcards.chunk}/{params.n_chunks} --split {wildcards.split} "
        "--seed {wildcards.member} --threads {threads} --output-dir {params.output_dir} > {log} 2>&1"


rule merge_calibration:
    input:
        chunks=lambda wildcards: [f"{d}/{name}" for d in calibration_chunk_dirs(wildcards)
                                  for name in ("predictions.nc", "parameters.csv", "trace.csv", "failures.csv")],
    output:
        predictions=f"{RESULTS}/{RUN}/predictions.nc",
        parameters=f"{RESULTS}/{RUN}/parameters.csv",
        trace=f"{RESULTS}/{RUN}/trace.csv",
        failures=f"{RESULTS}/{RUN}/failures.csv",
    wildcard_constraints:
        model=CONCEPTUAL_MODEL_NAMES,
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member=r"\d+",
    params:
        chunk_dirs=calibration_chunk_dirs,
    log:
        f"{RESULTS}/logs/{CALIBRATION_RUN}/merge.log",
    conda:
        "../../envs/calib.yaml"
    script:
        "../scripts/merge_calibration.py"


STAGE_OUTPUTS.append(calibration_outputs)


localrules:
    merge_calibration,
