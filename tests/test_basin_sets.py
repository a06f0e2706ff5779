"""Basin sets of tables and figures: the complete-record basins Frame et al. 2023 score, and regions
left out of the regional figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.collect import select_basins
from runoffbench.evaluation.evaluate import evaluate_predictions
from runoffbench.plots.mass_bias_by_huc import plot_mass_bias_by_huc
from runoffbench.predictions import make_predictions


def test_evaluate_marks_the_basins_with_a_complete_record():
    dates = pd.date_range("2000-01-01", periods=50, name="date")
    qobs = np.random.default_rng(0).gamma(2, 1, (2, 50))
    qobs[1, 10] = np.nan
    cache = xr.Dataset({"qobs": (("basin", "date"), qobs)}, coords={"basin": ["01000001", "02000002"], "date": dates})
    predictions = make_predictions(qobs * 1.1, qobs, ["01000001", "02000002"], dates, model="m", forcing="daymet",
                                   split="s", member=0)
    table = evaluate_predictions(predictions, cache, ["NSE"])
    assert table["complete_record"].tolist() == [1, 0]
    assert select_basins(table.reset_index(), "complete_record")["basin"].tolist() == ["01000001"]
    assert len(select_basins(table.reset_index(), "all")) == 2
    with pytest.raises(ConfigError, match="unknown basin set 'wet'"):
        select_basins(table, "wet")
    with pytest.raises(DataError, match="no complete_record column"):
        select_basins(table.drop(columns="complete_record"), "complete_record")


def test_excluded_regions_are_left_out_and_named():
    rows = []
    for huc in ("01", "03", "09"):
        for b in range(4):
            rows.append({"model": "lstm", "forcing": "daymet", "split": "s", "member": "0", "basin": f"{huc}00000{b}",
                         "huc_02": huc, "lat": 40.0, "lon": -90.0, "Mass-Bias-Positive": 0.1 * b,
                         "Mass-Bias-Negative": 0.0})
    table = pd.DataFrame(rows)
    fig = plot_mass_bias_by_huc(table, min_basins=1, exclude_regions=("09",))
    labels = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    assert not any(label.startswith("09") for label in labels)
    assert "left out: 09" in fig.axes[-1].get_xlabel()
    plt.close(fig)
