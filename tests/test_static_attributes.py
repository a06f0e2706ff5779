"""Static attributes as Feng et al. (2022) use them: the feng2022 set, one-hot text attributes, missing
values filled from the training basins, saved with the run (runoffbench.training.data)."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml

from runoffbench.data.cache import build_attributes_cache, open_attributes
from runoffbench.errors import ConfigError, DataError
from runoffbench.models.nn import get_model
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions
from runoffbench.training.data import (
    Normalisation,
    StaticEncoding,
    fit_normalisation,
    fit_static_encoding,
    read_inputs,
    read_static_table,
)
from runoffbench.training.run import repredict, train_run
from runoffbench.training.saved_run import load_tensors, load_trained_run
from runoffbench.training.settings import STATIC_ATTRIBUTE_SETS, parse_settings
from tests.training_data import BASINS, training_forcings, write_training_cache

pytestmark = pytest.mark.usefixtures("torch_one_thread")

FENG2022 = STATIC_ATTRIBUTE_SETS["feng2022"]
FENG_TEXT = ("dom_land_cover", "geol_1st_class", "geol_2nd_class")
#: CAMELS-US v2.0, all 671 basins: values missing per attribute of the feng2022 set
CAMELS_MISSING = {"root_depth_50": 24, "geol_porostiy": 3, "geol_2nd_class": 138}
PERIODS = {
    "train": Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-06-30")),
    "test": Period(pd.Timestamp("2001-07-01"), pd.Timestamp("2001-09-30")),
}
TINY = {"hidden_size": 4, "sequence_length": 10, "epochs": 1, "batches_per_epoch": 3, "batch_size": 32,
        "learning_rate": 0.01, "dropout": 0.0}
#: text with CAMELS's leading blanks, a missing one (empty, as attributes.nc stores it) and NaN
ATTRIBUTES = {
    "p_mean": ("basin", [2.0, 3.0, 1.0]),
    "root_depth_50": ("basin", [0.2, np.nan, 0.1]),
    "dom_land_cover": ("basin", np.array(["    Mixed Forests", "    Grasslands", "    Mixed Forests"], object)),
    "geol_2nd_class": ("basin", np.array(["Metamorphics", "", "Acid plutonic rocks"], object)),
    "empty_number": ("basin", [np.nan, np.nan, np.nan]),
    "empty_text": ("basin", np.array(["", " ", ""], object)),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    dates = pd.date_range("2000-10-01", "2001-09-30", name="date")
    write_training_cache(root / "daymet.nc", dates, training_forcings(dates, seed=4))
    xr.Dataset(ATTRIBUTES, coords={"basin": BASINS}).to_netcdf(root / "attributes.nc")
    return root


def _table(data, attributes, basins=BASINS):
    return read_static_table(data / "attributes.nc", basins, parse_settings("lstm", {"static_attributes": attributes}))


def test_feng2022_is_a_named_set_of_35_attributes():
    """Feng et al. (2022) Table A1 as their released code lists it (attrnewLst, mhpi/dPLHBVrelease)."""
    assert len(FENG2022) == len(set(FENG2022)) == 35
    assert FENG2022[:3] == ("p_mean", "pet_mean", "p_seasonality") and FENG2022[-2:] == ("geol_porostiy",
                                                                                          "geol_permeability")
    assert set(FENG_TEXT) <= set(FENG2022)
    settings = parse_settings("dhbv", {"mode": "seq2seq", "warmup": 5, "static_attributes": "feng2022"})
    assert settings.static_attributes == FENG2022
    assert settings.to_dict()["static_attributes"] == list(FENG2022)  # config.yaml holds the list
    with pytest.raises(ConfigError, match=r"models.lstm.static_attributes: unknown attribute set 'feng22'; "
                                          r"known: feng2022"):
        parse_settings("lstm", {"static_attributes": "feng22"})
    with pytest.raises(ConfigError, match=r"models.lstm.static_attributes: \['p_mean'\] listed more than once"):
        parse_settings("lstm", {"static_attributes": ["p_mean", "aridity", "p_mean"]})


def test_the_config_check_accepts_the_set_and_text_attributes():
    from runoffbench.config_check import _check_models

    config = {"dataset": {"forcings": ["daymet"]}, "splits": {},
              "models": {"dhbv": {"kind": "nn", "mode": "seq2seq", "warmup": 5, "static_attributes": "feng2022"},
                         "lstm": {"kind": "nn", "static_attributes": ["p_mean", "gauge_name", "geol_1st_clas"]}}}
    problems = []
    _check_models(config, problems)
    assert len(problems) == 1, problems
    assert problems[0].startswith("models.lstm.static_attributes: unknown attribute(s) ['gauge_name', "
                                  "'geol_1st_clas']")


def test_real_camels_attributes_keep_text_and_have_the_known_gaps(camels_sample, tmp_path):
    """attributes.nc built from the 671-basin tables keeps the text attributes; the missing values of
    Feng's set are those of CAMELS-US v2.0, and the encoding fitted on all basins counts them."""
    from runoffbench.data.camels_us import read_attributes

    basins = list(read_attributes(camels_sample).index)
    assert len(basins) == 671
    build_attributes_cache(camels_sample, basins, tmp_path / "attributes.nc")
    attributes = open_attributes(tmp_path / "attributes.nc")
    assert set(FENG2022) <= set(attributes.data_vars)
    for name in FENG_TEXT:
        assert attributes[name].dtype.kind in "OU", name
    assert int(attributes["root_depth_50"].isnull().sum()) == 24
    assert int(attributes["geol_porostiy"].isnull().sum()) == 3
    assert int((attributes["geol_2nd_class"] == "").sum()) == 138
    settings = parse_settings("lstm", {"static_attributes": "feng2022"})
    table = read_static_table(tmp_path / "attributes.nc", basins, settings)
    encoding = fit_static_encoding(table)
    assert {k: v for k, v in encoding.filled.items() if v} == CAMELS_MISSING
    assert {k: len(v) for k, v in encoding.categories.items()} == {"dom_land_cover": 12, "geol_1st_class": 12,
                                                                    "geol_2nd_class": 13}
    assert "Mixed Forests" in encoding.categories["dom_land_cover"]  # leading blanks stripped
    assert len(encoding.columns) == 32 + 12 + 12 + 13
    values = encoding.encode(table)
    assert values.shape == (671, 69) and np.isfinite(values).all()
    second = [i for i, c in enumerate(encoding.columns) if c.startswith("geol_2nd_class=")]
    assert int((values[:, second].sum(axis=1) == 0).sum()) == 138  # no second class: all zeros
    first = [i for i, c in enumerate(encoding.columns) if c.startswith("geol_1st_class=")]
    assert (values[:, first].sum(axis=1) == 1).all()


