"""The prediction contract: round trip, validation messages, merging chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runoffbench.errors import DataError
from runoffbench.paths import metrics_path, prediction_path
from runoffbench.predictions import (
    make_predictions,
    merge_predictions,
    read_predictions,
    write_predictions,
)

DATES = pd.date_range("1995-10-01", periods=30, name="date")


def _predictions(basins, member=0, offset=0.0):
    shape = (len(basins), len(DATES))
    rng = np.random.default_rng(len(basins))
    qobs = rng.gamma(2.0, 1.0, shape)
    return make_predictions(
        qobs + offset, qobs, basins, DATES, model="exphydro", forcing="daymet", split="kratzert2019",
        member=member, fluxes={"et": (np.ones(shape), "mm/day")},
    )


def test_paths_follow_the_contract():
    assert str(prediction_path("results/x", "lstm", "daymet", "s1", 3)) == (
        "results/x/runs/lstm/daymet/s1/3/predictions.nc")
    assert str(metrics_path("results/x", "lstm", "daymet", "s1", "ensemble")) == (
        "results/x/metrics/lstm/daymet/s1/ensemble.csv")


def test_round_trip(tmp_path):
    original = _predictions(["01000001", "02000002"], offset=0.5)
    path = write_predictions(original, tmp_path / "run" / "predictions.nc")
    loaded = read_predictions(path)
    np.testing.assert_allclose(loaded["qsim"].values, original["qsim"].values)
    assert list(loaded["basin"].values) == ["01000001", "02000002"]
    assert loaded.attrs["member"] == "0" and loaded["et"].attrs["units"] == "mm/day"


def test_validation_names_file_and_gap(tmp_path):
    broken = _predictions(["01000001"]).drop_vars("qobs")
    broken.attrs.pop("split")
    with pytest.raises(DataError, match=r"bad.nc does not follow the prediction contract: "
                                        r"attributes \['split'\] missing; variable 'qobs' missing"):
        write_predictions(broken, tmp_path / "bad.nc")
    assert not (tmp_path / "bad.nc").exists()
    wrong_units = _predictions(["01000001"])
    wrong_units["qsim"].attrs["units"] = "m3/s"
    with pytest.raises(DataError, match="qsim has units 'm3/s'"):
        write_predictions(wrong_units, tmp_path / "units.nc")
    with pytest.raises(DataError, match="not 8-digit"):
        write_predictions(_predictions(["1000001"]), tmp_path / "ids.nc")


def test_merge_chunks():
    merged = merge_predictions([_predictions(["02000002"]), _predictions(["01000001", "03000003"])])
    assert list(merged["basin"].values) == ["01000001", "02000002", "03000003"]
    with pytest.raises(DataError, match="more than one part"):
        merge_predictions([_predictions(["01000001"]), _predictions(["01000001"])])
    with pytest.raises(DataError, match="different runs"):
        merge_predictions([_predictions(["01000001"]), _predictions(["02000002"], member=1)])
