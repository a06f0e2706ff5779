# Forcing caches -> the first results: the water-balance table and its figures (contract 4). Figures
# (their png) and tables (csv) are marked for `snakemake --report` by `reported` (common.smk).


rule water_balance:
    input:
        caches=[cache_file(f) for f in FORCINGS],
    output:
        csv=reported(f"{RESULTS}/tables/water_balance.csv", "tables", "water_balance"),
    params:
        caches=" ".join(f"--cache {f}={cache_file(f)}" for f in FORCINGS),
        reference=REFERENCE_FORCING,
    log:
        f"{RESULTS}/logs/water_balance.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench water-balance {params.caches} --reference {params.reference} "
        "--output {output.csv} > {log} 2>&1"


rule basin_map:
    input:
        table=f"{RESULTS}/tables/water_balance.csv",  # not rules...output: that carries the report flag
    output:
        pdf=f"{RESULTS}/figures/basin_map.pdf",
        png=reported(f"{RESULTS}/figures/basin_map.png", "figures", "basin_map"),
    log:
        f"{RESULTS}/logs/figures/basin_map.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure basin_map --table {input.table} --output {output.pdf} > {log} 2>&1"


rule precip_bias_by_huc:
    input:
        table=f"{RESULTS}/tables/water_balance.csv",  # not rules...output: that carries the report flag
    output:
        pdf=f"{RESULTS}/figures/precip_bias_by_huc.pdf",
        png=reported(f"{RESULTS}/figures/precip_bias_by_huc.png", "figures", "precip_bias_by_huc"),
    params:
        forcing=config.get("figures", {}).get("precip_bias_by_huc", {}).get("forcing")
        or (compared_forcings() or [REFERENCE_FORCING])[0],
        reference=REFERENCE_FORCING,
    log:
        f"{RESULTS}/logs/figures/precip_bias_by_huc.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "runoffbench figure precip_bias_by_huc --table {input.table} --forcing {params.forcing} "
        "--reference {params.reference} --output {output.pdf} > {log} 2>&1"
