r"""Frame et al. (2023) Figs. 3-4: the signed mass bias by water-resources region, per model.

Boxes of :math:`B = (\sum Q_s - \sum Q_o)/\sum Q_o` per HUC-02 region, one box per model within each
region and one panel per forcing; whiskers at 1.5 IQR, outliers as points. Regions with fewer than
``min_basins`` basins with a mass bias are left out and named under the axis. The value axis spans
the whiskers (and 0), not the outliers, and at most 3 IQR beyond the quartiles of the panel: one
arid basin's B in the thousands would flatten every box; each panel says how many values lie off
the axis. A model with fewer than :data:`BOX_MIN_BASINS` basins in a region (a box without height,
its colour lost) shows each basin as a diamond in the model's colour at the model's place instead.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from runoffbench.errors import DataError
from runoffbench.evaluation.collect import primary_runs
from runoffbench.plots.mass_bias_map import signed_mass_bias
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, note_off_axis, palette, use_style
from runoffbench.regions import drop_small_regions, normalise_code, region_label

#: a model's values in a region form a box from this many basins on; fewer are drawn one marker each
BOX_MIN_BASINS = 3


def plot_mass_bias_by_huc(table: pd.DataFrame, split: str | None = None, min_basins: int = 3,
                          exclude_regions: tuple[str, ...] = ()) -> Figure:
    """Grouped boxplots of the mass bias per region (x) and model (colour), a panel per forcing;
    ``exclude_regions`` (HUC-02 codes) are left out and named, as Frame et al. 2023 leave out 09."""
    chosen = primary_runs(table, split)
    chosen = chosen.assign(bias=signed_mass_bias(chosen), huc_02=chosen["huc_02"].map(normalise_code))
    excluded = {normalise_code(code) for code in exclude_regions}
    valid = chosen.dropna(subset=["bias"])
    valid = valid[~valid["huc_02"].isin(excluded)]
    kept, dropped = drop_small_regions(valid, min_basins)
    if kept.empty:
        raise DataError(f"mass bias by region: no region has {min_basins} or more basins with a complete record")
    models = list(dict.fromkeys(chosen["model"]))
    forcings = list(dict.fromkeys(chosen["forcing"]))
    regions = sorted(kept["huc_02"].unique())
    colours = palette(sorted(models), MODEL_COLOURS)
    use_style()
    fig, axes = plt.subplots(len(forcings), 1, figsize=(DOUBLE_COLUMN, 2.5 * len(forcings) + 0.8),
                             squeeze=False, sharex=True)
    width = 0.8 / len(models)
    for ax, forcing in zip(axes[:, 0], forcings):
        whisker_ends = [0.0]
        for index, model in enumerate(models):
            rows = kept[(kept["model"] == model) & (kept["forcing"] == forcing)]
            groups = [rows.loc[rows["huc_02"] == code, "bias"].to_numpy() for code in regions]
            positions = np.arange(len(regions)) - 0.4 + width * (index + 0.5)
            boxed = [i for i, group in enumerate(groups) if group.size >= BOX_MIN_BASINS]
            if boxed:
                boxes = ax.boxplot([groups[i] for i in boxed], positions=positions[boxed], widths=width * 0.85,
                                   patch_artist=True, medianprops={"color": "black", "linewidth": 0.9},
                                   whiskerprops={"linewidth": 0.7}, capprops={"linewidth": 0.7},
                                   flierprops={"markersize": 2.5, "markeredgewidth": 0.4})
                for box in boxes["boxes"]:
                    box.set(facecolor=colours[model], alpha=0.7, edgecolor="0.25", linewidth=0.7)
                whisker_ends += [y for whisker in boxes["whiskers"] for y in whisker.get_ydata()]
            for i, group in enumerate(groups):
                if 0 < group.size < BOX_MIN_BASINS:  # a box of one or two values has no height: the values
                    ax.scatter(np.full(group.size, positions[i]), group, s=16, marker="D", color=colours[model],
                               edgecolors="black", linewidths=0.5, zorder=4)
                    whisker_ends += list(group)
        ax.axhline(0, color="0.3", linestyle="--", linewidth=0.7, zorder=0)
        for boundary in np.arange(len(regions) - 1) + 0.5:  # which boxes belong to which region
            ax.axvline(boundary, color="0.85", linewidth=0.5, zorder=0)
        _fit_to_whiskers(ax, whisker_ends, kept.loc[kept["forcing"] == forcing, "bias"].to_numpy())
        ax.set_ylabel("Mass bias B [-]")
        ax.set_title(forcing, fontsize=8, pad=10)
        ax.grid(axis="y", linewidth=0.4, color="0.88")
        counts = kept[kept["forcing"] == forcing].groupby("huc_02")["basin"].nunique()
        for position, code in enumerate(regions):
            ax.text(position, 1.0, f"n={counts.get(code, 0)}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=6, color="0.3")
    bottom = axes[-1, 0]
    bottom.set_xticks(range(len(regions)), [region_label(code) for code in regions], rotation=35, ha="right",
                      rotation_mode="anchor")
    xlabel = "Water-resources region (HUC-02)"
    notes = []
    if excluded:
        notes.append("left out: " + ", ".join(region_label(c) for c in sorted(excluded)))
    if dropped:
        notes.append(f"not shown (fewer than {min_basins} basins): " + ", ".join(region_label(c) for c in dropped))
    for note in notes:
        xlabel += "\n" + "\n".join(textwrap.wrap(note, 110))
    bottom.set_xlabel(xlabel)
    handles = [Patch(facecolor=colours[m], alpha=0.7, edgecolor="0.25", label=m) for m in models]
    few = kept.groupby(["model", "forcing", "huc_02"])["basin"].nunique()
    if (few < BOX_MIN_BASINS).any():
        handles.append(Line2D([], [], linestyle="", marker="D", markersize=4, markerfacecolor="0.6",
                              markeredgecolor="black", markeredgewidth=0.5,
                              label="region of one or two basins:\neach basin, model colour"))
    axes[0, 0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="Model")
    fig.tight_layout()
    return fig


def _fit_to_whiskers(ax, whisker_ends: list[float], values: np.ndarray) -> None:
    """The y range of the whiskers and 0, at most 3 IQR of all ``values`` of the panel beyond their
    quartiles (a region of one or two basins has its values as whisker ends), padded by 8 %; a note
    counts the values outside it."""
    ends = np.asarray(whisker_ends, dtype=float)
    ends = ends[np.isfinite(ends)]
    q1, q3 = np.nanpercentile(values, [25, 75]) if np.isfinite(values).any() else (0.0, 0.0)
    low = min(max(ends.min(), q1 - 3 * (q3 - q1)), 0.0)
    high = max(min(ends.max(), q3 + 3 * (q3 - q1)), 0.0)
    pad = 0.08 * (high - low) or 0.05
    low, high = low - pad, high + pad
    ax.set_ylim(low, high)
    note_off_axis(ax, int(np.sum((values < low) | (values > high))), "outlying value", upper_left=True)
