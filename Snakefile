# runoffbench: benchmark rainfall-runoff models on CAMELS-US.
#   snakemake --cores 2                      the embedded default (config/config.yaml)
#   snakemake --cores 2 --configfile config/experiments/camels_us.yaml
#   snakemake --profile slurm all            on a SLURM cluster
# Keep this file light: every cluster job re-parses it, so no heavy imports here.
from snakemake.utils import min_version, validate

min_version("9.20")


# The embedded default is loaded only when no --configfile is given: Snakemake would otherwise merge an
# experiment configuration on top of it, and the experiment would inherit the default's models.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# Config errors stop the run before the first job, each naming its key: the schema (light, every process),
# then the registries and the dataset's dates (imports torch: the main process only, not every SLURM job).
from runoffbench.config_check import check_schema

check_schema(config, "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")  # fills in the schema's defaults
if workflow.is_main_process:
    from runoffbench.config_check import check_config

    check_config(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/calibration.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/analyses.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/evaluation.smk"


localrules:
    all,
    download_camels,
    water_balance,
    basin_map,
    precip_bias_by_huc,
    ensemble,
    collect_metrics,
    hydrograph_table,
    evaluation_table,
    run_summary,
    evaluation_figure,
    analysis_table,
    analysis_figure,


rule all:
    input:
        all_outputs(),
    default_target: True
