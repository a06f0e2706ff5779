# Settings and helpers of the analyses stage (analyses.smk), derived from the validated config and the
# analysis registry (runoffbench.analysis.registry, stdlib only): each kind's options, products and figures.
import re

from runoffbench.analysis.registry import (
    ANALYSIS_KINDS,
    figure_names,
    output_kind_entry,
    product_names,
    report_text,
    settings_argument,
    table_names,
)
import runoffbench.outputs as outputs_registry

ANALYSES = config.get("analyses") or {}


def analysis_kind_of(name):
    """The registered kind of the analysis ``name``."""
    return ANALYSIS_KINDS[ANALYSES[name]["kind"]]


def analysed_models(name, spec):
    """The nn models an analysis reads: its `models`, each checked against the config's nn models."""
    models = spec.get("models") or list(NN_MODELS)
    # a swept entry's name stands for every run of its sweep (lstm: lstm@train_years=1, lstm@train_years=3, ...)
    models = [run for m in models for run in ([m] if m in NN_MODELS else
                                              [r for r, s in NN_MODELS.items() if s.get("base_model") == m] or [m])]
    unknown = [m for m in models if m not in NN_MODELS]
    if unknown:
        raise ValueError(f"config key analyses.{name}.models: {unknown} are not nn models of the config "
                         f"({', '.join(NN_MODELS)})")
    return models


def analysis_args(wildcards):
    """The kind and its per-run options (`--settings JSON`, the registry's defaults for the rest)."""
    spec = ANALYSES[wildcards.analysis]
    return f"{spec['kind']} {settings_argument(spec, 'run')}".strip()


def analysis_summary_args(wildcards):
    """The kind and the options of its experiment-level step."""
    spec = ANALYSES[wildcards.analysis]
    return f"{spec['kind']} {settings_argument(spec, 'summary')}".strip()


def analysis_tables(name):
    """The per-run tables of analysis ``name`` (contract 6), one per run of every model it reads (of the seeds
    in its `members`, when it lists some)."""
    spec = ANALYSES[name]
    chosen = {str(m) for m in spec.get("members") or []}
    return [
        run_path(ANALYSIS_FILE.replace("{analysis}", name), model, forcing, split, member)
        for model in analysed_models(name, spec)
        for forcing, split, members in nn_runs(model, NN_MODELS[model])
        for member in members if not chosen or str(member) in chosen
    ]


def analysis_summary_inputs(wildcards):
    """The joined table of an analysis and, for a kind that reads them, the dataset's attributes."""
    inputs = {"table": f"{RESULTS}/tables/{wildcards.analysis}.csv"}
    if analysis_kind_of(wildcards.analysis).reads_attributes:
        inputs["attributes"] = f"{CACHE}/attributes.nc"
    return inputs


def analysis_figure_use(name, suffix):
    """The figure of analysis ``name`` written as figures/<name>[_<suffix>] (kind and table)."""
    return next(use for use in analysis_kind_of(name).figures if use.suffix == suffix)


def analysis_table_use(name, suffix):
    """The formatted table of analysis ``name`` written as tables/<name>_<suffix>.csv|md|tex."""
    return next(use for use in analysis_kind_of(name).tables if use.suffix == suffix)


def analysis_output_use(name, suffix, section):
    """The figure (``section`` figures) or formatted table (tables) of analysis ``name`` with ``suffix``."""
    return (analysis_figure_use if section == "figures" else analysis_table_use)(name, suffix)


def analysis_output_options(name, suffix, section):
    """The flags of the command drawing that output: the keys of the analysis's entry that are options of its
    kind in the output registry (the display labels of its runs, `models`)."""
    kind = outputs_registry.output_kind(analysis_output_use(name, suffix, section).kind, section)
    output_id = f"{name}_{suffix}" if suffix else name
    return outputs_registry.command_line(section, output_id, output_kind_entry(ANALYSES[name], kind))


def analysis_report_entry(name, suffix, section):
    """What the report's caption (workflow/report/caption.rst) shows of that output: the entry's caption and
    paper for its kind, and the config key a missing caption belongs under."""
    spec, kind = ANALYSES[name], analysis_output_use(name, suffix, section).kind
    several = len(analysis_kind_of(name).output_kinds) > 1
    return {"caption": report_text(spec, "caption", kind), "paper": report_text(spec, "paper", kind),
            "key": f"analyses: {name}: caption:" + (f" {kind}:" if several else "")}


def analysis_described(section):
    """For `reported`: wildcards -> (id, kind, entry with caption and paper) of an analysis's output."""

    def described(wildcards):
        suffix = wildcards.get("suffix", "")
        entry = analysis_report_entry(wildcards.analysis, suffix, section)
        kind = analysis_output_use(wildcards.analysis, suffix, section).kind
        return (f"{wildcards.analysis}_{suffix}" if suffix else wildcards.analysis), kind, entry

    return described


def analysis_figure_table(name, suffix, tables=False):
    """The table a figure (``tables``: a formatted table) of analysis ``name`` reads."""
    reads = (analysis_table_use if tables else analysis_figure_use)(name, suffix).reads
    return f"{RESULTS}/tables/{name}_{reads}.csv" if reads else f"{RESULTS}/tables/{name}.csv"


def analysis_ids(kinds=None, predicate=None):
    """Wildcard constraint: the ids of the analyses (of ``kinds``; whose kind passes ``predicate``)."""
    ids = [n for n, s in ANALYSES.items() if (kinds is None or s["kind"] in kinds)
           and (predicate is None or predicate(ANALYSIS_KINDS[s["kind"]]))]
    return "|".join(re.escape(n) for n in ids) or "^$"


#: the suffixes of the figures beside an analysis's main one (figures/<id>_<suffix>)
ANALYSIS_FIGURE_SUFFIXES = "|".join(sorted({use.suffix for name in ANALYSES
                                            for use in analysis_kind_of(name).figures if use.suffix})) or "^$"


#: the suffixes of the formatted tables of the analyses (tables/<id>_<suffix>.csv|md|tex)
ANALYSIS_TABLE_SUFFIXES = "|".join(sorted({use.suffix for name in ANALYSES
                                           for use in analysis_kind_of(name).tables})) or "^$"


def analysis_outputs():
    """Every analysis's per-run tables, its experiment table, its products and its figures."""
    outputs = [path for name in ANALYSES for path in analysis_tables(name)]
    outputs += [f"{RESULTS}/tables/{name}.csv" for name in ANALYSES]
    outputs += [f"{RESULTS}/tables/{product}.csv" for name in ANALYSES
                for product in product_names(name, analysis_kind_of(name))]
    outputs += [f"{RESULTS}/figures/{figure}.{ext}" for name in ANALYSES
                for figure in figure_names(name, analysis_kind_of(name)) for ext in ("pdf", "png")]
    outputs += [f"{RESULTS}/tables/{table}.{ext}" for name in ANALYSES
                for table in table_names(name, analysis_kind_of(name)) for ext in ("csv", "md", "tex")]
    return outputs


STAGE_OUTPUTS.append(analysis_outputs)
