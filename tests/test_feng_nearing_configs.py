"""config/experiments/feng2022.yaml and nearing2020.yaml say what the papers did, setting by setting (the
sources are in each header): Feng et al. 2022 (mhpi/dPLHBVrelease traindPLHBV.py) and Nearing et al. 2020
(with Hoedt et al. 2021's MC-LSTM configuration)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runoffbench.config_check import schema_problems
from runoffbench.periods import resolve_splits
from runoffbench.training.settings import STATIC_ATTRIBUTE_SETS, parse_settings
from tests.test_experiment_configs import KRATZERT_A1

REPO = Path(__file__).resolve().parents[1]
DELTA_VARIANTS = {"dpl_hbv": "dpl_hbv", "delta_n": "delta_n", "delta_n_beta_t": "delta_n_beta_t",
                  "delta_n_gamma_t": "delta_n_gamma_t", "delta_n_gamma_t_beta_t": "delta_n_gamma_t_beta_t",
                  "delta_n_nn_r": "delta_n_nn_r"}


def _config(name):
    return yaml.safe_load((REPO / "config" / "experiments" / f"{name}.yaml").read_text())


def _settings(config, name):
    return parse_settings(name, {k: v for k, v in config["models"][name].items() if k not in ("kind", "forcings",
                                                                                                "splits")})


def test_feng2022_data_splits_and_outputs():
    config = _config("feng2022")
    assert config["dataset"]["basin_list"] == "all"  # the 671 basins
    assert config["dataset"]["forcings"] == ["daymet", "nldas_extended", "maurer_extended"]
    splits = resolve_splits(config["splits"])
    assert str(splits["feng2022"]["train"]) == "1980-10-01..1995-09-30"
    assert str(splits["feng2022"]["test"]) == "1995-10-01..2010-09-30"
    assert str(splits["kratzert2019"]["test"]) == "1989-10-01..1999-09-30"
    kinds = {entry.get("plot", entry.get("table", key)) for section in ("tables", "figures")
             for key, entry in config[section].items()}
    assert {"process_scores", "metric_cdfs", "median_hydrographs", "parameter_series", "bfi_maps",
            "et_scores"} <= kinds
    assert config["figures"]["fig5_bfi_nse05"]["basins"] == ["nse_above:0.5"]
    assert schema_problems(config, REPO / "workflow" / "schemas" / "config.schema.yaml") == []


@pytest.mark.parametrize("name", sorted(DELTA_VARIANTS))
def test_feng2022_delta_models(name):
    config = _config("feng2022")
    settings = _settings(config, name)
    options = settings.model_options
    assert settings.model == "dhbv" and options["variant"] == DELTA_VARIANTS[name]
    assert options["components"] == (1 if name == "dpl_hbv" else 16) and options["hidden_size"] == 256
    assert settings.static_attributes == STATIC_ATTRIBUTE_SETS["feng2022"] and len(settings.static_attributes) == 35
    assert settings.dynamic_inputs == ("prcp", "tmean", "pet")
    assert (settings.sequence_length, settings.warmup, settings.batch_size) == (730, 365, 100)
    assert (settings.loss, settings.optimizer, settings.epochs, settings.test_warmup) == ("feng", "adadelta", 50, None)


def test_feng2022_lstm_and_the_maurer_comparison():
    config = _config("feng2022")
    lstm = _settings(config, "lstm")
    assert lstm.dynamic_inputs == ("prcp", "tmean", "srad", "vp", "dayl") and lstm.model_options["hidden_size"] == 256
    assert (lstm.loss, lstm.target_transform, lstm.batch_size, lstm.sequence_length) == ("rmse", "feng", 100, 365)
    for name in ("delta_n_gamma_t_beta_t_maurer", "lstm_maurer"):
        assert config["models"][name]["forcings"] == ["maurer_extended"]
        assert config["models"][name]["splits"] == ["kratzert2019"]


def test_nearing2020_settings():
    config = _config("nearing2020")
    splits = resolve_splits(config["splits"])
    assert str(splits["nearing2020"]["train"]) == "1999-10-01..2008-09-30"
    assert str(splits["nearing2020"]["test"]) == "1988-10-01..1999-09-30"
    assert config["dataset"]["forcings"] == ["maurer_extended"]
    for name in ("mclstm_hybrid", "lstm"):
        settings = _settings(config, name)
        assert (settings.loss, settings.mode, settings.sequence_length) == ("nse", "seq2one", 365)
        assert (settings.epochs, settings.batch_size) == (30, 256) and len(settings.seeds) > 1
        assert set(settings.static_attributes) == KRATZERT_A1
    hybrid = _settings(config, "mclstm_hybrid").model_options
    assert hybrid["mass_gate_input"] == "normalised" and hybrid["n_trash"] == 1
    table = config["tables"]["table1"]
    assert table["table"] == "benchmark" and table["baseline"] == "lstm" and table["basins"] == ["common"]
    assert {"mclstm_hybrid", "lstm", "sac_sma", "vic_basin", "mhm_basin", "hbv_ub", "fuse_904"} <= set(table["models"])
    assert schema_problems(config, REPO / "workflow" / "schemas" / "config.schema.yaml") == []
