"""Display labels of the runs an analysis figure shows (the ``models:`` of an ``analyses:`` entry).

An analysis table names its runs as the rules do, ``ealstm@loss=nse`` or ``lstm@train_years=3``
(:func:`runoffbench.experiment.parse_run_name`). Its figures take ``models``, as the figures of the metrics
table take their scope's: a mapping run or model name -> display label, whose order is the order shown,
or a list that only orders them. A run is labelled by its own name's label, else by its model's label
followed by its factor levels as words ("LSTM, 3 years"), else by the paper's name of its model
(:data:`MODEL_LABELS`; the registry name where the papers have none) followed by the levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from runoffbench.experiment import parse_run_name

#: the papers' names of the registry's models, the labels of runs an entry leaves unlabelled
MODEL_LABELS = {"lstm": "LSTM", "mclstm": "MC-LSTM", "mc_lstm": "MC-LSTM", "ealstm": "EA-LSTM",
                "dexphydro": "dEXP-HYDRO", "exphydro": "EXP-HYDRO"}

Models = Mapping[str, str] | Sequence[str] | None


def level_words(factor: str, level: str) -> str:
    """A factor level as words: "3 years" (``train_years``), "NSE loss", else "hidden size 64"."""
    if factor == "train_years":
        return f"{level} year{'s' * (str(level) != '1')}"
    if factor == "loss":
        return f"{str(level).upper()} loss"
    return f"{factor.replace('_', ' ')} {level}"


def run_label(run: str, models: Models = None) -> str:
    """The display label of the run ``run`` (module docstring)."""
    labels = dict(models) if isinstance(models, Mapping) else {}
    if run in labels:
        return labels[run]
    base, factors = parse_run_name(run)
    name = labels.get(base) or MODEL_LABELS.get(base, base)
    return ", ".join([name, *(level_words(factor, level) for factor, level in factors.items())])


def ordered_runs(runs: Iterable[str], models: Models = None) -> list[str]:
    """``runs`` (each once) in the order of ``models`` (a run listed by its own name or its model's), those
    it does not list after them in their own order."""
    runs = list(dict.fromkeys(map(str, runs)))
    order = list(models or [])

    def position(run: str) -> int:
        for key in (run, parse_run_name(run)[0]):
            if key in order:
                return order.index(key)
        return len(order)

    return sorted(runs, key=position)


def run_labels(runs: Iterable[str], models: Models = None) -> dict[str, str]:
    """Run name -> display label of ``runs``, in the order shown (:func:`ordered_runs`)."""
    return {run: run_label(run, models) for run in ordered_runs(runs, models)}


def member_label(member) -> str:
    """An analysed member as the figures name it: "seed 0" (analyses read single networks, named by seed)."""
    return f"seed {member}"
