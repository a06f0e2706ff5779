# Raw data (synthetic generator or the real archives) -> forcing caches (contract 1).
#
# For camels_us the raw files a cache reads (the forcing and streamflow files of the configured
# basins, the attribute tables) are inputs of build_cache / build_attributes_cache, so editing one
# makes the cache out of date. They are listed from the basin list and a scan of the product folders
# (os.scandir only: no heavy imports, `snakemake -n` stays fast); after a download, only once the
# download_camels checkpoint has run, so the recorded inputs do not change between runs. The
# synthetic generator's files are not listed (its rule reruns when its settings change); after
# editing them by hand, run `snakemake --forcerun build_cache build_attributes_cache`.

include: "data_common.smk"


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


checkpoint download_camels:
    input:
        sources=DATASET.get("download_sources") or [],
        basins=[DATASET["basins"]] if DATASET.get("basins") else [],
    output:
        manifest=f"{ROOT}/download_manifest.json",
        basins=[basins_file()] if DATASET.get("basin_list") and not DATASET.get("basins") else [],
    params:
        root=lambda wildcards, output: Path(output.manifest).parent,
        downloads=lambda wildcards, output: Path(output.manifest).parent / "downloads",
        forcings=" ".join(f"--forcing {f}" for f in FORCINGS),
        basin_list=f"--basin-list {DATASET['basin_list']}" if DATASET.get("basin_list") else "",
        # dataset.basins selects the extracted basins (wins over the basin list, which is still
        # downloaded when configured)
        basins=lambda wildcards, input: f"--basins {input.basins}" if input.basins else "",
    log:
        f"{DATA_LOGS}/download_camels.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench download --sources {input.sources} --root {params.root} "
        "--downloads {params.downloads} {params.forcings} {params.basin_list} {params.basins} "
        "> {log} 2>&1"


rule build_cache:
    input:
        unpack(cache_inputs("forcing")),
    output:
        f"{CACHE}/{{forcing}}.nc",
    wildcard_constraints:
        forcing="|".join(FORCINGS),
    params:
        root=cache_root,
        basins=basins_file(),  # also an input; named here too, as the checkpoint stands in for the inputs until it ran
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
        "--basins {params.basins} --output {output} --dataset {params.dataset} {params.period} "
        "> {log} 2>&1"


rule build_attributes_cache:
    input:
        unpack(cache_inputs("attributes")),
    output:
        f"{CACHE}/attributes.nc",
    params:
        root=cache_root,
        basins=basins_file(),
    log:
        f"{DATA_LOGS}/build_attributes_cache.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench build-cache --camels-root {params.root} --attributes "
        "--basins {params.basins} --output {output} > {log} 2>&1"
