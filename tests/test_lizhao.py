"""config/experiments/lizhao.yaml says what Li & Zhao did, setting by setting (Sect. 2, Table 1; the choices
where the text leaves them open are named in its header); the data amounts, the held-out validation part and
the bad inputs of issue 15 (a data amount longer than the training period, a basin with fewer valid years than
asked); and the statistics of its smoke twin (:func:`check_twin_statistics`, run by tests/test_smoke_configs.py
on the twin's results): the seed spread falls with the data amount."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml

from runoffbench.config_check import check_config
from runoffbench.errors import ConfigError
from runoffbench.failures import read_failures
from runoffbench.models.nn import get_model
from runoffbench.periods import Period, resolve_splits
from runoffbench.training.data import PeriodTensors, fit_normalisation, read_inputs
from runoffbench.training.run import held_out_validation, train_run, training_period
from runoffbench.training.settings import parse_settings
from tests.training_data import BASINS, training_forcings, write_training_cache

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "config" / "experiments" / "lizhao.yaml").read_text())
INPUTS = ("prcp", "tmax", "tmin", "vp", "srad", "dayl")


def _settings(name: str, **overrides):
    entry = {k: v for k, v in CONFIG["models"][name].items() if k not in ("kind", "sweep")}
    return parse_settings(name, {**entry, **overrides})


def test_data_split_and_inputs():
    assert CONFIG["dataset"]["basin_list"] == "531" and CONFIG["dataset"]["forcings"] == ["daymet"]
    split = resolve_splits(CONFIG["splits"])["lizhao"]
    assert str(split["train"]) == "1980-10-01..1995-09-30" and str(split["test"]) == "1995-10-01..2010-09-30"
    for name in ("lstm", "mclstm"):
        assert _settings(name).dynamic_inputs == INPUTS and _settings(name).static_attributes == ()


@pytest.mark.parametrize("name", ["lstm", "mclstm", "dexphydro"])
def test_every_model_is_trained_per_basin_as_the_paper_says(name):
    settings = _settings(name)
    assert settings.training == "local" and settings.seeds == tuple(range(10))
    assert CONFIG["models"][name]["sweep"] == {"train_years": [1, 3, 6, 9, 12, 15]}
    assert (settings.optimizer, settings.batch_size, settings.loss) == ("adam", 256, "nse_squared")  # eq. 13
    rates = [settings.lr_for_epoch(e) for e in (1, 20, 21, 40, 41, 60)]
    assert rates == pytest.approx([0.01, 0.01, 0.003, 0.003, 0.0009, 0.0009])  # 0.01, decay factor 0.3
    assert settings.patience == 10 and settings.validation_fraction == 0.2  # early stopping on a held-out part
    if name != "dexphydro":
        assert (settings.mode, settings.sequence_length) == ("seq2one", 365)


def test_the_networks_and_the_process_models():
    lstm, mclstm = _settings("lstm"), _settings("mclstm")
    assert lstm.model_options["hidden_size"] == 50 and lstm.model_options["dropout"] == 0.4
    assert mclstm.model_options["hidden_size"] == 20 and "dropout" not in mclstm.model_options
    assert mclstm.model_options["mass_gate_input"] == "raw"  # precipitation the mass input, the rest auxiliary
    assert get_model("mclstm").supports_local and get_model("mclstm").mass_input
    assert _settings("dexphydro").model == "dexphydro" and CONFIG["models"]["exphydro"]["kind"] == "conceptual"


def test_statistics_analysis_and_figures():
    figures, tables = CONFIG["figures"], CONFIG["tables"]
    assert {entry["plot"] for entry in figures.values() if "plot" in entry} == {
        "seed_mean_boxes", "seed_hydrographs", "seed_std_boxes", "seed_std_map"}
    assert figures["fig2_seed_mean"]["pair"] == ["mclstm", "lstm"] and figures["fig3_hydrographs"]["levels"] == ["3",
                                                                                                            "15"]
    assert tables["seed_robustness"]["pair"] == ["mclstm", "lstm"]
    analysis = CONFIG["analyses"]["attributions"]
    assert (analysis["kind"], analysis["top_basins"], analysis["models"]) == ("integrated_gradients", 50,
                                                                             {"lstm": "LSTM", "mclstm": "MC-LSTM"})


def test_the_full_configuration_passes_the_config_check():
    check_config(copy.deepcopy(CONFIG))


@pytest.mark.parametrize(("years", "first"), [(1, "1994-10-01"), (3, "1992-10-01"), (6, "1989-10-01"),
                                              (9, "1986-10-01"), (12, "1983-10-01"), (15, "1980-10-01")])
def test_which_years_each_data_amount_takes_and_what_is_held_out(years, first):
    """The last N water years of the training period; its last 20 % validates the early stopping."""
    train = resolve_splits(CONFIG["splits"])["lizhao"]["train"]
    settings = _settings("lstm", train_years=years)
    block = training_period(settings, train)
    assert (str(block.start.date()), str(block.end.date())) == (first, "1995-09-30")
    periods = held_out_validation(settings, {"train": block, "test": train})
    days = len(block.dates)
    assert len(periods["validation"].dates) == round(0.2 * days) and periods["validation"].end == block.end
    assert periods["train"].start == block.start and periods["train"].end + pd.Timedelta(days=1) == \
        periods["validation"].start


def test_a_data_amount_longer_than_the_training_period_is_named():
    config = copy.deepcopy(CONFIG)
    config["models"]["lstm"]["sweep"] = {"train_years": [3, 16]}
    with pytest.raises(ConfigError, match=r"models\.lstm\.train_years: 16 years requested, but the training period "
                                          r"1980-10-01\.\.1995-09-30 is shorter \(split lizhao\)"):
        check_config(config)


def test_too_few_seeds_for_the_test_are_named():
    config = copy.deepcopy(CONFIG)
    config["models"]["lstm"]["seeds"] = [0, 1, 2, 3, 4]
    with pytest.raises(ConfigError, match=r"models\.lstm\.seeds: the Wilcoxon signed-rank test across seeds at "
                                          r"alpha = 0.05 needs at least 6 seeds"):
        check_config(config)


PERIODS = {"train": Period(pd.Timestamp("2001-10-01"), pd.Timestamp("2003-09-30")),
           "test": Period(pd.Timestamp("2004-04-01"), pd.Timestamp("2004-09-30"))}
SMALL = {"training": "local", "hidden_size": 4, "sequence_length": 10, "epochs": 3, "batch_size": 8,
         "batches_per_epoch": 2, "learning_rate": 0.02, "dynamic_inputs": ["prcp", "tmax", "tmin"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Three basins, WY2001-2004; basin 2 observed only from 2003-03-01 on (7 of the last 12 months)."""
    root = tmp_path_factory.mktemp("lizhao")
    dates = pd.date_range("2000-10-01", "2004-09-30", name="date")
    values = training_forcings(dates, seed=3)
    values["qobs"][1, (dates >= "2001-10-01") & (dates < "2003-03-01")] = np.nan
    write_training_cache(root / "daymet.nc", dates, values)
    xr.Dataset({"p_mean": ("basin", [2.0, 3.0, 1.0])}, coords={"basin": BASINS}).to_netcdf(root / "attributes.nc")
    return root


