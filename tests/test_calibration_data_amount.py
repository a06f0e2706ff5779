"""A calibrated model under a data amount (issue 15, Li & Zhao): ``sweep: {train_years: [...]}`` on a conceptual
entry is one calibration per amount, on the block of the last N water years the networks of that amount train on
(:func:`runoffbench.periods.last_years`), its stores spun up over the forcing before the block, the run named
``exphydro@train_years=N`` in its predictions, in the workflow's jobs and in tables/metrics.csv."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from runoffbench.calibration import calibrate
from runoffbench.calibration.chunks import calibrate_chunk
from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.calibration.setup import SpotpySetup
from runoffbench.cli import main
from runoffbench.config_check import check_config
from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.errors import ConfigError, DataError
from runoffbench.evaluation.collect import collect_metrics
from runoffbench.evaluation.seeds import robustness_summary, seed_significance, seed_statistics
from runoffbench.paths import metrics_path, prediction_path
from runoffbench.periods import last_years
from runoffbench.predictions import read_predictions
from tests.test_calibration import DATES, TEST, TRAIN, synthetic_basin, true_flow
from tests.test_seed_statistics import hydrograph_rows, seed_metrics
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]
GOOD, SHORT = "01000001", "01000002"
#: SHORT is observed over the whole training period but on only 300 days of its last water year (WY2000)
SHORT_FROM = pd.Timestamp("1999-12-06")
PERIODS = json.dumps({name: {"start": str(p.start.date()), "end": str(p.end.date())}
                      for name, p in (("train", TRAIN), ("test", TEST))})
SPINUP_YEARS = 2


def _settings(**changes) -> CalibrationSettings:
    return CalibrationSettings(**{"evaluations": 30, "algorithm_options": {"ngs": 2}, "spinup_years": SPINUP_YEARS,
                                  **changes})


def _write_cache(path: Path, qobs: np.ndarray) -> Path:
    inputs = [synthetic_basin(seed, basin) for seed, basin in enumerate((GOOD, SHORT))]
    variables = {name: (("basin", "date"), np.stack([one.forcings.get(name, np.zeros(DATES.size)) for one in inputs])
                        .astype("float32"), {"units": "-"}) for name in FORCING_VARIABLES}
    variables["qobs"] = (("basin", "date"), qobs.astype("float32"), {"units": "mm/day"})
    coords = {"basin": np.array([GOOD, SHORT], dtype=object), "date": DATES, "lat": ("basin", [42.0, 42.0]),
              "elev": ("basin", [800.0, 800.0])}
    xr.Dataset(variables, coords=coords, attrs={"forcing": "daymet"}).to_netcdf(path)
    return path


@pytest.fixture(scope="module")
def day_index_cache(tmp_path_factory) -> Path:
    """Both basins observe their day's index in DATES (0, 1, 2, ...): the objective's observations name its days."""
    days = np.arange(DATES.size, dtype=np.float64)
    return _write_cache(tmp_path_factory.mktemp("days") / "daymet.nc", np.stack([days, days]))


@pytest.fixture(scope="module")
def flow_cache(tmp_path_factory) -> Path:
    """The true EXP-HYDRO flow; SHORT observed only from SHORT_FROM on in WY2000."""
    flow = true_flow("exphydro", synthetic_basin(0, GOOD))
    short = flow.copy()
    short[(DATES >= "1999-10-01") & (DATES < SHORT_FROM)] = np.nan
    return _write_cache(tmp_path_factory.mktemp("flow") / "daymet.nc", np.stack([flow, short]))


@pytest.mark.parametrize(("years", "first"), [(1, "1999-10-01"), (2, "1998-10-01"), (3, "1997-10-01")])
def test_the_objective_sees_exactly_the_data_amounts_water_years_spun_up_before_them(day_index_cache, tmp_path,
                                                                                     monkeypatch, years, first):
    seen = {}

    class Recording(SpotpySetup):
        def __init__(self, model, prepared, observed, qobs, *rest):
            seen.update(observed=np.asarray(observed), qobs=np.asarray(qobs))
            super().__init__(model, prepared, observed, qobs, *rest)

    monkeypatch.setattr(calibrate, "SpotpySetup", Recording)
    summary = calibrate_chunk("exphydro", day_index_cache, [GOOD], "custom", TRAIN, TEST,
                              _settings(train_years=years), tmp_path)
    assert summary.done == [GOOD], summary.failed
    scored = DATES[seen["qobs"].astype(int)]
    block = last_years(TRAIN, years, "train_years")
    assert (str(block.start.date()), str(block.end.date())) == (first, "2000-09-30")
    assert scored.equals(block.dates)  # every day of the N water years, and no other
    # the simulation starts spinup_years before the block: the forcing of the days before it, never its own
    window_start = DATES[int(seen["qobs"][0]) - int(seen["observed"][0])]
    assert window_start == block.start - pd.DateOffset(years=SPINUP_YEARS) >= DATES[0]
    with read_predictions(tmp_path / "predictions.nc") as predictions:
        assert predictions.attrs["calibration_period"] == str(block)


def test_a_data_amount_calibrates_other_parameters_and_screens_its_own_block(flow_cache, tmp_path):
    """The observations before the block do not enter a 1-year calibration; a basin observed on fewer than 90 % of
    the block's days is left out of it (as in training) though its 3-year calibration keeps it."""
    whole = calibrate_chunk("exphydro", flow_cache, [GOOD, SHORT], "custom", TRAIN, TEST, _settings(), tmp_path / "a")
    one = calibrate_chunk("exphydro", flow_cache, [GOOD, SHORT], "custom", TRAIN, TEST, _settings(train_years=1),
                          tmp_path / "b", run_name="exphydro@train_years=1", factors={"train_years": "1"})
    assert whole.done == [GOOD, SHORT] and one.done == [GOOD]
    assert "0.8 of the 1 years of train_years observed in 1999-10-01..2000-09-30" in one.failed[SHORT]
    parameters = [pd.read_csv(tmp_path / run / "parameters.csv", dtype={"basin": str}).set_index("basin")
                  for run in ("a", "b")]
    assert not parameters[0].loc[GOOD].equals(parameters[1].loc[GOOD])
    with read_predictions(tmp_path / "b" / "predictions.nc") as predictions:
        assert predictions.attrs["model"] == "exphydro@train_years=1"
        assert predictions.attrs["factor:train_years"] == "1"


