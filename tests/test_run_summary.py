"""Run summary: pooled mutual information and the baseflow-index correlation with CAMELS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.cli import main
from runoffbench.evaluation.information import histogram_mutual_information
from runoffbench.evaluation.metrics import METRICS
from runoffbench.evaluation.run_summary import run_summary_table, simulated_baseflow_index
from runoffbench.predictions import make_predictions, write_predictions
from tests.evaluation_data import BASINS, make_cache, make_run

CAMELS_BFI = [0.2, 0.5, 0.7]


def _attributes(path):
    attributes = xr.Dataset({"baseflow_index": ("basin", CAMELS_BFI), "p_mean": ("basin", [1.0, 2.0, 3.0])},
                            coords={"basin": np.array(BASINS, dtype=object)})
    attributes.to_netcdf(path)
    return path


def _run_with_baseflow(cache, fractions):
    """qsim = qobs; baseflow a fixed fraction of it per basin, so the simulated BFI is that fraction."""
    run = make_run(cache, "bucket", noise=0.0)
    baseflow = run["qsim"].values * np.asarray(fractions)[:, None]
    return make_predictions(run["qsim"].values, run["qobs"].values, BASINS, run["date"].values, model="bucket",
                            forcing="daymet", split="test_split", member=0,
                            fluxes={"baseflow": (baseflow, "mm/day")})


def test_simulated_bfi_and_its_correlation_with_camels(tmp_path):
    cache = make_cache()
    fractions = [0.3, 0.4, 0.9]
    run = _run_with_baseflow(cache, fractions)
    np.testing.assert_allclose(simulated_baseflow_index(run).loc[BASINS].values, fractions, rtol=1e-6)
    write_predictions(run, tmp_path / "bucket.nc")
    table = run_summary_table([tmp_path / "bucket.nc"], xr.open_dataset(_attributes(tmp_path / "attributes.nc")))
    row = table.iloc[0]
    assert row["BFI-r"] == pytest.approx(np.corrcoef(fractions, CAMELS_BFI)[0, 1], rel=1e-6)
    assert row["BFI-rho"] == pytest.approx(1.0)  # same ranking
    assert row["BFI-median"] == pytest.approx(0.4, rel=1e-6)
    assert row["CAMELS-BFI-median"] == pytest.approx(0.5)


def test_pooled_mi_uses_all_days_of_all_basins_and_runs_without_baseflow_get_nan(tmp_path):
    cache = make_cache()
    run = make_run(cache, "noisy", noise=0.3)
    write_predictions(run, tmp_path / "noisy.nc")
    table = run_summary_table([tmp_path / "noisy.nc"], xr.open_dataset(_attributes(tmp_path / "attributes.nc")))
    expected = histogram_mutual_information(run["qobs"].values.ravel().astype(float),
                                            run["qsim"].values.ravel().astype(float))
    assert table.loc[0, "MI-pooled"] == pytest.approx(expected, rel=1e-9)
    assert table.loc[0, "basins"] == 3
    assert np.isnan(table.loc[0, ["BFI-r", "BFI-rho", "BFI-median"]].astype(float)).all()


def test_run_summary_gives_the_sample_size_and_the_per_basin_ksg_median(tmp_path):
    """The pooled MI's histogram is fed basins x days; the per-basin MI (KSG) and the days per basin
    it rests on are given beside it, so a short test period is visible in the table."""
    cache = make_cache()
    run = make_run(cache, "noisy", noise=0.3)
    run["qsim"][0, :30] = np.nan  # basin 1 lacks 30 days
    qsim = run["qsim"].values
    write_predictions(run, tmp_path / "noisy.nc")
    table = run_summary_table([tmp_path / "noisy.nc"], xr.open_dataset(_attributes(tmp_path / "attributes.nc")))
    days = run["date"].size
    assert table.loc[0, "days/basin"] == days  # the median over basins
    assert table.loc[0, "days"] == 3 * days - 30  # the pooled histogram's sample
    per_basin = [METRICS["MI"](run["qobs"].values[i], qsim[i]) for i in range(3)]
    assert table.loc[0, "MI-median"] == pytest.approx(np.median(per_basin), rel=1e-9)


def test_cli_writes_csv_markdown_and_latex_sorted_by_run(tmp_path):
    cache = make_cache()
    paths = []
    for model in ("zeta", "alpha"):
        paths.append(write_predictions(make_run(cache, model), tmp_path / f"{model}.nc"))
    attributes = _attributes(tmp_path / "attributes.nc")
    assert main(["run-summary", *map(str, paths), "--attributes", str(attributes),
                 "--output", str(tmp_path / "run_summary.csv")]) == 0
    table = pd.read_csv(tmp_path / "run_summary.csv")
    assert table["model"].tolist() == ["alpha", "zeta"]
    assert "MI-pooled" in (tmp_path / "run_summary.md").read_text()
    assert (tmp_path / "run_summary.tex").read_text().count("MI-pooled") == 1


def test_cli_names_a_forcing_cache_given_as_attributes(tmp_path, capsys):
    cache_path = tmp_path / "daymet.nc"
    make_cache().to_netcdf(cache_path)
    prediction = write_predictions(make_run(make_cache(), "m"), tmp_path / "m.nc")
    assert main(["run-summary", str(prediction), "--attributes", str(cache_path), "--output",
                 str(tmp_path / "s.csv")]) == 2
    assert f"{cache_path} is not an attribute cache" in capsys.readouterr().err


def test_run_summary_counts_and_warns_about_basins_left_out(tmp_path, caplog):
    """Item 4: the basins each run left out (its failures.csv) reach the run summary: a column and a
    warning in its log naming how many failed where."""
    cache = make_cache()
    run_dir = tmp_path / "runs" / "m" / "daymet" / "test_split" / "0"
    prediction = write_predictions(make_run(cache, "m"), run_dir / "predictions.nc")
    pd.DataFrame({"basin": ["04000004"], "stage": ["train"], "reason": ["0 days"]}).to_csv(run_dir / "failures.csv",
                                                                                          index=False)
    with caplog.at_level("WARNING"):
        assert main(["run-summary", str(prediction), "--attributes", str(_attributes(tmp_path / "attributes.nc")),
                     "--failures", str(run_dir / "failures.csv"), "--output", str(tmp_path / "s.csv")]) == 0
    table = pd.read_csv(tmp_path / "s.csv")
    assert table.loc[0, "basins"] == 3 and table.loc[0, "left out"] == 1
    assert "1 basin(s) left out" in caplog.text and "m/daymet/test_split/0: 1 (train)" in caplog.text
