"""The EA-LSTM's catchment embedding (Kratzert et al. 2019, Sect. 2.8 and 3.5, Figs. 8-12).

Per run (contract 6, kind ``embedding``): the input gate i = σ(W_i x_s + b_i) of every basin — the
vector through which the static attributes alone scale what enters the cell state — with one column
``cell_000`` … per cell, and the standardised static inputs x_s the network saw (``static_<name>``).

Over the runs (the experiment-level step, :func:`embedding_summary`, on ``tables/<id>.csv``):

- ``silhouette``: k-means (Euclidean, ``restarts`` initialisations, the lowest inertia kept, a fixed
  ``seed``) for k = ``k_min`` … ``k_max`` of every network's embedding and of the raw standardised
  attributes (the same x_s, clustered once per model, forcing and split: ``member`` is ``-``); per
  clustering the mean silhouette over the basins (``silhouette_mean``), the smallest of the clusters'
  mean silhouettes (``silhouette_min``) and the smallest of a single basin (``silhouette_min_basin``).
  Fig. 9 shows the mean and minimum per k, the embedding's averaged over the networks (the seeds).
- ``clusters``: the cluster of every basin in each of those clusterings (with the basin's ``lat`` and
  ``lon`` where the joined table has them, for the maps of Fig. 11).
- ``variance``: for k in ``variance_k`` (the paper's 5 and 6), the fractional reduction of the variance
  of each hydrological signature (the 13 of CAMELS' ``camels_hydro.txt``) by the clusters,
  1 − Σ_c Σ_{b∈c} (s_b − s̄_c)² / Σ_b (s_b − s̄)², over the basins where the signature is defined (Fig. 10).
- ``umap``: a two-dimensional UMAP (umap-learn; ``umap_neighbors``, ``umap_min_dist``, ``seed``) of one
  network's embedding (``umap_member``, default the first), with each basin's static attributes in
  physical units from ``attributes.nc`` for colouring (Fig. 12).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import torch

from runoffbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

CELL_PREFIX = "cell_"
STATIC_PREFIX = "static_"
#: the ``member`` of the rows of the raw-attribute clusterings
ATTRIBUTES_MEMBER = "-"
GROUP = ("model", "forcing", "split")


def embedding_table(run, tensors) -> pd.DataFrame:
    """The registered per-run function (kind ``embedding``): a row per basin with its input gate
    (``cell_000`` …) and its standardised static inputs (``static_<name>``)."""
    embed = getattr(run.model, "embedding", None)
    if not callable(embed):
        raise DataError(f"embedding: {run.run_dir} is a {type(run.model).__name__}, which has no embedding")
    with torch.no_grad():
        gate = embed(tensors.x_s).double().cpu().numpy()
    width = max(3, len(str(gate.shape[1] - 1)))
    cells = pd.DataFrame(gate, columns=[f"{CELL_PREFIX}{k:0{width}d}" for k in range(gate.shape[1])])
    statics = pd.DataFrame(tensors.x_s.double().cpu().numpy(),
                           columns=[f"{STATIC_PREFIX}{name}" for name in run.normalisation.static_names])
    return pd.concat([pd.DataFrame({"basin": list(run.config["basins"])}), cells, statics], axis=1)


def cell_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c.startswith(CELL_PREFIX)]


def static_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c.startswith(STATIC_PREFIX)]


def kmeans_labels(values: np.ndarray, k: int, restarts: int, seed: int) -> np.ndarray:
    """k-means labels of the rows of ``values``: ``restarts`` k-means++ initialisations from ``seed``,
    the lowest inertia kept (reproducible for a seed)."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=restarts, random_state=seed).fit_predict(values)


