"""Evaluation figures: files written, axes labelled with units, legends, errors for missing models."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from runoffbench.cli import main
from runoffbench.errors import ConfigError
from runoffbench.outputs import KINDS
from runoffbench.plots.style import save_figure
from tests.test_tables import metrics_table

MASS = ["Mass-Bias-Absolute", "Mass-Bias-Positive", "Mass-Bias-Negative", "MI"]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    metrics = metrics_table(n_basins=12)
    rng = np.random.default_rng(2)
    bias = rng.normal(0.0, 0.2, len(metrics))
    metrics["Mass-Bias-Absolute"], metrics["Mass-Bias-Positive"] = np.abs(bias), np.maximum(bias, 0)
    metrics["Mass-Bias-Negative"], metrics["MI"] = np.minimum(bias, 0), rng.uniform(0.5, 2.0, len(metrics))
    codes = ["01", "02", "17"]
    metrics["huc_02"] = [codes[int(b) % 3] if int(b) < 11 else "18" for b in metrics["basin"]]
    metrics["lat"] = 35 + metrics["basin"].astype(int) % 10
    metrics["lon"] = -110 + 3 * (metrics["basin"].astype(int) % 12)
    return metrics


@pytest.mark.parametrize("figure_id, options, xlabel", [
    ("nse_cdf", {}, "Nash-Sutcliffe efficiency NSE [-]"),
    ("kge_cdf", {}, "Kling-Gupta efficiency KGE [-]"),
    ("mutual_information_cdf", {}, "Mutual information I(Qobs; Qsim) [nats]"),
    ("kge_difference_cdf", {"pair": ("lstm", "mean_flow")}, "KGE(lstm) − KGE(mean_flow) [-]"),
])
def test_cdf_figures_label_axes_and_write_files(tmp_path, table, figure_id, options, xlabel):
    fig = KINDS[figure_id].load()(table, **options)
    ax = fig.axes[0]
    assert ax.get_xlabel() == xlabel and ax.get_ylabel() == "Fraction of basins [-]"
    # the legend sits under the axes, where it cannot hide a curve, and names every line
    assert ax.get_legend() is None and len(fig.legends) == 1
    labelled = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [text.get_text() for text in fig.legends[0].get_texts()] == labelled and labelled
    pdf, png = save_figure(fig, tmp_path / f"{figure_id}.pdf")
    assert pdf.stat().st_size > 5000 and png.stat().st_size > 20000


def test_kge_difference_axis_stays_on_one_and_counts_basins_beyond(table):
    outlier = table.copy()
    outlier.loc[outlier["model"] == "mean_flow", "KGE"] = 0.5  # every difference within ±1 ...
    collapsed = (outlier["model"] == "lstm") & (outlier["forcing"] == "daymet") & (outlier["basin"] == "00000003")
    outlier.loc[collapsed, "KGE"] = -150.0  # ... but for one basin where the model collapses
    fig = KINDS["kge_difference_cdf"].load()(outlier, pair=("lstm", "mean_flow"))
    assert fig.axes[0].get_xlim() == (-1.0, 1.0)
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels[0].startswith("daymet: lstm better in ") and labels[0].endswith(", 1 beyond ±1")
    assert all("beyond" not in label for label in labels[1:])


def test_mass_bias_figures(tmp_path, table):
    cdf = KINDS["mass_bias_cdf"].load()(table)
    assert len(cdf.axes) == 6 and cdf.axes[0].get_xlabel() == "|B| [-]"
    assert cdf.axes[0].get_title().endswith("total absolute mass bias")
    boxes = KINDS["mass_bias_by_huc"].load()(table, min_basins=2)
    labels = [t.get_text() for t in boxes.axes[-1].get_xticklabels()]
    assert labels == ["01 New England", "02 Mid-Atlantic", "17 Pacific Northwest"]
    assert "not shown (fewer than 2 basins): 18 California" in boxes.axes[-1].get_xlabel()
    assert boxes.axes[0].get_ylabel() == "Mass bias B [-]"
    figure = KINDS["mass_bias_map"].load()(table)
    assert figure.axes[0].get_title() == "lstm (daymet), n=12"
    assert "Mass bias" in figure.axes[-1].get_xlabel()  # the colour bar
    save_figure(figure, tmp_path / "map.pdf")


def test_mass_bias_figures_keep_their_axes_when_one_basin_explodes(table):
    """An arid basin's relative bias in the thousands stays off the axes and is counted."""
    arid = table.copy()
    basin = (arid["model"] == "lstm") & (arid["basin"] == "00000004")
    arid.loc[basin, ["Mass-Bias-Absolute", "Mass-Bias-Positive", "Mass-Bias-Negative"]] = [4900.0, 4900.0, 0.0]
    cdf = KINDS["mass_bias_cdf"].load()(arid)
    assert [ax.get_xlim() for ax in cdf.axes[:3]] == [(0.0, 1.0), (0.0, 1.0), (-1.0, 0.0)]
    assert cdf.axes[0].get_ylabel() == "daymet\nFraction of basins [-]"
    assert [t.get_text() for t in cdf.axes[0].texts] == ["1 value off the axis"]
    assert len(cdf.axes[2].texts) == 0
    boxes = KINDS["mass_bias_by_huc"].load()(arid, min_basins=2)
    low, high = boxes.axes[0].get_ylim()
    assert low < 0 < high < 10  # the boxes of biases within ±1 stay readable
    assert [t.get_text() for t in boxes.axes[0].texts if "off the axis" in t.get_text()] == [
        "1 outlying value off the axis"]


