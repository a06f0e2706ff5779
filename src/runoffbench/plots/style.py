"""The one plotting style of the project: fonts, sizes, colour maps and how figures are saved.

Every figure function calls :func:`use_style` before drawing and hands its figure to
:func:`save_figure`, so all figures share fonts, line widths and the colour of each region,
forcing product and model.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from runoffbench.io import atomic_output

#: widths of a single-column and a full-page figure in inches (HESS/WRR layouts)
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.2

#: resolution of the PNG copy of every figure
PNG_DPI = 300

#: HUC-02 code -> colour; Kelly's colours of maximum contrast, so neighbouring regions differ
REGION_COLOURS: dict[str, str] = {
    "01": "#0067A5",
    "02": "#BE0032",
    "03": "#F3C300",
    "04": "#875692",
    "05": "#F38400",
    "06": "#A1CAF1",
    "07": "#8DB600",
    "08": "#882D17",
    "09": "#E68FAC",
    "10": "#C2B280",
    "11": "#008856",
    "12": "#604E97",
    "13": "#F99379",
    "14": "#2B3D26",
    "15": "#DCD300",
    "16": "#654522",
    "17": "#B3446C",
    "18": "#E25822",
}

#: model -> colour; later figures add their models here
MODEL_COLOURS: dict[str, str] = {
    "lstm": "#0072B2",
    "ealstm": "#56B4E9",
    "mclstm": "#009E73",
    "dhbv": "#CC79A7",
    "dexphydro": "#F0E442",
    "exphydro": "#E69F00",
    "sacsma": "#D55E00",
    "nwm": "#994F00",
    "mean_flow": "#888888",
    "climatology": "#882255",
    "generator": "#332288",
}
# the papers' spellings of the same models (e.g. frame2023.yaml names its MC-LSTM "mc_lstm")
MODEL_COLOURS.update({"ea_lstm": MODEL_COLOURS["ealstm"], "mc_lstm": MODEL_COLOURS["mclstm"],
                      "sac_sma": MODEL_COLOURS["sacsma"]})

#: colours handed out, in order, to names a palette does not know: Paul Tol's muted scheme, which shares
#: no hue with the Okabe-Ito colours above (a user's new model never looks like a known one)
FALLBACK_COLOURS: tuple[str, ...] = ("#117733", "#AA4499", "#44AA99", "#999933", "#661100", "#6699CC",
                                     "#CC6677", "#DDCC77", "#88CCEE", "#332288")


_RC_PARAMS = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 8,
    "legend.frameon": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}


def use_style() -> None:
    """Apply the project's seaborn theme and rcParams (idempotent)."""
    sns.set_theme(context="paper", style="ticks", rc=_RC_PARAMS)


def palette(names: Iterable[str], colours: dict[str, str]) -> dict[str, str]:
    """Colour of each name: from ``colours`` when known, else that of the model a display label names
    ("MC-LSTM", "LSTM, seed 0", "lstm@train_years=3": :func:`colour_key`) unless another name of the
    figure already has it, else the next unused fallback colour."""
    names = list(dict.fromkeys(names))
    chosen = {name: colours[name] for name in names if name in colours}
    for name in names:
        key = colour_key(name)
        if name not in chosen and key in colours and colours[key] not in chosen.values():
            chosen[name] = colours[key]
    spare = (colour for colour in FALLBACK_COLOURS if colour not in chosen.values())
    return {name: chosen[name] if name in chosen else next(spare, "#333333") for name in names}


def colour_key(name: str) -> str:
    """The registry spelling of a display label: "MC-LSTM, seed 0" -> "mclstm", "lstm@loss=mse" -> "lstm"."""
    return re.sub(r"[^a-z0-9]", "", name.split(",")[0].split("@")[0].lower())


def legend_below(fig: Figure, ax: Axes, columns: int = 2) -> None:
    """One legend for the figure, under its axes, so that it never hides a curve (``ax`` gives the entries)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=min(columns, len(handles)), fontsize=6, frameon=False)


def note_off_axis(ax: Axes, count: int, what: str = "value", upper_left: bool = False) -> None:
    """Say in a corner of ``ax`` how many values lie beyond its limits (nothing when none)."""
    if count:
        x, y, ha, va = (0.005, 0.97, "left", "top") if upper_left else (0.99, 0.02, "right", "bottom")
        ax.text(x, y, f"{count} {what}{'s' * (count != 1)} off the axis", transform=ax.transAxes, ha=ha, va=va,
                fontsize=6, color="0.35", zorder=5, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85,
                                                          "pad": 1.0})


def save_figure(fig: Figure, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``fig`` as ``<path>.pdf`` and ``<path>.png`` (300 dpi) atomically, then close it.

    ``path`` may end in ``.pdf`` or ``.png`` or have no suffix. Each file is written under a
    temporary name in the same folder and renamed, so a failed save leaves no half-written figure.
    Returns the PDF and PNG paths.
    """
    base = Path(path)
    if base.suffix.lower() in {".pdf", ".png"}:
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for fmt in ("pdf", "png"):
            target = base.with_name(f"{base.name}.{fmt}")
            with atomic_output(target) as temporary:
                fig.savefig(temporary, format=fmt)
            written.append(target)
    finally:
        plt.close(fig)
    return written[0], written[1]
