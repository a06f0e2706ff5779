# Settings and helpers of the analyses stage (analyses.smk), derived from the validated config.
ANALYSES = config.get("analyses") or {}


def analysed_models(name, spec):
    """The nn models an analysis reads: its `models`, each checked against the config's nn models."""
    models = spec.get("models") or list(NN_MODELS)
    unknown = [m for m in models if m not in NN_MODELS]
    if unknown:
        raise ValueError(f"config key analyses.{name}.models: {unknown} are not nn models of the config "
                         f"({', '.join(NN_MODELS)})")
    return models


def analysis_args(wildcards):
    """The analysis's options as flags of `runoffbench analyse`."""
    spec = ANALYSES[wildcards.analysis]
    args = [spec["kind"]]
    args += [f"--sigma {sigma}" for sigma in spec.get("sigmas", [])]
    for key in ("draws", "draws_per_batch", "seed"):
        if key in spec:
            args.append(f"--{key.replace('_', '-')} {spec[key]}")
    return " ".join(args)


def analysis_tables(name):
    """The per-run tables of analysis ``name`` (contract 6), one per run of every model it reads."""
    spec = ANALYSES[name]
    return [
        run_path(ANALYSIS_FILE.replace("{analysis}", name), model, forcing, split, member)
        for model in analysed_models(name, spec)
        for forcing, split, members in nn_runs(model, NN_MODELS[model])
        for member in members
    ]


def analysis_outputs():
    """Every analysis's per-run tables, its experiment table and its figure."""
    outputs = [path for name in ANALYSES for path in analysis_tables(name)]
    outputs += [f"{RESULTS}/tables/{name}.csv" for name in ANALYSES]
    outputs += [f"{RESULTS}/figures/{name}.{ext}" for name in ANALYSES for ext in ("pdf", "png")]
    return outputs


STAGE_OUTPUTS.append(analysis_outputs)