def test_skill_score_needs_its_baseline(table):
    fig = KINDS["kge_skill_cdf"].load()(table, baseline="mean_flow")
    assert fig.axes[1].get_xlabel() == "KGE skill score against mean_flow [-]"
    with pytest.raises(ConfigError, match=r"model\(s\) \['lstm_v2'\] needed for the KGE skill score"):
        KINDS["kge_skill_cdf"].load()(table, baseline="lstm_v2")


def test_hydrographs_from_cli(tmp_path):
    dates = pd.date_range("2000-10-01", periods=60)
    rows = []
    for member in ("0", "1", "ensemble"):
        rows.append(pd.DataFrame({"model": "lstm", "forcing": "daymet", "split": "s", "member": member,
                                  "basin": "01000001", "date": dates, "qobs": np.linspace(1, 3, 60),
                                  "qsim": np.linspace(1, 3, 60) * (1.1 if member == "1" else 0.9)}))
    path = tmp_path / "hydrographs.csv"
    pd.concat(rows).to_csv(path, index=False)
    assert main(["figure", "hydrographs", "--table", str(path), "--output", str(tmp_path / "h.pdf")]) == 0
    assert (tmp_path / "h.png").stat().st_size > 20000
    fig = KINDS["hydrographs"].load()(pd.read_csv(path, dtype={"basin": str, "member": str}))
    assert fig.axes[0].get_ylabel() == "Streamflow [mm/day]"
    assert "lstm: range of 2 members" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert main(["figure", "hydrographs", "--table", str(path), "--output", str(tmp_path / "l.pdf"), "--log",
                 "--models", "lstm"]) == 0


#: model -> (members, multiplicative error of the central member); lstm best, mean_flow worst
HYDRO_MODELS = {"lstm": (["0", "1", "ensemble"], 0.1), "sacsma": (["0"], 0.25), "ealstm": (["0", "1"], 0.4),
                "climatology": (["0", "1", "2", "ensemble"], None), "mean_flow": (["0"], None), "dhbv": (["0"], 0.6)}


@pytest.fixture(scope="module")
def hydrograph_table() -> pd.DataFrame:
    """Two basins over water years 2000-2002 (mean flow 1, 2 and 1.5 times a base: 2002 is the median)."""
    dates = pd.date_range("1999-10-01", "2002-09-30")
    water_year = dates.year + (dates.month >= 10)
    level = pd.Series(water_year).map({2000: 1.0, 2001: 2.0, 2002: 1.5}).to_numpy()
    rng = np.random.default_rng(11)
    rows = []
    for basin in ("01000001", "02000002"):
        season = 1.5 + np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25)
        qobs = level * season * rng.gamma(3.0, 1 / 3, dates.size) + 0.05
        for model, (members, error) in HYDRO_MODELS.items():
            for member in members:
                if model == "climatology":
                    qsim = level.mean() * season + 0.1 * (member == "1")
                elif model == "mean_flow":
                    qsim = np.full(dates.size, qobs.mean())
                else:
                    spread = 1.0 if member == "ensemble" else (0.85 if member == "0" else 1.15)
                    qsim = qobs * spread * rng.lognormal(0.0, error, dates.size)
                rows.append(pd.DataFrame({"model": model, "forcing": "daymet", "split": "s", "member": member,
                                          "basin": basin, "date": dates, "qobs": qobs, "qsim": qsim}))
    return pd.concat(rows, ignore_index=True)


