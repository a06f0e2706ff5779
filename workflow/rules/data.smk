# Raw data (synthetic generator or the real archives) -> forcing caches (contract 1).


rule synthesize_dataset:
    output:
        basins=f"{ROOT}/basins.txt",
        truth=f"{ROOT}/truth.nc",
    params:
        root=lambda wildcards, output: Path(output.basins).parent,
        synthetic=DATASET.get("synthetic", {}),
    log:
        f"{DATA_LOGS}/synthesize_dataset.log",
    benchmark:
        f"{DATA_LOGS}/synthesize_dataset.benchmark.tsv"
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench synth --output {params.root} --n-basins {params.synthetic[n_basins]} "
        "--start {params.synthetic[start]} --end {params.synthetic[end]} "
        "--seed {params.synthetic[seed]} --basin-list {output.basins} > {log} 2>&1"


rule download_camels:
    input:
        sources=DATASET.get("download_sources") or [],
    output:
        manifest=f"{ROOT}/download_manifest.json",
        basins=[basins_file()] if DATASET.get("basin_list") and not DATASET.get("basins") else [],
    params:
        root=lambda wildcards, output: Path(output.manifest).parent,
        downloads=lambda wildcards, output: Path(output.manifest).parent / "downloads",
        forcings=" ".join(f"--forcing {f}" for f in FORCINGS),
        basin_list=f"--basin-list {DATASET['basin_list']}" if DATASET.get("basin_list") else "",
    log:
        f"{DATA_LOGS}/download_camels.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench download --sources {input.sources} --root {params.root} "
        "--downloads {params.downloads} {params.forcings} {params.basin_list} > {log} 2>&1"


rule build_cache:
    input:
        basins=basins_file(),
        ready=dataset_ready(),
    output:
        f"{CACHE}/{{forcing}}.nc",
    wildcard_constraints:
        forcing="|".join(FORCINGS),
    params:
        root=camels_root,
        dataset=DATASET["name"],
        period=" ".join(
            f"--{key} {config['cache'][key]}" for key in ("start", "end") if config["cache"].get(key)
        ),
    log:
        f"{DATA_LOGS}/build_cache_{{forcing}}.log",
    benchmark:
        f"{DATA_LOGS}/build_cache_{{forcing}}.benchmark.tsv"
    resources:
        mem_mb=4000,
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench build-cache --camels-root {params.root} --forcing {wildcards.forcing} "
        "--basins {input.basins} --output {output} --dataset {params.dataset} {params.period} "
        "> {log} 2>&1"


rule build_attributes_cache:
    input:
        basins=basins_file(),
        ready=dataset_ready(),
    output:
        f"{CACHE}/attributes.nc",
    params:
        root=camels_root,
    log:
        f"{DATA_LOGS}/build_attributes_cache.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench build-cache --camels-root {params.root} --attributes "
        "--basins {input.basins} --output {output} > {log} 2>&1"