@pytest.mark.usefixtures("torch_one_thread")
def test_a_basin_with_fewer_valid_years_than_asked_is_left_out_and_listed(data, tmp_path):
    settings = parse_settings("lstm", {**SMALL, "train_years": 1})
    written = train_run(settings, data / "daymet.nc", data / "attributes.nc", BASINS, PERIODS, 0, tmp_path / "r",
                        "daymet", "s")
    failures = read_failures(tmp_path / "r" / "failures.csv")
    assert failures["basin"].tolist() == [BASINS[1]]
    assert "0.6 of the 1 years of train_years observed" in failures["reason"].item()
    assert xr.open_dataset(written)["basin"].values.tolist() == [BASINS[0], BASINS[2]]


@pytest.mark.usefixtures("torch_one_thread")
def test_early_stopping_on_the_held_out_part(data, tmp_path):
    settings = parse_settings("lstm", {**SMALL, "patience": 1, "validation_fraction": 0.25})
    train_run(settings, data / "daymet.nc", data / "attributes.nc", [BASINS[0], BASINS[2]], PERIODS, 0,
              tmp_path / "r", "daymet", "s")
    config = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert config["periods"]["validation"] == {"start": "2003-04-02", "end": "2003-09-30"}  # 25 % of 730 days
    assert config["periods"]["train"] == {"start": "2001-10-01", "end": "2003-04-01"}
    log = pd.read_csv(tmp_path / "r" / "training_log.csv")
    assert log["validation_loss"].notna().all()
    with pytest.raises(ConfigError, match="validation_fraction"):
        parse_settings("lstm", {"validation_fraction": 1.5})