def _lines(ax):
    return {line.get_gid(): line for line in ax.get_lines()}


def test_hydrographs_show_few_models_one_year_and_the_observation_on_top(hydrograph_table):
    fig = KINDS["hydrographs"].load()(hydrograph_table)
    maps = [ax for ax in fig.axes if ax.get_lines()]
    assert len(maps) == 2
    for ax in maps:
        lines = ax.get_lines()
        observed = [line for line in lines if line.get_label() == "observed"]
        assert len(observed) == 1 and observed[0].get_color() in ("black", "k", "#000000")
        assert observed[0].get_zorder() > max(line.get_zorder() for line in lines if line is not observed[0])
        assert observed[0].get_zorder() > max(c.get_zorder() for c in ax.collections)
        # at most three simulations: by default the best three by median NSE over the shown basins
        assert sorted(line.get_gid() for line in lines if line is not observed[0]) == ["ealstm", "lstm", "sacsma"]
        start, end = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
        assert pd.Timestamp("2001-10-01") <= start and end <= pd.Timestamp("2002-10-01")  # water year 2002
        x = pd.Timestamp(observed[0].get_xdata()[0])
        assert x == pd.Timestamp("2001-10-01")
        assert ax.get_yscale() == "linear"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == "observed"
    assert "lstm (ensemble mean)" in legend and "lstm: range of 2 members" in legend
    assert "ealstm (mean of 2 members)" in legend and "ealstm: range of 2 members" in legend and "sacsma" in legend


def test_hydrograph_seed_band_spans_the_members(hydrograph_table):
    fig = KINDS["hydrographs"].load()(hydrograph_table, models=["lstm"])
    ax = fig.axes[0]
    band = [c for c in ax.collections if c.get_label() == "lstm: range of 2 members"]
    assert len(band) == 1
    rows = hydrograph_table[(hydrograph_table["model"] == "lstm") & (hydrograph_table["basin"] == "01000001")]
    rows = rows[(rows["date"] >= "2001-10-01") & rows["member"].isin(["0", "1"])]
    wide = rows.pivot(index="date", columns="member", values="qsim")
    top = band[0].get_paths()[0].vertices[:, 1]
    assert top.max() == pytest.approx(wide.max(axis=1).max()) and top.min() == pytest.approx(wide.min(axis=1).min())


def test_hydrograph_options_choose_models_years_and_a_log_axis(hydrograph_table):
    fig = KINDS["hydrographs"].load()(hydrograph_table, models=["climatology", "mean_flow"], water_year=2000,
                                          years=2, log=True)
    ax = fig.axes[0]
    assert sorted(_lines(ax)) == ["climatology", "mean_flow", "observed"]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] > 0
    start, end = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    assert start <= pd.Timestamp("1999-10-02") and pd.Timestamp("2001-09-29") <= end < pd.Timestamp("2001-10-02")
    with pytest.raises(ConfigError, match="water year 1990"):
        KINDS["hydrographs"].load()(hydrograph_table, water_year=1990)
    with pytest.raises(ConfigError, match=r"model\(s\) \['nwm'\]"):
        KINDS["hydrographs"].load()(hydrograph_table, models=["nwm"])


def test_mutual_information_figure_names_its_estimator(table):
    """The per-basin MI is the bias-corrected KSG estimate; the figure says so (a plug-in histogram
    estimate on one year would be dominated by its bias)."""
    fig = KINDS["mutual_information_cdf"].load()(table)
    notes = " ".join(text.get_text() for text in fig.axes[0].texts)
    assert "Kraskov et al. 2004" in notes and "k = 3" in notes and "independent series: 0" in notes


SEVEN_MODELS = ["lstm", "ealstm", "mclstm", "dhbv", "exphydro", "sacsma", "climatology"]


def _map_table(forcings, gaps: bool = False, n_basins: int = 30) -> pd.DataFrame:
    """Primary runs of seven models: a signed mass bias per basin, optionally NaN (gaps) for two basins."""
    rng = np.random.default_rng(9)
    rows = []
    for model in SEVEN_MODELS:
        for forcing in forcings:
            bias = rng.normal(0.0, 0.2, n_basins)
            if gaps:
                bias[:2] = np.nan
            rows.append(pd.DataFrame({
                "model": model, "forcing": forcing, "split": "s1", "member": "0",
                "basin": [f"{i:08d}" for i in range(n_basins)], "huc_02": "01",
                "lat": rng.uniform(30, 48, n_basins), "lon": rng.uniform(-122, -70, n_basins),
                "Mass-Bias-Positive": np.maximum(bias, 0), "Mass-Bias-Negative": np.minimum(bias, 0)}))
    return pd.concat(rows, ignore_index=True)


