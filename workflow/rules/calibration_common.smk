# Settings and helpers of the calibration rules (calibration.smk), derived from the validated config.
import json
import re
import shlex

CALIBRATION = config.get("calibration", {})
CONCEPTUAL_MODELS = [name for name, spec in MODELS.items() if spec["kind"] == "conceptual"]
#: wildcard constraint matching exactly the conceptual models' run names (exphydro@train_years=3 of a sweep)
CONCEPTUAL_MODEL_NAMES = "|".join(re.escape(name) for name in CONCEPTUAL_MODELS) or "^$"
CALIBRATION_CHUNKS = CALIBRATION.get("n_chunks", 1)
CALIBRATION_ALGORITHM = CALIBRATION.get("algorithm", "sceua")


#: keys of the `calibration` section that are CalibrationSettings fields (the rest: jobs and resources)
CALIBRATION_SETTINGS = ("algorithm", "evaluations", "trials", "objective", "spinup_years", "seed", "max_failed_share")


def calibration_args(wildcards):
    """--model (the registered model of the run), --settings (the `calibration` section with the model's bounds,
    options and data amount), --factors of a swept run and the split's --periods."""
    model = MODELS[wildcards.model]
    settings = {key: CALIBRATION[key] for key in CALIBRATION_SETTINGS if key in CALIBRATION}
    settings.update(algorithm_options=CALIBRATION.get(CALIBRATION_ALGORITHM, {}), bounds=model.get("bounds", {}),
                    model_options=model.get("options", {}))
    if model.get("train_years") is not None:
        settings["train_years"] = model["train_years"]
    args = [f"--model {model.get('model', wildcards.model)}", settings_arg(settings)]
    if model.get("factors"):
        args.append(f"--factors {shlex.quote(json.dumps(model['factors']))}")
    args.append(split_periods(wildcards))
    return " ".join(a for a in args if a)


# the conceptual kind's runs: one per forcing x split, its member the calibration seed
MODEL_RUNS["conceptual"] = lambda name, spec: [(f, s, [CALIBRATION.get("seed", 0)]) for f in FORCINGS for s in SPLITS]


def calibration_chunk_dirs(wildcards):
    return [f"{RESULTS}/{CALIBRATION_CHUNK}".format(**wildcards, chunk=i) for i in range(CALIBRATION_CHUNKS)]


def calibration_outputs():
    """The merged run files of every conceptual model x forcing x split (member = the seed)."""
    return expand(
        f"{RESULTS}/{RUN}/{{name}}".replace("{member}", str(CALIBRATION.get("seed", 0))),
        model=CONCEPTUAL_MODELS,
        forcing=FORCINGS,
        split=SPLITS,
        name=["predictions.nc", "parameters.csv", "trace.csv", "failures.csv"],
    )