def test_the_synthetic_dataset_encodes_feng2022(tmp_path):
    """The embedded synthetic CAMELS tables give every attribute of the set (text included)."""
    from runoffbench.data.synthetic.generator import SyntheticConfig, generate_dataset, write_dataset

    dataset = generate_dataset(SyntheticConfig(n_basins=6, start="2000-01-01", end="2001-12-31", seed=1))
    root = write_dataset(dataset, tmp_path / "camels")
    basins = list(dataset.attributes.index)
    build_attributes_cache(root, basins, tmp_path / "attributes.nc")
    table = read_static_table(tmp_path / "attributes.nc", basins,
                              parse_settings("lstm", {"static_attributes": "feng2022"}))
    encoding = fit_static_encoding(table)
    assert set(encoding.categories) == set(FENG_TEXT) and not any(encoding.filled.values())
    assert np.isfinite(encoding.encode(table)).all() and len(encoding.columns) > 35


def test_one_hot_round_trip(data, tmp_path, caplog):
    """Each basin's one-hot row names its category; missing and unseen categories are all zeros; the
    encoding survives model.pt (plain values, weights_only) unchanged."""
    table = _table(data, ["dom_land_cover", "geol_2nd_class"])
    encoding = fit_static_encoding(table)
    assert encoding.categories == {"dom_land_cover": ["Grasslands", "Mixed Forests"],
                                   "geol_2nd_class": ["Acid plutonic rocks", "Metamorphics"]}
    assert encoding.columns == ["dom_land_cover=Grasslands", "dom_land_cover=Mixed Forests",
                                "geol_2nd_class=Acid plutonic rocks", "geol_2nd_class=Metamorphics"]
    assert encoding.filled == {"dom_land_cover": 0, "geol_2nd_class": 1}
    values = encoding.encode(table)
    decoded = [[c.split("=", 1)[1] for c, v in zip(encoding.columns, row) if v == 1] for row in values]
    assert decoded == [["Mixed Forests", "Metamorphics"], ["Grasslands"], ["Mixed Forests", "Acid plutonic rocks"]]
    assert set(np.unique(values)) == {0.0, 1.0}
    other = table.copy()
    other.loc[BASINS[0], "geol_2nd_class"] = "Pyroclastics"
    with caplog.at_level(logging.WARNING, logger="runoffbench.training.data"):
        unseen = encoding.encode(other)
    assert (unseen[0, 2:] == 0).all() and (unseen[1:] == values[1:]).all()
    assert "['Pyroclastics'] of basin(s) {'Pyroclastics': ['01000001']} are not among" in caplog.text
    normalisation = Normalisation([], [], [], encoding.columns, [0.0] * 4, [1.0] * 4, 0.0, 1.0, encoding)
    torch.save({"normalisation": normalisation.to_dict()}, tmp_path / "model.pt")
    loaded = Normalisation.from_dict(load_tensors(tmp_path / "model.pt")["normalisation"]).static_encoding
    assert loaded == encoding
    np.testing.assert_array_equal(loaded.encode(table), values)