def test_targets_before_a_data_amount_never_enter_the_loss(data):
    """A sequence-to-sequence window reaching back before the block reads its inputs there, not its targets."""
    settings = parse_settings("dexphydro", {"training": "local", "mode": "seq2seq", "sequence_length": 60,
                                            "warmup": 20, "train_years": 1})
    model_class = get_model("dexphydro")
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, model_class)
    block = training_period(settings, PERIODS["train"])
    tensors = PeriodTensors(inputs, block, fit_normalisation(inputs, block, True), settings, np.ones(3, "float32"),
                            torch.device("cpu"))
    assert tensors.offset == 59 and torch.isnan(tensors.y[:, : tensors.offset]).all()
    assert torch.isfinite(tensors.y[0, tensors.offset:]).all()
    batch = tensors.batch(torch.arange(tensors.n_windows))
    loss_days = batch["y"][:, settings.warmup:]
    assert (torch.isfinite(loss_days).sum(dim=1) > 0).all()  # every window has a target inside the block


# ------------------------------------------------------------------------------------------------
# the smoke twin's statistics (called by tests/test_smoke_configs.py on the finished twin)
# ------------------------------------------------------------------------------------------------
def check_twin_statistics(workdir: Path) -> None:
    """On the twin's tables: the median KGE standard deviation across seeds falls from the smaller to the
    larger data amount for both networks, the per-basin test classes count every basin, and the MC-LSTM's
    seed spread is the lower in some basins (the robustness effect is visible in Figs. 2, 4 and 5)."""
    tables = workdir / "results" / "lizhao_smoke" / "tables"
    robustness = pd.read_csv(tables / "seed_robustness.csv").set_index("train_years").sort_index()
    assert list(robustness.index) == [1, 12]
    for model in ("LSTM", "MC-LSTM"):  # the twin's dEXP-HYDRO has one data amount
        spread = robustness[f"{model}: median KGE std"]
        assert spread.iloc[1] < spread.iloc[0], (model, spread.to_dict())
    classes = [f"MC-LSTM vs LSTM: {c}" for c in ("positive", "not significant", "negative", "untested")]
    assert (robustness[classes].sum(axis=1) == robustness["basins"]).all()
    assert robustness["std MC-LSTM < std LSTM"].sum() > 0
    statistics = pd.read_csv(tables / "seed_statistics.csv", dtype={"basin": str})
    assert set(statistics["MC-LSTM: seeds"]) == {6} and len(statistics) == 2 * statistics["basin"].nunique()
    shares = pd.read_csv(tables / "attributions_shares.csv", dtype={"train_years": str})
    assert set(shares["base_model"]) == {"lstm", "mclstm"} and set(shares["train_years"]) == {"1", "12"}


@pytest.mark.usefixtures("torch_one_thread")
@pytest.mark.parametrize("name", ["lstm", "mclstm"])
def test_a_step_in_passes_of_fewer_basins_is_the_same_step(data, tmp_path, name):
    """basins_per_pass splits a local step's forward and backward passes by basins: the same gradients, so
    the same weights (the memory of a 531-basin step is that of a pass). Target noise would be drawn pass by
    pass (the same distribution, other numbers); Li & Zhao train without."""
    weights = {}
    for per_pass in (None, 1, 2):
        settings = parse_settings(name, {**SMALL, "basins_per_pass": per_pass})
        train_run(settings, data / "daymet.nc", data / "attributes.nc", [BASINS[0], BASINS[2]], PERIODS, 0,
                  tmp_path / str(per_pass), "daymet", "s")
        weights[per_pass] = torch.load(tmp_path / str(per_pass) / "model.pt", weights_only=True)["model"]
    for per_pass in (1, 2):
        for key, value in weights[None].items():
            torch.testing.assert_close(weights[per_pass][key], value, rtol=1e-5, atol=1e-6)