def _maps(fig):
    return [ax for ax in fig.axes if ax.get_title()]


@pytest.mark.parametrize("forcings, columns", [(["daymet"], 3), (["daymet", "nldas"], 4),
                                               (["daymet", "maurer", "nldas", "nldas_extended"], 4)])
def test_mass_bias_map_is_a_grid_of_legible_maps(forcings, columns):
    """Seven models used to be one 2.6 × 12.9 in column of maps: now a page-wide grid, no taller than a page."""
    fig = KINDS["mass_bias_map"].load()(_map_table(forcings))
    maps = _maps(fig)
    assert len(maps) == 7 * len(forcings)
    fig.canvas.draw()
    lefts = sorted({round(ax.get_position().x0, 3) for ax in maps})
    assert len(lefts) == columns
    width, height = fig.get_size_inches()
    assert width == pytest.approx(7.2) and height <= 9.0
    panel = maps[0].get_window_extent().width / fig.dpi
    assert panel >= 1.6  # inches: a CONUS map with its basins still readable
    titles = [ax.get_title() for ax in maps]
    # every panel states how many basins it covers (item 4: a run that left basins out shows fewer)
    assert titles[0] == f"lstm ({forcings[0]}), n=30" and f"climatology ({forcings[-1]}), n=30" in titles


def test_every_run_figure_states_its_basin_count(table):
    """Item 4: each run's curve or panel says how many basins it covers."""
    fewer = table[~((table["model"] == "mean_flow") & (table["basin"] == "00000000"))]
    for figure_id in ("nse_cdf", "kge_cdf", "mutual_information_cdf", "mass_bias_cdf", "mass_bias_map"):
        fig = KINDS[figure_id].load()(fewer)
        texts = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
        texts += [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        texts += [ax.get_title() for ax in fig.axes]
        assert any("mean_flow (daymet)" in t and "n=11" in t for t in texts), (figure_id, texts)
        assert any("lstm (daymet)" in t and "n=12" in t for t in texts), (figure_id, texts)
        plt.close(fig)


def test_mass_bias_map_names_missing_records_only_when_there_are_some():
    complete = KINDS["mass_bias_map"].load()(_map_table(["daymet"]))
    assert all(ax.get_legend() is None for ax in complete.axes) and not complete.legends
    gappy = KINDS["mass_bias_map"].load()(_map_table(["daymet"], gaps=True))
    labels = [t.get_text() for legend in gappy.legends for t in legend.get_texts()]
    labels += [t.get_text() for ax in gappy.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert labels == ["no complete record (2 basins)"]


def test_mass_bias_by_huc_keeps_model_colours_in_single_basin_regions(table):
    """A region of one basin used to get one flat box per model, its colour invisible: now each model's
    value is a marker in the model's colour at the model's place within the region."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import PathPatch

    from runoffbench.plots.style import MODEL_COLOURS

    fig = KINDS["mass_bias_by_huc"].load()(table, min_basins=1)
    ax = fig.axes[0]  # daymet
    regions = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    position = regions.index("18 California")
    models = ["lstm", "mean_flow"]
    width = 0.8 / len(models)
    for index, model in enumerate(models):
        x = position - 0.4 + width * (index + 0.5)
        expected = table[(table["model"] == model) & (table["forcing"] == "daymet") & (table["basin"] == "00000011")
                         & (table["member"] == ("ensemble" if model == "lstm" else "0"))]
        bias = float(expected["Mass-Bias-Positive"].iloc[0] + expected["Mass-Bias-Negative"].iloc[0])
        markers = [c for c in ax.collections if len(c.get_offsets())
                   and np.allclose(c.get_offsets(), [[x, bias]])]
        assert len(markers) == 1, model
        assert np.allclose(markers[0].get_facecolors()[0][:3], to_rgba(MODEL_COLOURS[model])[:3])
        flat = [p for p in ax.patches if isinstance(p, PathPatch)
                and abs(p.get_path().vertices[:, 0].mean() - x) < width / 2]
        assert not flat  # no zero-height box
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == models and any("one or two basins" in label for label in legend)
