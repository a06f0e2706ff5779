"""The outputs of Kratzert et al. 2019 (issue 14) on hand-made tables: Table 3 (metric_summary), the Sect. 3.1
pairs of the comparison table, the common:MODELS basin filter (the 447 of the benchmark models), a kind that
reads every member through the CLI, the coverage note in display labels, Table 4 (morris_ranking), the maps
(attribute_map, metric_map, embedding_clusters) and the download of the benchmark release."""

from __future__ import annotations

import io
import json
import tarfile

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.analysis.morris import rank_attributes, ranking_table
from runoffbench.cli import main
from runoffbench.cli.outputs import expected_in_scope
from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.scope import apply_scope
from runoffbench.evaluation.tables import comparison_table, metric_summary_table
from runoffbench.models.camels_benchmarks import MANIFEST, fetch_release
from runoffbench.plots.embedding import plot_embedding_clusters
from runoffbench.plots.value_map import plot_attribute_map, plot_metric_map

matplotlib.use("Agg")

BASINS = [f"{i:02d}000000" for i in range(1, 11)]
METRICS = ("NSE", "Alpha-NSE", "Beta-NSE", "FHV", "FMS", "FLV")


def metrics(rows=None) -> pd.DataFrame:
    """Two seeds and the ensemble of ealstm and lstm_no_static, one run of sac_sma (missing two basins) and
    of vic_conus (missing one): NSE = level + basin index / 100 + seed / 10."""
    records = []
    runs = {"ealstm": (0.7, ["0", "1", "ensemble"]), "lstm_no_static": (0.5, ["0", "1", "ensemble"]),
            "sac_sma": (0.6, ["0"]), "vic_conus": (0.4, ["0"])}
    for model, (level, members) in runs.items():
        basins = BASINS[:-2] if model == "sac_sma" else BASINS[1:] if model == "vic_conus" else BASINS
        for member in members:
            shift = 0.15 if member == "ensemble" else int(member) / 10
            for i, basin in enumerate(basins):
                value = level + i / 100 + shift
                records.append({"model": model, "base_model": model, "forcing": "daymet", "split": "s1",
                                "member": member, "basin": basin, "huc_02": basin[:2], "lat": 35.0 + i,
                                "lon": -100.0 + i, **{m: value for m in METRICS}})
    return pd.DataFrame.from_records(records if rows is None else rows)


def test_metric_summary_has_single_and_ensemble_rows_and_one_row_per_benchmark():
    built = metric_summary_table(metrics())
    table = built.table.set_index(["model", "members"])
    single = table.loc[("ealstm", "single (2)")]
    # mean NSE of seed 0: 0.7 + 0.045, of seed 1: 0.8 + 0.045 -> 0.795 ± 0.071
    assert single["NSE mean"] == "0.795 ± 0.071" and single["NSE ≤ 0"] == "0 ± 0"
    assert table.loc[("ealstm", "ensemble"), "NSE median"] == "0.895"
    assert table.loc[("sac_sma", "single"), "NSE mean"] == "0.635"  # one run: its value, no ±
    assert ("sac_sma", "ensemble") not in table.index
    assert list(built.table.columns)[4:] == ["NSE mean", "NSE median", "NSE ≤ 0", "α-NSE", "β-NSE", "FHV [%]",
                                             "FMS [%]", "FLV [%]"]
    with pytest.raises(DataError, match=r"lacks metric\(s\) \['KGE'\]"):
        metric_summary_table(metrics(), names=("KGE",))


def test_comparison_pairs_compare_each_model_with_its_own_reference():
    table, labels = apply_scope(metrics(), {"models": {"ealstm": "EA-LSTM", "lstm_no_static": "LSTM w/o",
                                                       "sac_sma": "SAC-SMA"}, "members": "seed_mean"})
    built = comparison_table(table, pairs={"EA-LSTM": "LSTM w/o", "SAC-SMA": "LSTM w/o"}, names=("NSE",))
    rows = built.table.set_index("model")
    assert rows.loc["EA-LSTM", "reference"] == "LSTM w/o" and rows.loc["EA-LSTM", "wins"] == 10
    assert rows.loc["SAC-SMA", "basins"] == 8  # the basins both have
    assert "each basin's mean over the seeds" in built.caption
    with pytest.raises(ConfigError, match=r"comparison pairs: \['mhm'\] have no runs"):
        comparison_table(table, pairs={"mhm": "LSTM w/o"}, names=("NSE",))


def test_common_of_named_models_judges_runs_that_are_not_shown():
    scope = {"models": ["ealstm"], "basins": ["common:sac_sma,vic_conus"]}
    table, _ = apply_scope(metrics(), scope)
    assert sorted(table["basin"].unique()) == BASINS[1:-2]  # sac_sma lacks the last two, vic_conus the first
    assert set(apply_scope(metrics(), {**scope, "basins": ["common"]})[0]["basin"]) == set(BASINS)
    assert apply_scope(metrics(), {**scope, "basins": ["common:all"]})[0]["basin"].nunique() == 7
    with pytest.raises(DataError, match=r"common:mhm: \['mhm'\] have no runs"):
        apply_scope(metrics(), {**scope, "basins": ["common:mhm"]})


def test_a_kind_reading_every_member_gets_them_through_the_cli(tmp_path):
    path = tmp_path / "metrics.csv"
    metrics().to_csv(path, index=False)
    output = tmp_path / "t.csv"
    assert main(["table", "single_vs_ensemble", "--table", str(path), "--output", str(output),
                 "--models", json.dumps({"ealstm": "EA-LSTM"}), "--expected-runs", "ealstm/daymet",
                 "sac_sma/daymet"]) == 0
    table = pd.read_csv(output)
    assert table["members"].tolist() == [2] and table["single: mean"].iloc[0] == "0.795 ± 0.071"
    assert "configured runs" not in (tmp_path / "t.md").read_text()  # ealstm is there, as "EA-LSTM"


