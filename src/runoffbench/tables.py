"""Write one table as CSV, Markdown and LaTeX together (contract 4: ``tables/<id>.csv|md|tex``).

The three files hold the same cells; each is written atomically (temporary name, then rename), and
the Markdown and LaTeX copies carry the caption and the notes (e.g. what a significance mark means).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from runoffbench.io import atomic_output, write_text_atomic

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "±": r"$\pm$", "≤": r"$\leq$", "≥": r"$\geq$", "²": r"$^2$", "−": "-", "σ": r"$\sigma$",
                  "α": r"$\alpha$", "β": r"$\beta$"}


def write_table(table: pd.DataFrame, path: str | Path, caption: str = "", notes: Sequence[str] = ()) -> list[Path]:
    """Write ``table`` (its index as the first column) to ``<path>.csv``, ``.md`` and ``.tex``.

    ``path`` may carry any of the three suffixes or none. Returns the three paths.
    """
    base = Path(path)
    if base.suffix in {".csv", ".md", ".tex"}:
        base = base.with_suffix("")
    frame = table.reset_index() if table.index.name or not isinstance(table.index, pd.RangeIndex) else table
    paths = [base.with_name(f"{base.name}.{suffix}") for suffix in ("csv", "md", "tex")]
    with atomic_output(paths[0]) as temporary:
        frame.to_csv(temporary, index=False)
    write_text_atomic(paths[1], to_markdown(frame, caption, notes))
    write_text_atomic(paths[2], to_latex(frame, caption, notes, label=base.name))
    return paths


def to_markdown(frame: pd.DataFrame, caption: str = "", notes: Sequence[str] = ()) -> str:
    """A GitHub-flavoured Markdown table, caption above and notes below."""
    lines = [f"**{caption}**", ""] if caption else []
    lines.append("| " + " | ".join(str(c) for c in frame.columns) + " |")
    lines.append("|" + "|".join(["---"] + ["--:"] * (len(frame.columns) - 1)) + "|")
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
    lines += [""] + [f"{note}" for note in notes] if notes else []
    return "\n".join(lines) + "\n"


def to_latex(frame: pd.DataFrame, caption: str = "", notes: Sequence[str] = (), label: str = "") -> str:
    """A ``table`` environment with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
    columns = "l" + "r" * (len(frame.columns) - 1)
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{tab:{label}}}")
    lines += [rf"\begin{{tabular}}{{{columns}}}", r"\toprule",
              " & ".join(latex_escape(str(c)) for c in frame.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(_cell(v)) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\smallskip{{\footnotesize {latex_escape(note)}}}" for note in notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and typeset the Greek and maths symbols the tables use."""
    return "".join(_LATEX_SPECIAL.get(character, character) for character in text)


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:.3g}"
    return str(value)