def test_the_cli_writes_the_run_of_a_data_amount_and_metrics_csv_has_its_factor(flow_cache, tmp_path):
    results = tmp_path / "results"
    for years in (1, 3):
        name = f"exphydro@train_years={years}"
        run = prediction_path(results, name, "daymet", "custom", 0).parent
        assert main(["calibrate", "--model", "exphydro", "--name", name, "--factors",
                     json.dumps({"train_years": str(years)}), "--cache", str(flow_cache), "--basin", GOOD,
                     "--split", "custom", "--periods", PERIODS, "--settings",
                     json.dumps({"evaluations": 30, "algorithm_options": {"ngs": 2}, "train_years": years}),
                     "--output-dir", str(run)]) == 0
        assert main(["evaluate", "--predictions", str(run / "predictions.nc"), "--cache", str(flow_cache),
                     "--split", "custom", "--periods",
                     PERIODS, "--metrics", "NSE", "--output",
                     str(metrics_path(results, name, "daymet", "custom", 0))]) == 0
    table = collect_metrics(sorted((results / "metrics").rglob("*.csv")))
    assert table[["model", "base_model", "train_years"]].values.tolist() == [
        ["exphydro@train_years=1", "exphydro", "1"], ["exphydro@train_years=3", "exphydro", "3"]]
    with pytest.raises(ConfigError, match="models.exphydro.train_years: 4 years requested, but the training period "
                                          "1997-10-01..2000-09-30 is shorter"):
        calibrate_chunk("exphydro", flow_cache, [GOOD], "custom", TRAIN, TEST, _settings(train_years=4), tmp_path)
    with pytest.raises(ConfigError, match="train_years: expected a positive integer or null, got 0"):
        _settings(train_years=0)