def test_expected_runs_follow_the_scope_and_its_labels():
    labels = {"lstm": "LSTM", "ealstm@loss=nse": "EA-LSTM (NSE*)"}
    expected = ["lstm@loss=mse/daymet", "ealstm@loss=nse/daymet", "ealstm@loss=mse/daymet", "sac_sma/daymet",
                "lstm@loss=mse/nldas"]
    assert expected_in_scope(expected, {"models": labels, "forcings": ["daymet"]}, labels) == [
        "LSTM@loss=mse/daymet", "EA-LSTM (NSE*)/daymet"]
    assert expected_in_scope(expected, {}, {}) == expected


def test_table_4_ranks_the_attributes_by_their_mean_sensitivity():
    per_basin = pd.DataFrame({"basin": np.repeat(BASINS[:3], 3), "attribute": ["a", "b", "c"] * 3,
                              "sensitivity": [1.0, 0.5, 0.1, 0.8, 1.0, 0.2, 1.0, 0.3, 0.0],
                              "model": "ealstm", "forcing": "daymet", "split": "s1", "member": "0"})
    for table in (per_basin, rank_attributes(per_basin)):  # the per-basin table or the product
        built = ranking_table(table)
        assert built.table["attribute"].tolist() == ["a", "b", "c"] and built.table["rank"].tolist() == [1, 2, 3]
        assert built.table["mean sensitivity"].tolist() == ["0.933", "0.600", "0.100"]
        assert built.group == "model" and "Table 4" in built.caption
    with pytest.raises(DataError, match="lacks"):
        ranking_table(pd.DataFrame({"attribute": ["a"]}))


def test_attribute_and_metric_maps():
    attributes = pd.DataFrame({"basin": BASINS, "gauge_lat": np.linspace(30, 45, 10),
                               "gauge_lon": np.linspace(-120, -75, 10), "elev_mean": np.arange(10) * 100.0,
                               "aridity": np.linspace(0.3, 2, 10), "frac_forest": np.linspace(0, 1, 10),
                               "p_mean": np.linspace(1, 6, 10), "geol_1st_class": "x"})
    fig = plot_attribute_map(attributes)
    maps = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in maps] == ["elev_mean (n=10)", "aridity (n=10)", "frac_forest (n=10)",
                                               "p_mean (n=10)"]
    assert "mean elevation [m]" in [ax.get_ylabel() for ax in fig.axes]  # the colour bar names the unit
    with pytest.raises(DataError, match=r"no \['slope'\]"):
        plot_attribute_map(attributes, attributes=("slope",))
    with pytest.raises(DataError, match="not numbers"):
        plot_attribute_map(attributes, attributes=("geol_1st_class",))
    table, _ = apply_scope(metrics(), {"models": {"ealstm": "EA-LSTM", "sac_sma": "SAC-SMA"}})
    fig = plot_metric_map(table, vmin=0.0, vmax=0.8)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["EA-LSTM, n=10, 10 beyond the scale", "SAC-SMA, n=8"]


def test_cluster_maps_match_the_attributes_clusters_to_the_embeddings():
    """The same grouping under other cluster numbers gets the same colours in both panels."""
    embedding = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    attributes = [{0: 2, 1: 0, 2: 1}[c] for c in embedding]  # permuted labels
    rows = []
    for space, member, labels in (("embedding", "0", embedding), ("attributes", "-", attributes)):
        rows += [{"model": "ealstm", "forcing": "daymet", "split": "s1", "member": member, "space": space, "k": 3,
                  "seed": 0, "basin": b, "cluster": c, "lat": 35.0 + i, "lon": -100.0 + i}
                 for i, (b, c) in enumerate(zip(BASINS, labels, strict=True))]
    fig = plot_embedding_clusters(pd.DataFrame(rows), ks=(3,))
    left, right = (ax.collections[-1].get_facecolors() for ax in fig.axes[:2])
    np.testing.assert_array_equal(left, right)
    assert len({tuple(c) for c in left}) == 3
    with pytest.raises(DataError, match="lacks"):
        plot_embedding_clusters(pd.DataFrame(rows).drop(columns="lat"))


def _release_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        for name in ("netcdf/01013500_benchmark_models.nc", "netcdf/02011400_benchmark_models.nc", "README.txt"):
            data = xr.Dataset({"QObs": ("index", np.ones(3))}, coords={"index": pd.date_range("1989-10-01",
                                                                                          periods=3)})
            payload = data.to_netcdf() if name.endswith(".nc") else b"readme"
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def test_the_release_is_downloaded_and_its_basin_files_extracted(server, tmp_path):
    server.files["/474ecc37/netcdf.tar.xz"] = _release_archive()
    sources = {"camels_benchmarks": {"url": server.url("/474ecc37/netcdf.tar.xz"), "sha256": None}}
    manifest = fetch_release(sources, tmp_path / "camels_benchmarks", progress=False)
    assert manifest == tmp_path / "camels_benchmarks" / MANIFEST
    assert json.loads(manifest.read_text())["files"] == 2
    assert (tmp_path / "camels_benchmarks" / "netcdf" / "02011400_benchmark_models.nc").is_file()
    assert not (tmp_path / "camels_benchmarks" / "README.txt").exists()
    with pytest.raises(ConfigError, match="camels_benchmarks"):
        fetch_release({}, tmp_path / "other", progress=False)
