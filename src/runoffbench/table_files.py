"""Write one table as CSV, Markdown and LaTeX together (contract 4: ``tables/<id>.csv|md|tex``).

The three files hold the same cells; each is written atomically (temporary name, then rename), and
the Markdown and LaTeX copies carry the caption and the notes (e.g. what a significance mark means).
A table with a ``group`` column (e.g. ``forcing``) keeps it as a column in the CSV and is shown as one
block per group value in the Markdown (a heading and a table each) and LaTeX (an italic row spanning
the table above each block) copies, so that a long table stays narrow and readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from runoffbench.io import atomic_output, write_text_atomic

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "±": r"$\pm$", "≤": r"$\leq$", "≥": r"$\geq$", "²": r"$^2$", "−": "-", "σ": r"$\sigma$",
                  "α": r"$\alpha$", "β": r"$\beta$", "μ": r"$\mu$"}


def write_table(table: pd.DataFrame, path: str | Path, caption: str = "", notes: Sequence[str] = (),
                group: str | None = None) -> list[Path]:
    """Write ``table`` (its index as the first column) to ``<path>.csv``, ``.md`` and ``.tex``.

    ``path`` may carry any of the three suffixes or none; ``group`` names a column shown as blocks in
    the Markdown and LaTeX copies (see the module docstring). Returns the three paths.
    """
    base = Path(path)
    if base.suffix in {".csv", ".md", ".tex"}:
        base = base.with_suffix("")
    frame = table.reset_index() if table.index.name or not isinstance(table.index, pd.RangeIndex) else table
    paths = [base.with_name(f"{base.name}.{suffix}") for suffix in ("csv", "md", "tex")]
    with atomic_output(paths[0]) as temporary:
        frame.to_csv(temporary, index=False)
    write_text_atomic(paths[1], to_markdown(frame, caption, notes, group))
    write_text_atomic(paths[2], to_latex(frame, caption, notes, label=base.name, group=group))
    return paths


def to_markdown(frame: pd.DataFrame, caption: str = "", notes: Sequence[str] = (), group: str | None = None) -> str:
    """A GitHub-flavoured Markdown table, caption above and notes below; one per value of ``group``."""
    lines = [f"**{caption}**", ""] if caption else []
    for title, block in _blocks(frame, group):
        if title is not None:
            lines += [f"**{title}**", ""]
        lines.append("| " + " | ".join(str(c) for c in block.columns) + " |")
        lines.append("|" + "|".join(["---"] + ["--:"] * (len(block.columns) - 1)) + "|")
        for row in block.itertuples(index=False):
            lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
        lines.append("")
    lines = lines[:-1]
    for note in notes:  # a paragraph each; a leading "*" (a significance mark) is not a list bullet
        lines += ["", "\\" + note if note.startswith("*") else note]
    return "\n".join(lines) + "\n"


def to_latex(frame: pd.DataFrame, caption: str = "", notes: Sequence[str] = (), label: str = "",
             group: str | None = None) -> str:
    """A ``table`` environment with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); with
    ``group``, an italic row spanning the table heads each block of that column's values."""
    blocks = _blocks(frame, group)
    shown = blocks[0][1].columns
    columns = "l" + "r" * (len(shown) - 1)
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{tab:{label}}}")
    lines += [rf"\begin{{tabular}}{{{columns}}}", r"\toprule",
              " & ".join(latex_escape(str(c)) for c in shown) + r" \\", r"\midrule"]
    for index, (title, block) in enumerate(blocks):
        if title is not None:
            if index:
                lines.append(r"\addlinespace")
            lines.append(rf"\multicolumn{{{len(shown)}}}{{l}}{{\textit{{{latex_escape(title)}}}}} \\")
        lines += [" & ".join(latex_escape(_cell(v)) for v in row) + r" \\" for row in block.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\smallskip{{\footnotesize {latex_escape(note)}}}" for note in notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and typeset the Greek and maths symbols the tables use."""
    return "".join(_LATEX_SPECIAL.get(character, character) for character in text)


def _blocks(frame: pd.DataFrame, group: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    """``[(None, frame)]``, or per value of column ``group`` (in order) its title and rows without it."""
    if group is None or group not in frame.columns:
        return [(None, frame)]
    blocks = [(f"{group.capitalize()}: {value}", rows.drop(columns=group))
              for value, rows in frame.groupby(group, sort=False)]
    return blocks or [(None, frame.drop(columns=group))]


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:.3g}"
    return str(value)
