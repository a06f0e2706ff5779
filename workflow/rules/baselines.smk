# Benchmark models (config `models`, kind: baseline) and imported external simulations (kind:
# external) -> predictions (contract 2). The import_simulation rule is the worked example of "a model
# added as a new rule": any rule that writes runs/<model>/<forcing>/<split>/<member>/predictions.nc and
# registers its runs in MODEL_RUNS joins the evaluation (metrics, ensemble, tables, figures).
include: "baselines_common.smk"


rule baseline:
    input:
        cache=f"{CACHE}/{{forcing}}.nc",
    output:
        predictions=f"{RESULTS}/{RUN}/predictions.nc",
        failures=f"{RESULTS}/{RUN}/failures.csv",  # basins left out (runoffbench.failures)
    wildcard_constraints:
        model="|".join(BASELINE_MODELS) or "^$",
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member=r"\d+",
    params:
        method=lambda wildcards: BASELINE_MODELS[wildcards.model]["method"],
        options=lambda wildcards: " ".join(
            (["--bootstrap-years"] if BASELINE_MODELS[wildcards.model].get("bootstrap_years") else [])
            + [f"--window {BASELINE_MODELS[wildcards.model].get('window', 31)}"]
        ),
        periods=split_periods,
    log:
        f"{RESULTS}/logs/{RUN}/baseline.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench baseline --method {params.method} --cache {input.cache} --model {wildcards.model} "
        "--forcing {wildcards.forcing} --split {wildcards.split} {params.periods} --member {wildcards.member} "
        "{params.options} --output {output.predictions} --failures {output.failures} > {log} 2>&1"


rule import_simulation:
    input:
        simulation=external_simulation,  # a camels_benchmark folder not there yet: download_camels_benchmarks
        crosswalk=external_crosswalk,  # format nwm_retrospective: gauge <-> reach
        cache=f"{CACHE}/{{forcing}}.nc",
    output:
        f"{RESULTS}/{RUN}/predictions.nc",
    wildcard_constraints:
        model="|".join(EXTERNAL_MODELS) or "^$",
        forcing="|".join(FORCINGS),
        split="|".join(SPLITS),
        member="0",
    params:
        units=lambda wildcards: EXTERNAL_MODELS[wildcards.model].get("units", "mm/day"),
        variable=lambda wildcards: EXTERNAL_MODELS[wildcards.model].get("variable", "qsim"),
        format_options=external_format_options,
        periods=split_periods,
        simulation=lambda wildcards: shlex.quote(EXTERNAL_MODELS[wildcards.model]["path"]),
    log:
        f"{RESULTS}/logs/{RUN}/import_simulation.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench import-simulation {params.simulation} --variable {params.variable} --units {params.units} "
        "--cache {input.cache} --model {wildcards.model} --forcing {wildcards.forcing} "
        "--split {wildcards.split} {params.periods} --member {wildcards.member} {params.format_options} "
        "--output {output} > {log} 2>&1"


# The CAMELS benchmark models of Kratzert et al. 2019 (HydroShare 474ecc37…), downloaded into a configured
# camels_benchmark folder that does not exist (a folder unpacked by hand is used as it is).
rule download_camels_benchmarks:
    output:
        "{folder}/download_manifest.json",
    wildcard_constraints:
        folder="|".join(re.escape(f) for f in BENCHMARK_DOWNLOADS) or "^$",
    params:
        sources=DATASET.get("download_sources") or "",
    log:
        f"{DATA_LOGS}/download_camels_benchmarks/{{folder}}.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench download-benchmarks --sources {params.sources} --output {wildcards.folder} --no-progress "
        "> {log} 2>&1"


localrules:
    download_camels_benchmarks,