def test_fill_values_come_from_the_training_basins_only(data):
    """A test basin's value changes neither the fill value nor the standardisation; a missing value
    becomes the training-basin mean, 0 once standardised (Feng et al.'s NaN → 0 after normalising)."""
    settings = parse_settings("lstm", {"static_attributes": ["p_mean", "root_depth_50"]})
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, get_model("lstm"))
    train, test = BASINS[:2], BASINS[2:]
    normalisation = fit_normalisation(inputs.select(train), PERIODS["train"], target_in_mm=False)
    encoding = normalisation.static_encoding
    assert encoding.fill == {"p_mean": pytest.approx(2.5), "root_depth_50": pytest.approx(0.2)}  # not 0.15
    assert encoding.filled == {"p_mean": 0, "root_depth_50": 1}
    assert normalisation.static_mean == [pytest.approx(2.5), pytest.approx(0.2)]
    assert normalisation.static_std[0] == pytest.approx(0.5) and normalisation.static_std[1] == 1.0  # one value
    standardised = normalisation.static_inputs(inputs.static)
    assert standardised[1, 1] == 0.0  # basin 2's missing root depth: the training mean
    np.testing.assert_allclose(standardised[2], [(1.0 - 2.5) / 0.5, 0.1 - 0.2], rtol=1e-6)
    # the test basin's extreme value does not leak into the statistics
    changed = dataclasses.replace(inputs, static=inputs.static.assign(p_mean=[2.0, 3.0, 1000.0]))
    assert changed.static.loc[test[0], "p_mean"] == 1000.0
    again = fit_normalisation(changed.select(train), PERIODS["train"], target_in_mm=False)
    assert (again.static_mean, again.static_std) == (normalisation.static_mean, normalisation.static_std)
    everyone = fit_normalisation(inputs, PERIODS["train"], target_in_mm=False).static_encoding
    assert everyone.fill["p_mean"] == pytest.approx(2.0) and everyone.fill["root_depth_50"] == pytest.approx(0.15)