def silhouettes(values: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Mean silhouette, the smallest cluster mean and the smallest single value (Euclidean)."""
    from sklearn.metrics import silhouette_samples

    scores = silhouette_samples(values, labels)
    per_cluster = pd.Series(scores).groupby(labels).mean()
    return {"silhouette_mean": float(scores.mean()), "silhouette_min": float(per_cluster.min()),
            "silhouette_min_basin": float(scores.min())}


def variance_reduction(values: np.ndarray, labels: np.ndarray) -> float:
    """1 − within-cluster / total sum of squares of ``values`` over its finite entries (NaN if constant)."""
    finite = np.isfinite(values)
    values, labels = values[finite], labels[finite]
    total = float(((values - values.mean()) ** 2).sum()) if values.size else 0.0
    if total <= 0:
        return float("nan")
    means = pd.Series(values).groupby(labels).transform("mean").to_numpy()
    return 1.0 - float(((values - means) ** 2).sum()) / total


def _member_order(members) -> list[str]:
    return sorted(set(members), key=lambda m: (0, int(m), "") if str(m).isdigit() else (1, 0, str(m)))


def _spaces(group: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(space, member, basin-indexed values): every network's embedding, then the raw attributes once."""
    cells, statics = cell_columns(group), static_columns(group)
    members = _member_order(group["member"])
    spaces = []
    for member in members:
        rows = group[group["member"] == member].set_index("basin")
        spaces.append(("embedding", member, rows[cells]))
    if statics:
        first = group[group["member"] == members[0]].set_index("basin")
        spaces.append(("attributes", ATTRIBUTES_MEMBER, first[statics]))
    return spaces


def embedding_summary(table: pd.DataFrame, attributes: pd.DataFrame | None, k_min: int = 2, k_max: int = 15,
                      restarts: int = 10, seed: int = 0, variance_k=(5, 6), signatures=None, umap_member: str = "",
                      umap_neighbors: int = 15, umap_min_dist: float = 0.1) -> dict[str, pd.DataFrame]:
    """The experiment-level products of kind ``embedding`` (module docstring) from the joined table of
    every run; ``attributes``: ``attributes.nc`` as a frame indexed by basin (the signatures)."""
    from runoffbench.analysis.registry import CAMELS_SIGNATURES

    signatures = list(signatures if signatures is not None else CAMELS_SIGNATURES)
    missing = [c for c in ("basin", "member", *GROUP) if c not in table.columns]
    if missing or not cell_columns(table):
        raise DataError(f"embedding summary: the table lacks {missing or 'cell_* columns'} "
                        "(runoffbench analyse embedding --collect)")
    if k_min > k_max:
        raise ConfigError(f"embedding: k_min ({k_min}) exceeds k_max ({k_max})")
    outside = [k for k in variance_k if not k_min <= k <= k_max]
    if outside:
        raise ConfigError(f"embedding: variance_k {outside} lie outside k_min..k_max ({k_min}..{k_max})")
    if attributes is not None:
        absent = [s for s in signatures if s not in attributes.columns]
        if absent:
            raise DataError(f"embedding: attributes.nc has no signature(s) {absent} (analyses.<id>.signatures "
                            f"chooses them; it has {', '.join(map(str, attributes.columns))})")
    table = table.astype({"basin": str, "member": str})
    places = [c for c in ("lat", "lon") if c in table.columns]
    silhouette_rows, cluster_frames, variance_rows, maps = [], [], [], []
    for key, group in table.groupby(list(GROUP), sort=False):
        labels_of = dict(zip(GROUP, key, strict=True))
        where = group.drop_duplicates("basin").set_index("basin")[places]
        for space, member, values in _spaces(group):
            n = len(values)
            largest = min(k_max, n - 1)
            if largest < k_min:
                raise DataError(f"embedding: {n} basins cannot be clustered into {k_min}..{k_max} clusters "
                                "(silhouettes need 2 <= k < basins)")
            if largest < k_max:
                warnings.warn(f"embedding: k up to {largest} only ({n} basins)", stacklevel=2)
            matrix = values.to_numpy(dtype="float64")
            for k in range(k_min, largest + 1):
                labels = kmeans_labels(matrix, k, restarts, seed)
                silhouette_rows.append({**labels_of, "member": member, "space": space, "k": k, "seed": seed,
                                        **silhouettes(matrix, labels)})
                cluster_frames.append(pd.DataFrame({**labels_of, "member": member, "space": space, "k": k,
                                                    "seed": seed, "basin": values.index, "cluster": labels,
                                                    **{c: where[c].reindex(values.index).to_numpy()
                                                       for c in places}}))
                if k in variance_k and attributes is not None:
                    for signature in signatures:
                        observed = attributes[signature].reindex(values.index).to_numpy(dtype="float64")
                        variance_rows.append({**labels_of, "member": member, "space": space, "k": k, "seed": seed,
                                              "signature": signature,
                                              "variance_reduction": variance_reduction(observed, labels)})
        maps.append(_umap(group, labels_of, attributes, umap_member, umap_neighbors, umap_min_dist, seed))
    log.info("embedding: %d clusterings", len(silhouette_rows))
    return {"silhouette": pd.DataFrame(silhouette_rows),
            "clusters": pd.concat(cluster_frames, ignore_index=True),
            "variance": pd.DataFrame(variance_rows, columns=[*GROUP, "member", "space", "k", "seed", "signature",
                                                             "variance_reduction"]),
            "umap": pd.concat(maps, ignore_index=True)}


def umap_coordinates(values: np.ndarray, neighbors: int, min_dist: float, seed: int) -> np.ndarray:
    """(rows, 2) UMAP of ``values`` (umap-learn, one thread: reproducible for a seed)."""
    try:
        import umap
    except ImportError:
        raise ConfigError("the embedding's UMAP needs umap-learn (pip install umap-learn; envs/analysis.yaml "
                          "has it)") from None
    neighbors = min(neighbors, len(values) - 1)
    reducer = umap.UMAP(n_neighbors=neighbors, min_dist=min_dist, random_state=seed, n_jobs=1)
    return reducer.fit_transform(values)


def _umap(group, labels_of, attributes, member, neighbors, min_dist, seed) -> pd.DataFrame:
    members = _member_order(group["member"])
    chosen = member or members[0]
    if chosen not in members:
        raise ConfigError(f"embedding: umap_member {chosen!r} is not a member of {labels_of['model']} "
                          f"({', '.join(members)})")
    rows = group[group["member"] == chosen].set_index("basin")
    xy = umap_coordinates(rows[cell_columns(group)].to_numpy(dtype="float64"), neighbors, min_dist, seed)
    frame = pd.DataFrame({"basin": rows.index, "x": xy[:, 0], "y": xy[:, 1], **labels_of, "member": chosen,
                          "seed": seed})
    for column in static_columns(group):
        name = column.removeprefix(STATIC_PREFIX)
        if attributes is not None and name in attributes.columns:
            frame[name] = attributes[name].reindex(rows.index).to_numpy()
        else:  # an encoded input (e.g. one category of a class attribute): the standardised value
            frame[name] = rows[column].to_numpy()
    return frame
