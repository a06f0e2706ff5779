"""The paper configurations say what the papers did, setting by setting (Frame et al. 2023, Sect. 2,
its authors' analysis code and Hoedt et al. 2021's MC-LSTM configuration; the sources are named in
each config's header)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runoffbench.periods import resolve_splits
from runoffbench.training.settings import parse_settings

CONFIGS = Path(__file__).resolve().parents[1] / "config"

#: Kratzert et al. 2019, Table A1: the 27 static attributes (Frame et al. 2023 use the same)
KRATZERT_A1 = {
    "p_mean", "pet_mean", "aridity", "p_seasonality", "frac_snow", "high_prec_freq", "high_prec_dur",
    "low_prec_freq", "low_prec_dur", "elev_mean", "slope_mean", "area_gages2", "frac_forest", "lai_max",
    "lai_diff", "gvf_max", "gvf_diff", "soil_depth_pelletier", "soil_depth_statsgo", "soil_porosity",
    "soil_conductivity", "max_water_content", "sand_frac", "silt_frac", "clay_frac", "carbonate_rocks_frac",
    "geol_permeability",
}


@pytest.fixture(scope="module")
def frame():
    return yaml.safe_load((CONFIGS / "experiments" / "frame2023.yaml").read_text())


def test_frame2023_data_and_splits(frame):
    assert frame["dataset"]["basin_list"] == "531"
    forcings = frame["dataset"]["forcings"]
    assert "daymet" in forcings and "nldas_extended" in forcings  # NLDAS with real Tmax/Tmin
    splits = resolve_splits(frame["splits"])
    assert str(splits["kratzert2019"]["train"]) == "1999-10-01..2008-09-30"
    assert str(splits["kratzert2019"]["test"]) == "1989-10-01..1999-09-30"
    assert str(splits["newman2017"]["train"]) == "1980-10-01..1995-09-30"
    assert str(splits["newman2017"]["test"]) == "1995-10-01..2014-09-30"


@pytest.mark.parametrize("name", ["lstm", "mc_lstm"])
def test_frame2023_networks(frame, name):
    settings = parse_settings(name, {k: v for k, v in frame["models"][name].items() if k != "kind"})
    assert set(settings.static_attributes) == KRATZERT_A1 and len(settings.static_attributes) == 27
    assert settings.dynamic_inputs == ("prcp", "srad", "tmax", "tmin", "vp")
    assert settings.seeds == tuple(range(8))  # time split 1 evaluates the 8-member ensemble
    assert (settings.loss, settings.mode, settings.sequence_length) == ("nse", "seq2one", 365)
    assert (settings.epochs, settings.batch_size, settings.clip_grad_norm) == (30, 256, 1.0)
    assert (settings.target_noise_std, settings.target_noise) == (0.005, "relative")


def test_frame2023_mc_lstm_is_hoedts_configuration(frame):
    settings = parse_settings("mc_lstm", {k: v for k, v in frame["models"]["mc_lstm"].items() if k != "kind"})
    assert settings.model == "mclstm"
    assert settings.model_options["hidden_size"] == 64
    assert settings.model_options.get("initial_output_bias", 3.0) == 3.0
    assert settings.model_options.get("mass_gate_input", "raw") == "raw"
    assert [settings.lr_for_epoch(e) for e in (1, 19, 20, 24, 25, 30)] == [0.01, 0.01, 0.005, 0.005, 0.001, 0.001]


def test_frame2023_evaluation_scope(frame):
    """Medians over the basins with a complete test record (530 / 484 in the paper), regional boxplots
    of every region but HUC 09."""
    evaluation = frame["evaluation"]
    assert evaluation["basins"] == "complete_record"
    assert evaluation["exclude_regions"] == ["09"] and evaluation["min_basins_per_region"] == 1


def test_frame2023_appendix_c_is_split_2_of_the_main_text(frame):
    """Table C1 and the appendix figures: the main text's kinds on time split 2."""
    assert frame["tables"]["median_metrics_split2"] == {**frame["tables"]["median_metrics_split2"],
                                                        "table": "median_metrics", "split": "newman2017"}
    twins = {entry["plot"] for entry in frame["figures"].values() if entry.get("split") == "newman2017"}
    assert twins == {"mass_bias_cdf", "mass_bias_map", "mass_bias_by_huc", "mutual_information_cdf", "kge_skill_cdf"}


def test_frame2023_benchmarks(frame):
    assert frame["models"]["sacsma"]["kind"] == "conceptual"
    assert frame["calibration"]["algorithm"] == "sceua"
    assert frame["evaluation"]["baseline_model"] == "lstm"
    assert frame["evaluation"]["kge_difference"] == ["mc_lstm", "lstm"]


@pytest.mark.parametrize("path", [CONFIGS / "config.yaml", *sorted((CONFIGS / "experiments").glob("*.yaml"))],
                         ids=lambda p: p.name)
def test_paper_references_name_the_right_figures(path):
    """Fixed mis-citations: nse_cdf is Kratzert et al. 2019 Fig. 3; the basin map is no Kratzert
    figure; the benchmark table is Nearing et al. 2020 (NeurIPS workshop); BFI is Feng Sect. 3.2."""
    config = yaml.safe_load(path.read_text())
    outputs = {**config.get("tables", {}), **config.get("figures", {})}
    papers = {key: str(entry.get("paper")) for key, entry in outputs.items() if isinstance(entry, dict)}
    if "nse_cdf" in papers and "Kratzert" in papers["nse_cdf"]:
        assert "Fig. 3" in papers["nse_cdf"]
    assert "Kratzert" not in papers.get("basin_map", "")
    if "benchmark" in papers:
        assert "Nearing et al. 2020" in papers["benchmark"]
    assert "Sect. 3.3" not in papers.get("run_summary", "")
