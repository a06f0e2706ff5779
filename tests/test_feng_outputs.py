"""Outputs no model is trained on (Feng et al. 2022): the process table (simulated BFI against CAMELS, ET against
MOD16A2 composites), the series table (basins near the median NSE, flows and dynamic parameters), Table 2, the
several-split scope of Fig. 2, the figures, and the untrained-output check of Feng Sect. 3.2 on the embedded
data: the simulated baseflow index of a trained δ model follows the generator's baseflow share."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.evaluation.process import (
    MIN_COMPOSITES,
    baseflow_index,
    median_nse_basins,
    process_score_table,
    process_table,
    series_table,
)
from runoffbench.evaluation.scope import ALL_SPLITS, apply_scope
from runoffbench.outputs import KINDS
from runoffbench.predictions import make_predictions, write_predictions
from tests.feng_files import modis_starts, write_modis_from_daily

BASINS = ["01000001", "02000002", "03000003", "04000004"]
DATES = pd.date_range("2000-10-01", "2004-09-30", name="date")


def _run(tmp_path, model, member="0", split="s1", forcing="daymet", seed=0, baseflow=True, et=True, components=0):
    rng = np.random.default_rng(seed)
    qsim = rng.gamma(2.0, 1.0, (len(BASINS), DATES.size))
    fluxes = {}
    if baseflow:
        fluxes["baseflow"] = (qsim * np.linspace(0.2, 0.8, len(BASINS))[:, None], "mm/day")
    if et:
        season = 1.5 + np.sin(2 * np.pi * DATES.day_of_year.to_numpy() / 365.25)
        fluxes["et"] = (season[None, :] * np.arange(1, len(BASINS) + 1)[:, None] * rng.lognormal(0, 0.1, qsim.shape),
                        "mm/day")
    extra = {}
    if components:
        extra["beta_t"] = (rng.uniform(1, 6, (len(BASINS), DATES.size, components)), "1", "beta")
    dataset = make_predictions(qsim, qsim * rng.lognormal(0, 0.3, qsim.shape), BASINS, DATES, model=model,
                               forcing=forcing, split=split, member=member, fluxes=fluxes, components=extra)
    return write_predictions(dataset, tmp_path / "runs" / model / forcing / split / member / "predictions.nc")


def _metrics(runs) -> pd.DataFrame:
    rows = []
    for model, forcing, split, member, nse in runs:
        for i, basin in enumerate(BASINS):
            rows.append({"model": model, "forcing": forcing, "split": split, "member": member, "basin": basin,
                         "huc_02": basin[:2], "lat": 40.0 + i, "lon": -100.0 + i, "base_model": model,
                         "NSE": nse[i], "KGE": nse[i] - 0.1})
    return pd.DataFrame(rows)


def _attributes() -> xr.Dataset:
    return xr.Dataset({"baseflow_index": ("basin", [0.25, 0.4, 0.6, 0.75])}, coords={"basin": BASINS})


def test_process_table_bfi_and_et_against_modis(tmp_path):
    delta, lstm = _run(tmp_path, "dhbv"), _run(tmp_path, "lstm", baseflow=False, et=False)
    with xr.open_dataset(delta) as predictions:
        daily = predictions["et"].transpose("date", "basin").to_pandas()
        bfi = baseflow_index(predictions["baseflow"].values.astype(float), predictions["qsim"].values.astype(float))
    write_modis_from_daily(tmp_path / "modis", daily * 1.2, {b: b[:2] for b in BASINS}, "2001-01-01", "2004-12-31")
    metrics = _metrics([("dhbv", "daymet", "s1", "0", [0.5, 0.6, 0.7, 0.8]), ("lstm", "daymet", "s1", "0", [0.7] * 4)])
    table = process_table([delta, lstm], metrics, _attributes(), tmp_path / "modis")
    assert len(table) == 8 and list(table.columns[: len(metrics.columns)]) == list(metrics.columns)
    rows = table[table["model"] == "dhbv"].set_index("basin")
    np.testing.assert_allclose(rows["BFI"], np.linspace(0.2, 0.8, 4), rtol=1e-5)
    np.testing.assert_allclose(rows["BFI"], bfi, rtol=1e-6)
    np.testing.assert_allclose(rows["BFI-CAMELS"], [0.25, 0.4, 0.6, 0.75])
    # MODIS is the simulated ET x 1.2 on the composites: perfect correlation, mean ratio 1.2
    assert (rows["ET-r"] > 0.999).all() and (rows["ET-composites"] >= MIN_COMPOSITES).all()
    np.testing.assert_allclose(rows["ET-mean-MODIS"] / rows["ET-mean"], 1.2, rtol=2e-4)
    starts = modis_starts("2001-01-01", "2004-09-30")
    assert rows["ET-composites"].iloc[0] == len(starts) - 1  # the last composite ends after the test period
    assert table.loc[table["model"] == "lstm", ["BFI", "ET-r"]].isna().all().all()


def test_process_table_without_modis_and_a_test_period_before_2001(tmp_path):
    path = _run(tmp_path, "dhbv")
    metrics = _metrics([("dhbv", "daymet", "s1", "0", [0.5] * 4)])
    table = process_table([path], metrics, _attributes(), None)
    assert table["BFI"].notna().all() and table["ET-r"].isna().all()
    with pytest.raises(DataError, match="process-table: no prediction files"):
        process_table([], metrics, _attributes())


def test_table2_from_the_scoped_process_table(tmp_path):
    delta, lstm = _run(tmp_path, "dhbv"), _run(tmp_path, "lstm", baseflow=False, et=False)
    with xr.open_dataset(delta) as predictions:
        daily = predictions["et"].transpose("date", "basin").to_pandas()
    write_modis_from_daily(tmp_path / "modis", daily, {b: b[:2] for b in BASINS}, "2001-01-01", "2004-12-31")
    metrics = _metrics([("dhbv", "daymet", "s1", "0", [0.5, 0.6, 0.7, 0.8]), ("lstm", "daymet", "s1", "0", [0.7] * 4)])
    table = process_table([delta, lstm], metrics, _attributes(), tmp_path / "modis")
    scoped, _ = apply_scope(table, {"models": {"dhbv": "δn(γ^t,β^t)", "lstm": "LSTM"}})
    built = process_score_table(scoped).table.set_index("model")
    assert built.loc["δn(γ^t,β^t)", "median NSE"] == "0.650" and built.loc["LSTM", "median NSE"] == "0.700"
    r = np.corrcoef(np.linspace(0.2, 0.8, 4), [0.25, 0.4, 0.6, 0.75])[0, 1]
    assert built.loc["δn(γ^t,β^t)", "BFI r (spatial)"] == f"{r:.3f}"
    assert float(built.loc["δn(γ^t,β^t)", "median ET r (temporal)"]) > 0.999
    assert built.loc["LSTM", "BFI r (spatial)"] == "–" and built.loc["LSTM", "ET basins"] == 0


def test_series_table_basins_near_the_median_nse(tmp_path):
    first = _run(tmp_path, "dhbv", components=3)
    second = _run(tmp_path, "dhbv", member="1", seed=1, components=3)
    ensemble = _run(tmp_path, "dhbv", member="ensemble", seed=2)
    lstm = _run(tmp_path, "lstm", baseflow=False, et=False)
    nse = [0.1, 0.55, 0.62, 0.9]  # median 0.585: basins 2 and 3 nearest
    metrics = _metrics([("dhbv", "daymet", "s1", "ensemble", nse), ("dhbv", "daymet", "s1", "0", [0.2] * 4),
                        ("lstm", "daymet", "s1", "0", [0.3] * 4)])
    assert median_nse_basins(metrics, "dhbv", "daymet", "s1", 2) == ["02000002", "03000003"]
    table = series_table([first, second, ensemble, lstm], metrics, "dhbv", count=2)
    assert list(dict.fromkeys(table["basin"])) == ["02000002", "03000003"]
    delta = table[table["model"] == "dhbv"]
    assert set(delta["member"]) == {"ensemble"} and len(delta) == 2 * DATES.size
    assert {"beta_t_0", "beta_t_1", "beta_t_2"} <= set(table.columns)
    with xr.open_dataset(first) as predictions:  # the parameters of the first member, the flows of the ensemble
        expected = predictions["beta_t"].sel(basin="02000002", component=1).values
    np.testing.assert_allclose(delta[delta["basin"] == "02000002"]["beta_t_1"].to_numpy(), expected, rtol=1e-4)
    assert delta["NSE"].iloc[0] == 0.55 and table[table["model"] == "lstm"]["beta_t_0"].isna().all()
    with pytest.raises(DataError, match="several splits"):
        series_table([first, _run(tmp_path, "dhbv", split="s2")], metrics, "dhbv")


def test_several_splits_scope_per_split():
    metrics = pd.concat([_metrics([("a", "daymet", "s1", "0", [0.5] * 4), ("b", "daymet", "s1", "0", [0.6] * 4)]),
                         _metrics([("a_maurer", "maurer", "s2", "0", [0.4, 0.45, -0.2, 0.9])])], ignore_index=True)
    scope = {"split": ["s1", "s2"], "forcings": ["daymet", "maurer"], "models": {"a": "A", "b": "B", "a_maurer": "A"},
             "basins": ["nse_above:0.0"]}
    table, labels = apply_scope(metrics, scope)
    assert list(dict.fromkeys(zip(table["split"], table["forcing"]))) == [("s1", "daymet"), ("s2", "maurer")]
    assert set(table.loc[table["split"] == "s2", "model"]) == {"A"} and labels["a_maurer"] == "A"
    assert len(table[table["split"] == "s2"]) == 3 and len(table[table["split"] == "s1"]) == 8  # filter per split
    every, _ = apply_scope(metrics, {"split": ALL_SPLITS})
    assert set(every["split"]) == {"s1", "s2"}
    with pytest.raises(DataError, match=r"no runs of splits \['s3'\]"):
        apply_scope(metrics, {"split": ["s1", "s3"]})
    assert KINDS["metric_cdfs"].splits == "several"
    assert next(o for o in KINDS["metric_cdfs"].all_options if o.name == "split").type == "strings"


def test_the_figures_draw(tmp_path):
    """Each Feng figure from small tables (names, legends, n= in the panels)."""
    delta = _run(tmp_path, "dhbv", components=4)
    with xr.open_dataset(delta) as predictions:
        daily = predictions["et"].transpose("date", "basin").to_pandas()
    write_modis_from_daily(tmp_path / "modis", daily, {b: b[:2] for b in BASINS}, "2001-01-01", "2004-12-31")
    metrics = _metrics([("dhbv", "daymet", "s1", "0", [0.5, 0.6, 0.7, 0.8])])
    process = process_table([delta], metrics, _attributes(), tmp_path / "modis")
    series = series_table([delta], metrics, "dhbv", count=2)
    for name, table, options in (("metric_cdfs", metrics, {"dashed": ("dhbv",)}), ("bfi_maps", process, {}),
                                 ("et_scores", process, {}), ("median_hydrographs", series, {"years": 1}),
                                 ("parameter_series", series, {"label": "δn(γ^t,β^t)"})):
        figure = KINDS[name].load()(table, **options)
        texts = [t.get_text() for ax in figure.axes for t in ax.texts] + [
            ax.get_title(loc) for ax in figure.axes for loc in ("left", "center")]
        assert figure.axes and any(texts), name
    with pytest.raises(DataError, match="no dynamic parameters"):
        KINDS["parameter_series"].load()(series_table([_run(tmp_path, "x", seed=3)], _metrics(
            [("x", "daymet", "s1", "0", [0.5] * 4)]), "x"))


@pytest.mark.slow
def test_simulated_baseflow_index_follows_the_generator(tmp_path, torch_one_thread, default_run):
    """Feng et al. 2022 Sect. 3.2: Q2/Q of a δ model trained on streamflow only ranks the basins of the embedded
    data by their baseflow share as the generator's noise-free flow has it (Lyne-Hollick baseflow index of the
    truth flow, the rule behind CAMELS' baseflow_index), although no baseflow is ever shown to the model."""
    from scipy.stats import spearmanr

    from runoffbench.data.synthetic.signatures import ladson_baseflow
    from runoffbench.periods import Period
    from runoffbench.training.run import train_run
    from runoffbench.training.settings import parse_settings

    data = default_run / "data"  # the embedded dataset and its caches, as the suite's default run built them
    basins = (data / "raw" / "synthetic" / "basins.txt").read_text().split()
    periods = {"train": Period(pd.Timestamp("1985-10-01"), pd.Timestamp("1995-09-30")),
               "test": Period(pd.Timestamp("1995-10-01"), pd.Timestamp("2005-09-30"))}
    settings = parse_settings("dhbv", {"variant": "delta_n_gamma_t_beta_t", "components": 4, "hidden_size": 16,
                                       "dropout": 0.0, "mode": "seq2seq", "sequence_length": 240, "warmup": 120,
                                       "test_warmup": 365, "epochs": 1, "batch_size": 24, "batches_per_epoch": 120,
                                       "learning_rate": 1e-2, "loss": "feng", "static_attributes": "feng2022"})
    cache = data / "cache" / "synthetic"
    path = train_run(settings, cache / "daymet.nc", cache / "attributes.nc", basins, periods, 0, tmp_path / "run",
                     "daymet", "s")
    with xr.open_dataset(path) as predictions:
        simulated = baseflow_index(predictions["baseflow"].values.astype(float),
                                   predictions["qsim"].values.astype(float))
        order = [str(b) for b in predictions["basin"].values]
    with xr.open_dataset(data / "raw" / "synthetic" / "truth.nc") as truth:
        flow = truth["q"].sel(basin=order, date=slice("1995-10-01", "2005-09-30")).values
    generator = np.array([ladson_baseflow(q).sum() / q.sum() for q in flow])
    rho = spearmanr(simulated, generator)
    assert rho.statistic > 0.35 and rho.pvalue < 0.1, (rho, simulated, generator)