def test_a_reloaded_run_predicts_identically(data, tmp_path, caplog):
    """Text and incomplete attributes train; model.pt keeps the encoding, config.yaml and the log
    the counts, and the reloaded run re-predicts the training's predictions bit for bit."""
    attributes = ["p_mean", "root_depth_50", "dom_land_cover", "geol_2nd_class"]
    settings = parse_settings("lstm", {**TINY, "static_attributes": attributes})
    with caplog.at_level(logging.INFO, logger="runoffbench.training.run"):
        written = train_run(settings, data / "daymet.nc", data / "attributes.nc", BASINS, PERIODS, 0,
                            tmp_path / "run", "daymet", "s")
    assert "filled with the training-basin mean (basins of 3): root_depth_50 1" in caplog.text
    assert "without a category (all-zero one-hot, of 3): geol_2nd_class 1" in caplog.text
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert config["static_inputs"]["inputs"] == 6
    assert config["static_inputs"]["filled"] == {"root_depth_50": 1, "geol_2nd_class": 1}
    assert config["static_inputs"]["fill_values"] == {"root_depth_50": pytest.approx(0.15)}
    assert config["static_inputs"]["categories"]["dom_land_cover"] == ["Grasslands", "Mixed Forests"]
    run = load_trained_run(tmp_path / "run")
    assert run.normalisation.static_names == ["p_mean", "root_depth_50", "dom_land_cover=Grasslands",
                                              "dom_land_cover=Mixed Forests", "geol_2nd_class=Acid plutonic rocks",
                                              "geol_2nd_class=Metamorphics"]
    assert run.normalisation.static_encoding.fill["root_depth_50"] == pytest.approx(0.15)
    again = repredict(tmp_path / "run")
    trained = read_predictions(written)
    assert np.isfinite(trained["qsim"].values).all()
    np.testing.assert_array_equal(again["qsim"].values, trained["qsim"].values)


@pytest.mark.parametrize("attribute", ["empty_number", "empty_text"])
def test_an_attribute_without_values_is_named(data, tmp_path, attribute):
    settings = parse_settings("lstm", {**TINY, "static_attributes": ["p_mean", attribute]})
    with pytest.raises(DataError, match=rf"static attribute {attribute} has no value in any of the 3 training "
                                        rf"basin\(s\) in .*attributes.nc \(01000001, 02000002, 03000003\); "
                                        "remove it from static_attributes"):
        train_run(settings, data / "daymet.nc", data / "attributes.nc", BASINS, PERIODS, 0, tmp_path / "r",
                  "daymet", "s")
    assert not (tmp_path / "r" / "model.pt").exists()


def test_encoding_errors_name_the_attribute(data):
    table = _table(data, ["p_mean", "root_depth_50"])
    legacy = Normalisation.from_dict({"dynamic_names": [], "dynamic_mean": [], "dynamic_std": [],
                                      "static_names": ["p_mean", "root_depth_50"], "static_mean": [0.0, 0.0],
                                      "static_std": [1.0, 1.0], "target_mean": 0.0, "target_std": 1.0})
    assert legacy.static_encoding == StaticEncoding(["p_mean", "root_depth_50"])  # a run saved before
    np.testing.assert_array_equal(legacy.static_inputs(_table(data, ["p_mean"]).assign(root_depth_50=0.5)),
                                  [[2.0, 0.5], [3.0, 0.5], [1.0, 0.5]])
    with pytest.raises(DataError, match=r"root_depth_50 is missing \(NaN\) for basin\(s\) \['02000002'\] and the "
                                        "run has no fill value"):
        legacy.static_inputs(table)
    encoding = fit_static_encoding(table)
    with pytest.raises(DataError, match=r"trained on the static attributes \['p_mean', 'root_depth_50'\]"):
        encoding.encode(table[["p_mean"]])
    with pytest.raises(DataError, match="root_depth_50 was numeric when the run was trained"):
        encoding.encode(table.assign(root_depth_50=pd.Series(["a", "b", "c"], index=table.index, dtype=object)))
    text = fit_static_encoding(_table(data, ["dom_land_cover"]))
    with pytest.raises(DataError, match=r"dom_land_cover was text \(categories \['Grasslands', 'Mixed Forests'\]\)"):
        text.encode(table[["p_mean"]].rename(columns={"p_mean": "dom_land_cover"}))
