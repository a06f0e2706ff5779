# Settings and helpers of the evaluation rules (evaluation.smk), derived from the validated config.

EVALUATION = config.get("evaluation", {})
EVALUATION_SPLIT = EVALUATION.get("split") or SPLITS[0]
METRICS_ARG = " ".join(EVALUATION.get("metrics", ["all"]))

if "CONCEPTUAL_MODELS" in globals():  # calibration.smk: one run per forcing x split, member = the seed
    MODEL_RUNS.setdefault(
        "conceptual",
        lambda name, spec: [(f, s, [config.get("calibration", {}).get("seed", 0)]) for f in FORCINGS for s in SPLITS],
    )


def evaluation_runs():
    """{(model, forcing, split): [members]} of every model whose kind has a producing rule."""
    found = {}
    for name, spec in MODELS.items():
        producer = MODEL_RUNS.get(spec["kind"])
        if producer is None:
            continue  # e.g. a kind without a producing rule yet, so nothing writes its predictions
        for forcing, split, members in producer(name, spec):
            found[(name, forcing, split)] = [str(m) for m in members]
    return found


RUNS = evaluation_runs()
ENSEMBLE_RUNS = {run: members for run, members in RUNS.items() if len(members) > 1}
EVALUATED_MODELS = sorted({model for model, _, _ in RUNS})


def metrics_files():
    files = [f"{RESULTS}/metrics/{m}/{f}/{s}/{member}.csv" for (m, f, s), members in RUNS.items() for member in members]
    files += [f"{RESULTS}/metrics/{m}/{f}/{s}/ensemble.csv" for (m, f, s) in ENSEMBLE_RUNS]
    return files


def hydrograph_predictions():
    """Every member (and ensemble) of the evaluation split in the hydrograph forcing."""
    forcing = EVALUATION.get("hydrographs", {}).get("forcing", REFERENCE_FORCING)
    paths = []
    for (model, run_forcing, split), members in RUNS.items():
        if run_forcing == forcing and split == EVALUATION_SPLIT:
            names = members + (["ensemble"] if (model, run_forcing, split) in ENSEMBLE_RUNS else [])
            paths += [f"{RESULTS}/runs/{model}/{forcing}/{split}/{m}/predictions.nc" for m in names]
    return paths


def figure_options(figure):
    """CLI options of an evaluation figure from the `evaluation` config section."""
    options = [f"--split {EVALUATION_SPLIT}"]
    if figure == "kge_skill_cdf":
        options.append(f"--baseline {EVALUATION['baseline_model']}")
    if figure == "kge_difference_cdf":
        options.append("--models " + " ".join(EVALUATION["kge_difference"]))
    if figure == "mass_bias_by_huc":
        options.append(f"--min-basins {EVALUATION.get('min_basins_per_region', 3)}")
    if figure == "hydrographs":
        options = [f"--forcing {EVALUATION.get('hydrographs', {}).get('forcing', REFERENCE_FORCING)}"]
    return " ".join(options)


#: tables of `runoffbench table` (runoffbench.evaluation.tables.TABLES), built when listed under `tables:`
EVALUATION_TABLES = ["median_metrics", "single_vs_ensemble", "benchmark", "comparison"]
EVALUATION_FIGURES = ["nse_cdf", "kge_cdf", "mass_bias_cdf", "mass_bias_map", "mass_bias_by_huc",
                      "mutual_information_cdf", "kge_skill_cdf", "kge_difference_cdf", "hydrographs"]


def requested_figures():
    """Evaluation figures listed under the config's `figures`, less those whose models have no runs."""
    wanted = [f for f in EVALUATION_FIGURES if f in config.get("figures", {})]
    baseline = EVALUATION.get("baseline_model")
    if "kge_skill_cdf" in wanted and baseline not in MODELS:
        raise ValueError(f"config key evaluation.baseline_model: {baseline!r} (the KGE skill score's baseline) "
                         f"is not a model of the config; models: {sorted(MODELS)}")
    if "kge_skill_cdf" in wanted and baseline not in EVALUATED_MODELS:
        wanted.remove("kge_skill_cdf")  # listed, but no rule writes its runs yet (e.g. the LSTM, kind nn)
    pair = EVALUATION.get("kge_difference", [])
    if "kge_difference_cdf" in wanted and not (pair and set(pair) <= set(EVALUATED_MODELS)):
        wanted.remove("kge_difference_cdf")  # Frame Fig. 7 needs both models (e.g. MC-LSTM and LSTM)
    return wanted


def requested_tables():
    """Evaluation tables listed under the config's `tables` (run_summary has a rule of its own)."""
    return [t for t in [*EVALUATION_TABLES, "run_summary"] if t in config.get("tables", {})]


def evaluation_split_predictions():
    """Every member and ensemble of every model and forcing in the evaluation split (the run summary's input)."""
    return [
        f"{RESULTS}/runs/{model}/{forcing}/{split}/{member}/predictions.nc"
        for (model, forcing, split), members in RUNS.items()
        if split == EVALUATION_SPLIT
        for member in members + (["ensemble"] if (model, forcing, split) in ENSEMBLE_RUNS else [])
    ]


def evaluation_outputs():
    if not RUNS:
        return []
    outputs = expand(f"{RESULTS}/tables/{{table}}.{{ext}}", table=requested_tables(), ext=["csv", "md", "tex"])
    outputs += expand(f"{RESULTS}/figures/{{figure}}.{{ext}}", figure=requested_figures(), ext=["pdf", "png"])
    return outputs
