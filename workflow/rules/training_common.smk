# Settings and helpers of the train rule (training.smk), derived from the validated config.
import json
import re
import shlex

TRAINING = config.get("training", {})
NN_MODELS = {name: spec for name, spec in MODELS.items() if spec["kind"] == "nn"}
#: wildcard constraint matching exactly the nn models' run names (swept names hold regex characters)
NN_MODEL_NAMES = "|".join(re.escape(name) for name in NN_MODELS) or "^$"


def nn_runs(name, spec):
    """(forcing, split, seeds) of a model: `forcings` and `splits` of its entry, by default all of them."""
    forcings = spec.get("forcings", FORCINGS)
    splits = spec.get("splits", SPLITS)
    for key, chosen, known in (("forcings", forcings, FORCINGS), ("splits", splits, SPLITS)):
        unknown = [value for value in chosen if value not in known]
        if unknown:
            raise ValueError(f"config key models.{name}.{key}: {unknown} not in {known}")
    return [(f, s, spec.get("seeds", [0])) for f in forcings for s in splits]


MODEL_RUNS["nn"] = nn_runs


def train_args(wildcards):
    """--settings (the models entry as JSON), --factors of a swept run, --periods of a split defined in the config."""
    entry = NN_MODELS[wildcards.model]
    spec = {k: v for k, v in entry.items() if k not in ("kind", "forcings", "splits", "factors", "base_model")}
    args = [settings_arg(spec)]
    if entry.get("factors"):
        args.append(f"--factors {shlex.quote(json.dumps(entry['factors']))}")
    args.append(split_periods(wildcards))
    return " ".join(a for a in args if a)


def training_outputs():
    """Every file of every nn run."""
    return [
        run_path(f"{RUN}/{name}", model, forcing, split, member)
        for model, spec in NN_MODELS.items()
        for forcing, split, members in nn_runs(model, spec)
        for member in members
        for name in ("predictions.nc", "model.pt", "training_log.csv", "config.yaml", "failures.csv")
    ]


STAGE_OUTPUTS.append(training_outputs)
