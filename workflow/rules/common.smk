import json
import shlex
from pathlib import Path

from runoffbench.experiment import SweepError, expand_models
from runoffbench.paths import ANALYSIS_FILE, CALIBRATION_CHUNK, CALIBRATION_RUN, METRICS_FILE, RUN

# Paths and small helpers shared by the rules. Everything here is derived from the validated
# config; nothing reads data files at parse time, so the DAG builds before any data exists.

DATASET = config["dataset"]
EXPERIMENT = config["experiment"]
RESULTS = f"results/{EXPERIMENT}"
ROOT = DATASET["root"]
#: the caches of a real dataset are kept per basin set (a 531- and a 671-basin experiment never rebuild
#: each other's): data/cache/camels_us/<dataset.basin_list, or the stem of dataset.basins>/; the
#: synthetic dataset has one basin set, its own
BASIN_SET = None if DATASET["name"] == "synthetic" else (
    Path(DATASET["basins"]).stem if DATASET.get("basins") else str(DATASET.get("basin_list")))
CACHE = f"{config['cache']['dir']}/{DATASET['name']}" if BASIN_SET is None else \
    f"{config['cache']['dir']}/{DATASET['name']}/{BASIN_SET}"
FORCINGS = DATASET["forcings"]
REFERENCE_FORCING = DATASET["reference_forcing"]
DATA_LOGS = f"results/logs/{DATASET['name']}"

if REFERENCE_FORCING not in FORCINGS:
    raise ValueError(
        f"config key dataset.reference_forcing: {REFERENCE_FORCING!r} is not one of "
        f"dataset.forcings {FORCINGS}"
    )


def basins_file():
    """The basin list every data rule reads."""
    if DATASET.get("basins"):
        return DATASET["basins"]
    if DATASET["name"] == "synthetic":
        return f"{ROOT}/basins.txt"
    if not DATASET.get("basin_list"):
        raise ValueError("config key dataset.basin_list (or dataset.basins) is required for camels_us")
    return f"{ROOT}/basin_lists/{DATASET['basin_list']}_basin_list.txt"


def dataset_ready():
    """The file whose existence means the raw dataset is complete (written last by its rule)."""
    if DATASET["name"] == "synthetic":
        return f"{ROOT}/basins.txt"
    if DATASET.get("download_sources"):
        return f"{ROOT}/download_manifest.json"
    return f"{ROOT}/camels_attributes_v2.0/camels_name.txt"  # data put in place by hand


def camels_root(wildcards, input):
    """The CAMELS root, derived from the dataset marker (so no path is hard-coded in params)."""
    marker = Path(input.ready)
    return str(marker.parent.parent if marker.parent.name == "camels_attributes_v2.0" else marker.parent)


def cache_file(forcing):
    return f"{CACHE}/{forcing}.nc"


def compared_forcings():
    """Forcings whose precipitation is compared against the reference forcing."""
    return [f for f in FORCINGS if f != REFERENCE_FORCING]


SPLITS = list(config["splits"])
try:  # sweeps: one entry per combination of factor levels (runoffbench.experiment)
    MODELS = expand_models(config.get("models", {}))
except SweepError as error:
    raise ValueError(f"config key {error}") from None

#: model kind -> function(name, model config) -> [(forcing, split, [members]), ...]: the runs the rule of
#: that kind writes (runs/<model>/<forcing>/<split>/<member>/predictions.nc). Each model stage's .smk
#: registers its kind; evaluation requests only runs of registered kinds, so a kind without a rule yet
#: (e.g. nn) is listed in a config without the workflow asking for files nothing can make.
MODEL_RUNS = {}

#: functions returning more targets of `rule all`; each stage's .smk file appends its own
STAGE_OUTPUTS = []


def all_outputs():
    outputs = [cache_file(f) for f in FORCINGS] + [f"{CACHE}/attributes.nc"]
    outputs.append(f"{RESULTS}/tables/water_balance.csv")
    outputs += expand(f"{RESULTS}/figures/basin_map.{{ext}}", ext=["pdf", "png"])
    if compared_forcings():
        outputs += expand(f"{RESULTS}/figures/precip_bias_by_huc.{{ext}}", ext=["pdf", "png"])
    for stage_outputs in STAGE_OUTPUTS:
        outputs += stage_outputs()
    return outputs


def reported(path, kind, name=None, described=None):
    """`path` marked for `snakemake --report`: category the experiment, subcategory `kind` (figures or
    tables), the caption rendered by workflow/report/caption.rst from the config entry `kind: name:`
    (caption, paper), the labels its id, its registered kind (runoffbench.outputs) and the paper. `name`: the figure/table id; None takes it from the {figure}/{table} wildcard.
    `described`: wildcards -> (id, registered kind, entry with caption and paper) of an output whose entry
    is not under `kind:` (an analysis's figures and tables; its rule hands the entry to the caption as the
    param `report_entry`)."""

    def labels(wildcards):
        import runoffbench.outputs as registry

        if described is not None:
            output_id, kind_name, entry = described(wildcards)
        else:
            output_id = name or wildcards[kind[:-1]]
            entry = config.get(kind, {}).get(output_id) or {}
            kind_name = registry.kind_of(kind, output_id, entry)
        registered = registry.KINDS.get(kind_name)  # the registry's description of the kind drawn
        return {kind[:-1]: output_id, "kind": f"{kind_name}: {registered.description}" if registered else "-",
                "paper": entry.get("paper") or "-"}

    return report(path, caption="../report/caption.rst", category=EXPERIMENT, subcategory=kind, labels=labels)


def check_slurm_settings():
    """With --executor slurm (--profile slurm): fail before the first submission when the profile does
    not fit the cluster (status command without accounting, unknown partition, GPU rule on a cluster
    without GPUs), saying what to change. runoffbench.slurm_check is imported only then: every SLURM
    job re-parses this file."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    from runoffbench.slurm_check import check_workflow

    check_workflow(workflow)


onstart:
    check_slurm_settings()


def run_path(pattern, model, forcing, split, member):
    """``results/<experiment>/<pattern>`` of one run (pattern: runoffbench.paths.RUN + a file name, METRICS_FILE)."""
    return f"{RESULTS}/{pattern.format(model=model, forcing=forcing, split=split, member=member)}"


def settings_arg(settings):
    """--settings JSON: how every model rule hands its config entry to its command (train, calibrate)."""
    return f"--settings {shlex.quote(json.dumps(settings))}"


def split_periods(wildcards):
    """--periods JSON for a split defined in the config; nothing for a predefined paper split."""
    spec = config["splits"][wildcards.split]
    return "" if spec is None else f"--periods '{json.dumps(spec)}'"