def _one_member(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with an ``exphydro`` swept like its LSTM, one member (seed 0) per data amount."""
    rows = table[table["model"].str.startswith("lstm@") & (table["member"] == "0")]
    calibrated = rows.assign(model=rows["model"].str.replace("lstm@", "exphydro@"))
    if "base_model" in calibrated.columns:
        calibrated = calibrated.assign(base_model="exphydro")
    return pd.concat([table, calibrated], ignore_index=True)


def test_the_seed_kinds_draw_a_calibration_as_one_member_or_name_it():
    from runoffbench.plots.seeds import (
        plot_seed_hydrographs,
        plot_seed_mean_boxes,
        plot_seed_std_boxes,
        plot_seed_std_map,
    )

    table = _one_member(seed_metrics(levels=("1", "3")))
    statistics = seed_statistics(table)
    mine = statistics[statistics["model"] == "exphydro"]
    assert set(mine["level"]) == {"1", "3"} and set(mine["seeds"]) == {1} and mine["std"].isna().all()
    summary = robustness_summary(table, None)
    assert (summary["exphydro: seeds"] == 1).all() and summary["exphydro: median KGE std"].isna().all()
    legend = [t.get_text() for t in plot_seed_mean_boxes(table).axes[0].get_legend().get_texts()]
    assert "exphydro (1 seed)" in legend
    assert "not shown: exphydro (one seed)" in plot_seed_std_boxes(table).axes[0].get_xlabel()
    with pytest.raises(ConfigError, match=r"needs at least 6 seeds per basin \(exphydro has 1\)"):
        seed_significance(table, ("exphydro", "lstm"))
    with pytest.raises(DataError, match="exphydro and lstm have no basins with two or more seeds"):
        plot_seed_std_map(table, pair=("exphydro", "lstm"))
    figure = plot_seed_hydrographs(_one_member(hydrograph_rows()), models={"lstm": "LSTM", "exphydro": "EXP-HYDRO"})
    assert "EXP-HYDRO: its one run" in [t.get_text() for t in figure.legends[0].get_texts()]


def test_a_calibration_paired_in_a_seed_test_is_a_config_error():
    config = yaml.safe_load((REPO / "config" / "experiments" / "lizhao.yaml").read_text())
    config["tables"]["seed_robustness"]["pair"] = ["mclstm", "exphydro"]
    with pytest.raises(ConfigError, match=r"tables.seed_robustness: pair: exphydro is calibrated, one member per run"):
        check_config(config)


@pytest.mark.slow
def test_a_swept_calibration_plans_a_calibrate_job_per_data_amount(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["models"] = {"exphydro": {**copy.deepcopy(config["models"]["exphydro"]), "sweep": {"train_years": [2, 6]}}}
    config["evaluation"].update(baseline_model="exphydro@train_years=6",
                                kge_difference=["exphydro@train_years=2", "exphydro@train_years=6"])
    config.pop("analyses", None)
    config["figures"] = {k: v for k, v in config["figures"].items() if "models" not in (v or {})}  # other models
    (workdir / "swept.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(["snakemake", "-n", "-p", "--configfile", "swept.yaml", "--cores", "1"], cwd=workdir,
                            capture_output=True, text=True, timeout=120)
    planned = result.stdout + result.stderr
    assert result.returncode == 0, planned[-3000:]
    for years in (2, 6):
        assert f"results/default/runs/exphydro@train_years={years}/daymet/kratzert2019/0/predictions.nc" in planned
        assert f"--name exphydro@train_years={years} --model exphydro" in planned
        assert f'"train_years": {years}' in planned and f"--factors '{{\"train_years\": \"{years}\"}}'" in planned
