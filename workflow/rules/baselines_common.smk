# Settings and helpers of the baseline and import rules (baselines.smk), derived from the validated config.

BASELINE_MODELS = {name: spec for name, spec in MODELS.items() if spec["kind"] == "baseline"}
EXTERNAL_MODELS = {name: spec for name, spec in MODELS.items() if spec["kind"] == "external"}


def baseline_runs(name, spec):
    members = spec.get("members", [0])
    return [(f, s, members) for f in spec.get("forcings", FORCINGS) for s in spec.get("splits", SPLITS)]


def external_runs(name, spec):
    if spec["forcing"] not in FORCINGS:
        raise ValueError(f"config key models.{name}.forcing: {spec['forcing']!r} is not one of dataset.forcings "
                         f"{FORCINGS} (the observations come from that forcing cache)")
    return [(spec["forcing"], s, [0]) for s in spec.get("splits", SPLITS)]


def external_format_options(wildcards):
    """--format and its options of an external model (format camels_benchmark: runoffbench.models.camels_benchmarks)."""
    spec = EXTERNAL_MODELS[wildcards.model]
    if spec.get("format") == "nwm_retrospective":  # runoffbench.models.nwm_retrospective
        return (f"--format nwm_retrospective --crosswalk {shlex.quote(spec['crosswalk'])} "
                f"--timezone {shlex.quote(str(spec.get('timezone', 'longitude')))}")
    if spec.get("format") == "mhm":  # runoffbench.models.mhm
        return f"--format mhm --missing-basins {spec.get('missing_basins', 'error')}"
    if spec.get("format", "table") != "camels_benchmark":
        return ""
    return (f"--format camels_benchmark --benchmark {shlex.quote(spec['benchmark'])} "
            f"--missing-basins {spec.get('missing_basins', 'error')}")


def external_crosswalk(wildcards):
    """The crosswalk of an nwm_retrospective model (an input of import_simulation); none for other formats."""
    spec = EXTERNAL_MODELS[wildcards.model]
    return spec["crosswalk"] if spec.get("format") == "nwm_retrospective" else []


MODEL_RUNS["baseline"] = baseline_runs
MODEL_RUNS["external"] = external_runs
