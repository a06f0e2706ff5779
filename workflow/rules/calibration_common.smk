# Settings and helpers of the calibration rules (calibration.smk), derived from the validated config.

CALIBRATION = config.get("calibration", {})
CONCEPTUAL_MODELS = [name for name, spec in config.get("models", {}).items() if spec["kind"] == "conceptual"]
CALIBRATION_CHUNKS = CALIBRATION.get("n_chunks", 1)
CALIBRATION_ALGORITHM = CALIBRATION.get("algorithm", "sceua")
CALIBRATION_RUN = "{model}/{forcing}/{split}/{member}"


def calibration_args(wildcards):
    """CLI arguments from `calibration` and `models.<model>` (bounds, options)."""
    model = config["models"][wildcards.model]
    args = [
        f"--algorithm {CALIBRATION_ALGORITHM}",
        f"--evaluations {CALIBRATION.get('evaluations', 10000)}",
        f"--trials {CALIBRATION.get('trials', 1)}",
        f"--objective {CALIBRATION.get('objective', 'rmse')}",
        f"--spinup-years {CALIBRATION.get('spinup_years', 2)}",
        f"--max-failed-share {CALIBRATION.get('max_failed_share', 0.5)}",
        split_periods(wildcards),
    ]
    args += [f"--bound {p}={lo},{hi}" for p, (lo, hi) in model.get("bounds", {}).items()]
    args += [f"--option {k}={v}" for k, v in model.get("options", {}).items()]
    args += [f"--algorithm-option {k}={v}" for k, v in CALIBRATION.get(CALIBRATION_ALGORITHM, {}).items()]
    return " ".join(a for a in args if a)


def calibration_chunk_dirs(wildcards):
    return [f"{RESULTS}/calibration/{CALIBRATION_RUN}/chunk_{i}".format(**wildcards) for i in range(CALIBRATION_CHUNKS)]


def calibration_outputs():
    """The merged run files of every conceptual model x forcing x split (member = the seed)."""
    return expand(
        f"{RESULTS}/runs/{{model}}/{{forcing}}/{{split}}/{CALIBRATION.get('seed', 0)}/{{name}}",
        model=CONCEPTUAL_MODELS,
        forcing=FORCINGS,
        split=SPLITS,
        name=["predictions.nc", "parameters.csv", "trace.csv", "failures.csv"],
    )
