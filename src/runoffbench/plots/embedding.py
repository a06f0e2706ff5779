"""Kratzert et al. (2019) Figs. 8, 9, 10 and 12: the EA-LSTM's catchment embedding.

Each function reads one table of an ``embedding`` analysis (:mod:`runoffbench.analysis.embedding`):

- :func:`plot_embedding_heatmap` (Fig. 8), the joined per-run table ``tables/<id>.csv``: the input-gate
  activation of every cell (rows) and basin (columns, in the order of their ids, i.e. by HUC-02
  region, the regions marked) of one network.
- :func:`plot_embedding_silhouette` (Fig. 9), ``tables/<id>_silhouette.csv``: mean and minimum silhouette
  per number of clusters k, the embedding's averaged over the networks (the band: their range) against
  the raw attributes'.
- :func:`plot_embedding_variance` (Fig. 10), ``tables/<id>_variance.csv``: the fractional reduction of each
  signature's variance by the k clusters, a panel per k, the embedding's mean over the networks (the
  whisker: their range) beside the raw attributes'.
- :func:`plot_embedding_umap` (Fig. 12), ``tables/<id>_umap.csv``: the UMAP of one network's embedding,
  a panel per attribute, the basins coloured by its value.

Each takes ``models``, the display labels and order of the networks' runs (:mod:`runoffbench.plots.labels`);
a function showing one network takes the first in that order unless ``model`` names another.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from runoffbench.errors import DataError
from runoffbench.plots.labels import Models, member_label, ordered_runs, run_label
from runoffbench.plots.style import DOUBLE_COLUMN, MODEL_COLOURS, SINGLE_COLUMN, palette, use_style

_SPACE_COLOURS = {"embedding": "#0072B2", "attributes": "#D55E00"}
#: the legend entries of the two clustered spaces (``{model}``: the network's display label)
_SPACE_LABELS = {"embedding": "{model} embedding", "attributes": "raw catchment attributes"}
#: attributes Fig. 12 colours by, where the network reads them
UMAP_ATTRIBUTES = ("aridity", "p_mean", "frac_snow", "high_prec_dur", "elev_mean", "frac_forest")


def _require(table: pd.DataFrame, columns, what: str, product: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what}: the table lacks {missing} (tables/<id>{product}.csv of an embedding analysis)")


def _one(table: pd.DataFrame, column: str, value, what: str, models: Models = None):
    """``table`` restricted to ``column == value`` (default: the first value; of a model column, the first
    run in the order of ``models``)."""
    values = list(dict.fromkeys(table[column].astype(str)))
    if column == "model":
        values = ordered_runs(values, models)
    chosen = values[0] if value is None else str(value)
    if chosen not in values:
        raise DataError(f"{what}: no {column} {chosen!r} in the table ({', '.join(values)})")
    return table[table[column].astype(str) == chosen], chosen


def plot_embedding_heatmap(table: pd.DataFrame, model: str | None = None, member: str | None = None,
                           sort_cells: bool = False, models: Models = None) -> Figure:
    """Input-gate activations, cells × basins, of one network (the first ``model`` and ``member`` by
    default); ``sort_cells`` orders the cells by their mean activation."""
    from runoffbench.analysis.embedding import cell_columns

    _require(table, ("basin", "model", "member"), "embedding heat map", "")
    cells = cell_columns(table)
    if not cells:
        raise DataError("embedding heat map: the table has no cell_* columns (runoffbench analyse embedding)")
    rows, model = _one(table, "model", model, "embedding heat map", models)
    rows, member = _one(rows, "member", member, "embedding heat map")
    rows = rows.assign(basin=rows["basin"].astype(str)).sort_values("basin")
    values = rows[cells].to_numpy(dtype=float).T
    if sort_cells:
        values = values[np.argsort(-values.mean(axis=1), kind="stable")]
    use_style()
    fig, ax = plt.subplots(figsize=(DOUBLE_COLUMN, 3.0), layout="constrained")
    image = ax.imshow(values, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0.0, vmax=1.0)
    regions = rows["basin"].str[:2].to_numpy()
    starts = [0] + [i for i in range(1, len(regions)) if regions[i] != regions[i - 1]]
    for start in starts[1:]:
        ax.axvline(start - 0.5, color="white", linewidth=0.5)
    ends = starts[1:] + [len(regions)]
    ax.set_xticks([(a + b - 1) / 2 for a, b in zip(starts, ends, strict=True)], [regions[a] for a in starts],
                  fontsize=5.5)
    ax.tick_params(axis="x", length=0)
    ax.set_xlabel(f"Basins by HUC-02 region ({len(regions)} basins)")
    ax.set_ylabel(f"Input-gate cell{' (by mean activation)' if sort_cells else ''}")
    ax.set_title(f"{run_label(model, models)}, {member_label(member)}", loc="left", fontsize="small")
    fig.colorbar(image, ax=ax, shrink=0.9, pad=0.01, label=r"Input gate $i = \sigma(W_i\,x_s + b_i)$ [-]")
    return fig


def plot_embedding_silhouette(table: pd.DataFrame, minimum: str = "silhouette_min", models: Models = None) -> Figure:
    """Two panels, mean and minimum silhouette against k (module docstring); ``minimum`` is the column of
    the second (``silhouette_min``: the smallest cluster mean; ``silhouette_min_basin``: of a basin)."""
    _require(table, ("model", "space", "k", "silhouette_mean", minimum), "silhouette figure", "_silhouette")
    runs = ordered_runs(table["model"], models)
    table = table.assign(model=table["model"].astype(str)).sort_values(
        "model", key=lambda names: names.map(runs.index), kind="stable")
    use_style()
    fig, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 2.6), sharex=True, layout="constrained")
    styles = {"embedding": "-", "attributes": "--"}
    colours = palette(runs, MODEL_COLOURS) if len(runs) > 1 else {runs[0]: None}
    for ax, column, title in zip(axes, ("silhouette_mean", minimum), ("mean", "minimum"), strict=True):
        stats = table.groupby(["model", "space", "k"], sort=False)[column].agg(["mean", "min", "max", "count"])
        for (model, space), rows in stats.groupby(level=["model", "space"], sort=False):
            rows = rows.droplevel(["model", "space"]).sort_index()
            colour = colours[model] or _SPACE_COLOURS.get(space)
            label = _SPACE_LABELS.get(space, space).format(model=run_label(model, models))
            if space != "embedding" and len(runs) > 1:  # each model's attribute clustering, named by it
                label += f" ({run_label(model, models)})"
            if space == "embedding" and rows["count"].max() > 1:
                label += f", mean of {int(rows['count'].max())} networks (shaded: their range)"
                ax.fill_between(rows.index, rows["min"], rows["max"], color=colour, alpha=0.2, linewidth=0)
            ax.plot(rows.index, rows["mean"], styles.get(space, ":"), marker="o", markersize=2.5, color=colour,
                    label=label)
        ax.set_xlabel("Number of clusters k")
        ax.set_ylabel(f"{title.capitalize()} silhouette [-]")
        ax.set_xticks(sorted(table["k"].unique()))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=6, frameon=False)
    return fig


def plot_embedding_variance(table: pd.DataFrame, ks=None, model: str | None = None, models: Models = None) -> Figure:
    """A panel per k (default: every k of the table) of bars per signature: the fractional variance
    reduction by the clusters of the embedding (mean over the networks, whiskers their range) and of the
    raw attributes."""
    _require(table, ("model", "space", "k", "signature", "variance_reduction"), "variance figure", "_variance")
    if table.empty:
        raise DataError("variance figure: the table is empty (no attributes.nc signatures were given)")
    rows, model = _one(table, "model", model, "variance figure", models)
    ks = sorted(rows["k"].unique()) if ks is None else list(ks)
    signatures = list(dict.fromkeys(rows["signature"]))
    spaces = [s for s in ("embedding", "attributes") if s in set(rows["space"])]
    use_style()
    fig, axes = plt.subplots(len(ks), 1, figsize=(DOUBLE_COLUMN, 1.9 * len(ks) + 0.4), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    width = 0.8 / max(len(spaces), 1)
    x = np.arange(len(signatures))
    members = rows.loc[rows["space"] == "embedding", "member"].nunique()
    for ax, k in zip(axes[:, 0], ks, strict=True):
        at_k = rows[rows["k"] == k]
        if at_k.empty:
            raise DataError(f"variance figure: no k = {k} in the table (analyses.<id>.variance_k)")
        for index, space in enumerate(spaces):
            stats = (at_k[at_k["space"] == space].groupby("signature")["variance_reduction"]
                     .agg(["mean", "min", "max"]).reindex(signatures))
            position = x - 0.4 + width * (index + 0.5)
            error = np.vstack([stats["mean"] - stats["min"], stats["max"] - stats["mean"]])
            label = _SPACE_LABELS[space].format(model=run_label(model, models))
            if space == "embedding" and members > 1:
                label += f", mean of {members} networks (whiskers: their range)"
            ax.bar(position, stats["mean"], width * 0.9, color=_SPACE_COLOURS[space], label=label,
                   yerr=error if space == "embedding" else None, error_kw={"linewidth": 0.6, "capsize": 1.5})
        ax.set_ylabel("Variance reduction [-]")
        ax.set_title(f"k = {k} clusters", loc="left", fontsize="small")
        ax.axhline(0, color="black", linewidth=0.5)
    axes[-1, 0].set_xticks(x, signatures, rotation=45, ha="right")
    axes[-1, 0].set_xlabel("CAMELS hydrological signature")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=6, frameon=False)
    return fig


def plot_embedding_umap(table: pd.DataFrame, attributes=None, model: str | None = None,
                        models: Models = None) -> Figure:
    """A panel per attribute (default: those of :data:`UMAP_ATTRIBUTES` the table has, else its first six)
    of the UMAP of one network's embedding, each basin coloured by the attribute's value."""
    _require(table, ("basin", "x", "y", "model", "member"), "UMAP figure", "_umap")
    rows, model = _one(table, "model", model, "UMAP figure", models)
    reserved = {"basin", "x", "y", "model", "forcing", "split", "member", "seed"}
    available = [c for c in rows.columns if c not in reserved and pd.api.types.is_numeric_dtype(rows[c])]
    if attributes is None:
        attributes = [a for a in UMAP_ATTRIBUTES if a in available] or available[:6]
    unknown = [a for a in attributes if a not in available]
    if unknown or not attributes:
        raise DataError(f"UMAP figure: no attribute(s) {unknown or 'at all'} in the table; it has "
                        f"{', '.join(available) or 'none'}")
    columns = min(3, len(attributes))
    lines = math.ceil(len(attributes) / columns)
    panel = DOUBLE_COLUMN / columns if columns > 1 else SINGLE_COLUMN
    use_style()
    fig, axes = plt.subplots(lines, columns, figsize=(panel * columns, panel * 0.85 * lines), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    from runoffbench.plots.value_map import ATTRIBUTE_LABELS

    size = 14 if len(rows) <= 200 else 6
    for ax, attribute in zip(axes.flat, attributes, strict=False):
        ax.set_axis_on()
        points = ax.scatter(rows["x"], rows["y"], c=rows[attribute], cmap="viridis", s=size, linewidths=0.2,
                            edgecolors="0.3")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("UMAP 1", fontsize=6, labelpad=1)
        ax.set_ylabel("UMAP 2", fontsize=6, labelpad=1)
        ax.set_title(attribute, fontsize=7.5, pad=2)
        bar = fig.colorbar(points, ax=ax, shrink=0.85, pad=0.01)
        bar.set_label(ATTRIBUTE_LABELS.get(attribute, (attribute,))[0], fontsize=6)
        bar.ax.tick_params(labelsize=6)
    member = rows["member"].iloc[0]
    fig.suptitle(f"UMAP of the input gates of {run_label(model, models)}, {member_label(member)} ({len(rows)} basins)",
                 fontsize=8)
    return fig


#: colours of the clusters (Okabe-Ito, then Paul Tol's muted scheme): up to 18 distinguishable clusters
_CLUSTER_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
                    "#117733", "#AA4499", "#44AA99", "#999933", "#661100", "#6699CC", "#CC6677", "#DDCC77",
                    "#88CCEE", "#332288")
#: the width (inches) the cluster legend takes beside the maps of a row
_CLUSTER_LEGEND_WIDTH = 1.0


def plot_embedding_clusters(table: pd.DataFrame, ks=(5, 6), model: str | None = None,
                            member: str | None = None, models: Models = None) -> Figure:
    """Fig. 11: CONUS maps of the k-means clusters (a row per k in ``ks`` that the table has), of one
    network's embedding (``member``, default the first) beside those of the raw attributes. Clusters are
    numbered by size in the embedding; the attributes' clusters take the number of the embedding cluster
    they share most basins with (an optimal one-to-one matching), so equal colours mean similar groups."""
    from scipy.optimize import linear_sum_assignment

    from runoffbench.analysis.embedding import ATTRIBUTES_MEMBER
    from runoffbench.plots.conus import draw_conus

    _require(table, ("model", "member", "space", "k", "basin", "cluster", "lat", "lon"), "cluster maps", "_clusters")
    rows, model = _one(table, "model", model, "cluster maps", models)
    rows = rows.assign(member=rows["member"].astype(str), basin=rows["basin"].astype(str))
    members = [m for m in dict.fromkeys(rows.loc[rows["space"] == "embedding", "member"])]
    if not members:
        raise DataError("cluster maps: no embedding clustering in the table")
    chosen = members[0] if member is None else str(member)
    if chosen not in members:
        raise DataError(f"cluster maps: no member {chosen!r} ({', '.join(members)})")
    ks = [k for k in ks if k in set(rows["k"])] or sorted(rows["k"].unique())[:2]
    spaces = [("embedding", chosen, _SPACE_LABELS["embedding"].format(model=run_label(model, models))
               + f", {member_label(chosen)}"),
              ("attributes", ATTRIBUTES_MEMBER, _SPACE_LABELS["attributes"].capitalize())]
    spaces = [s for s in spaces if ((rows["space"] == s[0]) & (rows["member"] == s[1])).any()]
    use_style()
    width = DOUBLE_COLUMN if len(spaces) > 1 else DOUBLE_COLUMN * 0.6
    panel = (width - _CLUSTER_LEGEND_WIDTH) / len(spaces)  # a map's width beside the legend on the right
    fig, axes = plt.subplots(len(ks), len(spaces), figsize=(width, len(ks) * (0.56 * panel + 0.3)),
                             squeeze=False, layout="constrained")
    marker = 14.0 if rows["basin"].nunique() <= 200 else 6.0
    for line, k in enumerate(ks):
        at_k = rows[rows["k"] == k]
        reference = None
        for column, (space, owner, title) in enumerate(spaces):
            clustering = at_k[(at_k["space"] == space) & (at_k["member"] == owner)].set_index("basin")
            labels = clustering["cluster"].astype(int)
            if reference is None:
                order = labels.value_counts().index.tolist()  # numbered by size
                numbers = labels.map({c: i for i, c in enumerate(order)})
                reference = numbers
            else:
                common = reference.index.intersection(labels.index)
                overlap = pd.crosstab(labels.loc[common], reference.loc[common])
                own, theirs = linear_sum_assignment(-overlap.to_numpy())
                mapping = {overlap.index[a]: overlap.columns[b] for a, b in zip(own, theirs, strict=True)}
                spare = iter(range(k, 10 * k))
                numbers = labels.map(lambda c, m=mapping, s=spare: m[c] if c in m else next(s))
            ax = axes[line, column]
            draw_conus(ax)
            ax.set_xticks([])
            ax.set_yticks([])
            colours = [_CLUSTER_COLOURS[n % len(_CLUSTER_COLOURS)] for n in numbers]
            ax.scatter(clustering["lon"], clustering["lat"], c=colours, s=marker, edgecolors="black",
                       linewidths=0.25, zorder=3)
            ax.set_title(f"{title}, k = {k} clusters", fontsize=7, pad=2)
        handles = [plt.Line2D([], [], marker="o", linestyle="", markerfacecolor=_CLUSTER_COLOURS[n % len(
                   _CLUSTER_COLOURS)], markeredgecolor="black", markeredgewidth=0.3,
                   label=f"{n + 1} ({int((reference == n).sum())})") for n in range(k)]
        axes[line, -1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6,
                              title="Cluster (basins in\nthe embedding)", title_fontsize=6, frameon=False,
                              borderaxespad=0)
    return fig
