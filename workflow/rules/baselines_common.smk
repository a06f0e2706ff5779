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


def _benchmark_downloads():
    """Folders of camels_benchmark models that do not exist yet: download_camels_benchmarks fetches the
    release into them (the camels_benchmarks entry of dataset.download_sources)."""
    folders = {}
    for name, spec in EXTERNAL_MODELS.items():
        path = spec["path"]
        if spec.get("format") == "camels_benchmark" and not Path(path).exists() and not Path(path).suffix:
            folders.setdefault(path, name)
    if folders and not DATASET.get("download_sources"):
        path, name = next(iter(folders.items()))
        raise ValueError(f"config key models.{name}.path: {path} does not exist; unpack the CAMELS benchmark "
                         "models there (README) or set dataset.download_sources to a sources file with a "
                         "camels_benchmarks entry to download them")
    return sorted(folders)


BENCHMARK_DOWNLOADS = _benchmark_downloads()


def external_simulation(wildcards):
    """The simulation an external model imports; a benchmark folder still to be downloaded: its manifest."""
    path = EXTERNAL_MODELS[wildcards.model]["path"]
    return f"{path}/download_manifest.json" if path in BENCHMARK_DOWNLOADS else path


MODEL_RUNS["baseline"] = baseline_runs
MODEL_RUNS["external"] = external_runs
