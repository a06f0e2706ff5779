"""Chunks of basins: failure isolation, resume, the chunk files, merging, chunking and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.calibration import chunks
from runoffbench.calibration.chunks import calibrate_chunk, chunk_basins, merge_chunks
from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.cli import main
from runoffbench.data.variables import FORCING_VARIABLES
from runoffbench.errors import ConfigError, DataError
from runoffbench.periods import Period
from runoffbench.predictions import read_predictions
from tests.test_calibration import DATES, TEST, TRAIN, synthetic_basin, true_flow

#: the custom split as the workflow passes it (--periods, the config's definition as JSON)
PERIODS = json.dumps({name: {"start": str(p.start.date()), "end": str(p.end.date())}
                      for name, p in (("train", TRAIN), ("test", TEST))})

GOOD = ["01000001", "01000002", "01000003"]
NO_OBSERVATIONS = "02000001"
NOT_IN_CACHE = "03000001"
#: a gauge whose record starts after the training period (real CAMELS has such gauges)
LATE_GAUGE = "04000001"
#: forcing that starts on FORCING_START, a year after the cache's first day: a short record
LATE_FORCING = "05000001"
FORCING_START = pd.Timestamp("1996-10-01")
SETTINGS = CalibrationSettings(evaluations=150, algorithm_options={"ngs": 2}, spinup_years=2)


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory):
    """A forcing cache (contract 1) with three good basins, one without observations, one whose gauge
    record starts after the training period and one whose forcing starts late."""
    basins = GOOD + [NO_OBSERVATIONS, LATE_GAUGE, LATE_FORCING]
    inputs = [synthetic_basin(seed, basin) for seed, basin in enumerate(basins)]
    qobs = np.stack([true_flow("exphydro", one) for one in inputs])
    qobs[3] = np.nan
    qobs[4, DATES <= TRAIN.end] = np.nan
    variables = {}
    for name in FORCING_VARIABLES:
        values = np.stack([one.forcings.get(name, np.zeros(DATES.size)) for one in inputs])
        values[5, DATES < FORCING_START] = np.nan
        variables[name] = (("basin", "date"), values.astype("float32"), {"units": "-"})
    variables["qobs"] = (("basin", "date"), qobs.astype("float32"), {"units": "mm/day"})
    coords = {"basin": np.array(basins, dtype=object), "date": DATES, "lat": ("basin", [42.0] * len(basins)),
              "elev": ("basin", [800.0] * len(basins))}
    path = tmp_path_factory.mktemp("cache") / "daymet.nc"
    xr.Dataset(variables, coords=coords, attrs={"forcing": "daymet"}).to_netcdf(path)
    return path


def run_chunk(cache_path, basins, output_dir, settings=SETTINGS, threads=1):
    return calibrate_chunk("exphydro", cache_path, basins, "custom", TRAIN, TEST, settings, output_dir,
                           threads=threads)


def test_failed_basins_are_recorded_and_the_others_complete(cache_path, tmp_path):
    basins = [GOOD[0], NO_OBSERVATIONS, GOOD[1], NOT_IN_CACHE]
    summary = run_chunk(cache_path, basins, tmp_path)
    assert summary.done == [GOOD[0], GOOD[1]]
    assert set(summary.failed) == {NO_OBSERVATIONS, NOT_IN_CACHE}
    failures = pd.read_csv(tmp_path / "failures.csv", dtype=str)
    assert list(failures.columns) == ["basin", "stage", "reason"] and (failures["stage"] == "calibrate").all()
    errors = dict(zip(failures["basin"], failures["reason"]))
    assert errors[NO_OBSERVATIONS].startswith("0 days of observed streamflow in the training period")
    assert "not in the forcing cache" in errors[NOT_IN_CACHE]

    predictions = read_predictions(tmp_path / "predictions.nc")  # validates the contract
    assert list(predictions["basin"].values) == [GOOD[0], GOOD[1]]
    assert pd.DatetimeIndex(predictions["date"].values).equals(TEST.dates)
    assert predictions.attrs["model"] == "exphydro" and predictions.attrs["member"] == "0"
    assert predictions.attrs["forcing"] == "daymet" and predictions.attrs["split"] == "custom"
    for name, units in (("et", "mm/day"), ("baseflow", "mm/day"), ("swe", "mm"), ("storage", "mm")):
        assert predictions[name].attrs["units"] == units
    assert np.isfinite(predictions["qsim"].values).all()

    parameters = pd.read_csv(tmp_path / "parameters.csv", dtype={"basin": str}, index_col="basin")
    assert list(parameters.index) == [GOOD[0], GOOD[1]]
    assert list(parameters.columns) == ["f", "smax", "qmax", "df", "tmax", "tmin"]
    trace = pd.read_csv(tmp_path / "trace.csv", dtype={"basin": str})
    assert list(trace.columns) == ["basin", "evaluation", "objective", "best_value"]
    assert set(trace["basin"]) == {GOOD[0], GOOD[1]} and (trace["objective"] == "rmse").all()


def test_rerun_skips_done_basins(cache_path, tmp_path, monkeypatch):
    run_chunk(cache_path, [GOOD[0], NO_OBSERVATIONS, GOOD[1]], tmp_path)
    first = pd.read_csv(tmp_path / "parameters.csv", dtype={"basin": str})
    calibrated = []

    def counting(model, inputs, *args):
        calibrated.append(inputs.basin)
        return original(model, inputs, *args)

    original = chunks.calibrate_basin
    monkeypatch.setattr(chunks, "calibrate_basin", counting)
    summary = run_chunk(cache_path, [GOOD[0], NO_OBSERVATIONS, GOOD[1], GOOD[2]], tmp_path)
    assert calibrated == [GOOD[2]]  # done basins are not calibrated again, screened-out ones never
    assert summary.skipped == [GOOD[0], GOOD[1]] and summary.done == [GOOD[2]]
    second = pd.read_csv(tmp_path / "parameters.csv", dtype={"basin": str})
    pd.testing.assert_frame_equal(first, second.iloc[:2])

    calibrated.clear()  # other settings: the saved basins are stale
    run_chunk(cache_path, [GOOD[0]], tmp_path, CalibrationSettings(evaluations=100, algorithm_options={"ngs": 2}))
    assert calibrated == [GOOD[0]]
    assert len(list((tmp_path / "work").iterdir())) == 1


def test_process_pool_gives_the_same_results(cache_path, tmp_path):
    run_chunk(cache_path, GOOD[:2], tmp_path / "serial")
    summary = run_chunk(cache_path, GOOD[:2] + [NO_OBSERVATIONS], tmp_path / "pool", threads=2)
    assert sorted(summary.done) == GOOD[:2] and list(summary.failed) == [NO_OBSERVATIONS]
    serial, pooled = (pd.read_csv(tmp_path / d / "parameters.csv") for d in ("serial", "pool"))
    pd.testing.assert_frame_equal(serial, pooled)


def test_merge_chunks_writes_the_run(cache_path, tmp_path):
    run_chunk(cache_path, [GOOD[1]], tmp_path / "chunk_0")
    run_chunk(cache_path, [GOOD[0], NO_OBSERVATIONS], tmp_path / "chunk_1")
    merge_chunks([tmp_path / "chunk_0", tmp_path / "chunk_1"], tmp_path / "run")
    merged = read_predictions(tmp_path / "run" / "predictions.nc")
    assert list(merged["basin"].values) == [GOOD[0], GOOD[1]]
    parameters = pd.read_csv(tmp_path / "run" / "parameters.csv", dtype={"basin": str})
    assert sorted(parameters["basin"]) == [GOOD[0], GOOD[1]]
    assert pd.read_csv(tmp_path / "run" / "failures.csv", dtype=str)["basin"].tolist() == [NO_OBSERVATIONS]


def test_chunk_basins_partition_the_list():
    basins = [f"{i:08d}" for i in range(10)]
    parts = [chunk_basins(basins, i, 3) for i in range(3)]
    assert [len(p) for p in parts] == [4, 3, 3]
    assert sum(parts, []) == basins
    with pytest.raises(ConfigError, match="chunk 3 of 3"):
        chunk_basins(basins, 3, 3)


def test_bad_settings_fail_before_any_basin(cache_path, tmp_path):
    settings = CalibrationSettings(evaluations=10, bounds={"smax": [10.0, 5.0]})
    with pytest.raises(ConfigError, match="models.exphydro.bounds.smax"):
        run_chunk(cache_path, GOOD, tmp_path, settings)
    assert not (tmp_path / "work").exists()


def test_cli_calibrates_one_basin(cache_path, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_help:
        main(["calibrate", "--help"])
    assert exit_help.value.code == 0 and "--evaluations" in capsys.readouterr().out
    status = main(["calibrate", "--model", "exphydro", "--cache", str(cache_path), "--basin", GOOD[0],
                   "--split", "custom", "--periods", PERIODS, "--evaluations", "100", "--trials", "2",
                   "--algorithm-option", "ngs=2", "--bound", "smax=500,700", "--output-dir", str(tmp_path)])
    assert status == 0
    parameters = pd.read_csv(tmp_path / "parameters.csv", dtype={"basin": str}, index_col="basin")
    assert 500.0 <= parameters.loc[GOOD[0], "smax"] <= 700.0
    predictions = read_predictions(tmp_path / "predictions.nc")
    assert predictions.attrs["trials"] == 2 and predictions.attrs["evaluations"] == 100
    assert pd.read_csv(tmp_path / "trace.csv")["evaluation"].max() == 200  # two trials of 100 runs
    assert main(["calibrate", "--model", "hbv", "--cache", str(cache_path), "--basin", GOOD[0],
                 "--split", "kratzert2019", "--output-dir", str(tmp_path)]) == 2


def test_cli_calibrates_a_chunk_of_a_basin_list_with_progress(cache_path, tmp_path, capsys):
    basin_list = tmp_path / "basins.txt"  # comments as every basin list may have them (read_basin_list)
    basin_list.write_text("# the test basins\n" + "\n".join(GOOD + [NO_OBSERVATIONS]) + "  # last\n")
    status = main(["calibrate", "--model", "exphydro", "--cache", str(cache_path), "--basins", str(basin_list),
                   "--chunk", "1/2", "--split", "custom", "--periods", PERIODS, "--evaluations", "60",
                   "--algorithm-option", "ngs=2", "--output-dir", str(tmp_path / "out")])
    assert status == 0
    # chunk 1 of 2 of four basins: the third and fourth; the fourth has no observations
    parameters = pd.read_csv(tmp_path / "out" / "parameters.csv", dtype={"basin": str})
    assert parameters["basin"].tolist() == [GOOD[2]]
    failures = pd.read_csv(tmp_path / "out" / "failures.csv", dtype={"basin": str})
    assert failures["basin"].tolist() == [NO_OBSERVATIONS]
    assert "2/2" in capsys.readouterr().err  # the progress bar counts basins done / total
    settings = '{"evaluations": 60, "algorithm_options": {"ngs": 2}, "objective": "nse"}'
    assert main(["calibrate", "--model", "exphydro", "--cache", str(cache_path), "--basin", GOOD[0],
                 "--split", "custom", "--periods", PERIODS, "--settings", settings,
                 "--output-dir", str(tmp_path / "json")]) == 0
    with read_predictions(tmp_path / "json" / "predictions.nc") as predictions:
        assert predictions.attrs["objective"] == "nse" and predictions.attrs["evaluations"] == 60


def test_a_basin_without_training_flow_is_screened_out_before_fitting(cache_path, tmp_path, monkeypatch):
    """One rule for every model kind (runoffbench.failures): a gauge whose record starts after the
    training period is not calibrated, not predicted and named in failures.csv with the reason."""
    calibrated = []
    original = chunks.calibrate_basin
    monkeypatch.setattr(chunks, "calibrate_basin", lambda model, inputs, *a: calibrated.append(inputs.basin)
                        or original(model, inputs, *a))
    summary = run_chunk(cache_path, [GOOD[0], LATE_GAUGE], tmp_path)
    assert calibrated == [GOOD[0]] and list(summary.failed) == [LATE_GAUGE]
    assert list(read_predictions(tmp_path / "predictions.nc")["basin"].values) == [GOOD[0]]
    failures = pd.read_csv(tmp_path / "failures.csv", dtype={"basin": str})
    assert failures.to_dict("records") == [{"basin": LATE_GAUGE, "stage": "calibrate", "reason": (
        f"0 days of observed streamflow in the training period {TRAIN}, fewer than the 365 a run needs")}]


def test_merged_failures_keep_the_format(cache_path, tmp_path):
    run_chunk(cache_path, [GOOD[1], LATE_GAUGE], tmp_path / "chunk_0")
    run_chunk(cache_path, [GOOD[0], NO_OBSERVATIONS], tmp_path / "chunk_1")
    merge_chunks([tmp_path / "chunk_0", tmp_path / "chunk_1"], tmp_path / "run")
    failures = pd.read_csv(tmp_path / "run" / "failures.csv", dtype={"basin": str})
    assert list(failures.columns) == ["basin", "stage", "reason"]
    assert failures["basin"].tolist() == [LATE_GAUGE, NO_OBSERVATIONS]


def test_a_chunk_where_every_basin_failed_fails(cache_path, tmp_path):
    """The chunk must not pass as done with an empty predictions file: the error names the chunk and
    the first reasons; failures.csv stays for a look, the other chunk files are not written."""
    with pytest.raises(DataError, match=r"(?s)no basin of chunk .*exphydro/daymet/custom/0.* succeeded.*"
                                        r"02000001: 0 days of observed streamflow"):
        run_chunk(cache_path, [NO_OBSERVATIONS, LATE_GAUGE], tmp_path)
    assert not (tmp_path / "predictions.nc").exists()
    failures = pd.read_csv(tmp_path / "failures.csv", dtype={"basin": str})
    assert failures["basin"].tolist() == [NO_OBSERVATIONS, LATE_GAUGE]


def test_a_test_period_outside_the_data_fails_before_any_basin(cache_path, tmp_path, monkeypatch):
    monkeypatch.setattr(chunks, "calibrate_basin", lambda *a: pytest.fail("calibrated a basin"))
    outside = Period(pd.Timestamp("2010-10-01"), pd.Timestamp("2011-09-30"))
    with pytest.raises(DataError, match=r"test period 2010-10-01..2011-09-30 .* outside the forcing cache .*"
                                        r"1995-10-01..2003-09-30"):
        calibrate_chunk("exphydro", cache_path, GOOD[:2], "custom", TRAIN, outside, SETTINGS, tmp_path)
    assert not (tmp_path / "predictions.nc").exists()


def test_more_failures_than_the_allowed_share_fail_the_chunk(cache_path, tmp_path):
    basins = [GOOD[0], NO_OBSERVATIONS, NOT_IN_CACHE]  # two of three fail
    with pytest.raises(DataError, match=r"2 of 3 basins \(67 %\) failed.*calibration.max_failed_share 0.5"):
        run_chunk(cache_path, basins, tmp_path / "strict", replace(SETTINGS, max_failed_share=0.5))
    summary = run_chunk(cache_path, basins, tmp_path / "lenient", replace(SETTINGS, max_failed_share=0.7))
    assert summary.done == [GOOD[0]]
    with pytest.raises(ConfigError, match="calibration.max_failed_share"):
        CalibrationSettings(max_failed_share=1.5)


def test_cli_exits_non_zero_when_every_basin_failed(cache_path, tmp_path, capsys):
    status = main(["calibrate", "--model", "exphydro", "--cache", str(cache_path), "--basin", NO_OBSERVATIONS,
                   "--split", "custom", "--periods", PERIODS, "--evaluations", "60", "--algorithm-option", "ngs=2",
                   "--output-dir", str(tmp_path)])
    assert status != 0
    assert "no basin of" in capsys.readouterr().err
    basins = [GOOD[0], NO_OBSERVATIONS]  # half failed: allowed with --max-failed-share 0.5, not with 0.4
    common = ["calibrate", "--model", "exphydro", "--cache", str(cache_path), "--split", "custom",
              "--periods", PERIODS, "--evaluations", "60", "--algorithm-option", "ngs=2"]
    for basin in basins:
        common += ["--basin", basin]
    assert main(common + ["--max-failed-share", "0.4", "--output-dir", str(tmp_path / "a")]) != 0
    assert main(common + ["--max-failed-share", "0.5", "--output-dir", str(tmp_path / "b")]) == 0


def test_spin_up_starts_at_the_basins_first_day_with_forcing(cache_path, tmp_path):
    """Item 10: a basin whose forcing starts late is spun up from its own first day with forcing (not cut
    at the cache's first day, where its forcing is missing) and scored after that spin-up."""
    summary = run_chunk(cache_path, [LATE_FORCING], tmp_path)
    assert summary.done == [LATE_FORCING], summary.failed
    predictions = read_predictions(tmp_path / "predictions.nc")
    assert np.isfinite(predictions["qsim"].values).all()
