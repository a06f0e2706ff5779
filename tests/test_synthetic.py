"""The synthetic CAMELS-US generator: formats, determinism, designed contrasts, attributes, CLI."""

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runoffbench.cli import synth
from runoffbench.data.synthetic import signatures
from runoffbench.data.synthetic.attributes import TABLE_COLUMNS
from runoffbench.data.synthetic.generator import (
    CUBIC_FOOT_MM3,
    SyntheticConfig,
    daymet_bias_ratio,
    generate_dataset,
    nldas_bias_ratio,
    write_dataset,
)

SAMPLE = Path(__file__).parents[2] / "shared" / "data" / "camels_us_sample"
CONFIG = SyntheticConfig(n_basins=8, start="2000-01-01", end="2004-12-31", seed=3)
FORCING = "basin_dataset_public_v1p2/basin_mean_forcing"


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(CONFIG)


@pytest.fixture(scope="module")
def root(dataset, tmp_path_factory):
    return write_dataset(dataset, tmp_path_factory.mktemp("camels"))


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _read_forcing(path: Path) -> tuple[list[str], pd.DataFrame]:
    lines = path.read_text().splitlines()
    frame = pd.read_csv(path, sep=r"\s+", skiprows=3)
    frame.index = pd.to_datetime(dict(year=frame.Year, month=frame.Mnth, day=frame.Day))
    return lines[:3], frame


def test_same_seed_same_bytes_and_different_seed_differs(root, tmp_path):
    again = write_dataset(generate_dataset(CONFIG), tmp_path / "again")
    first, second = _digests(root), _digests(again)
    assert first == second
    other = write_dataset(generate_dataset(SyntheticConfig(**{**CONFIG.__dict__, "seed": 4})), tmp_path / "other")
    assert _digests(other) != first


def test_layout_regions_and_ids(dataset, root):
    ids = list(dataset.attributes.index)
    assert (root / "basins.txt").read_text().split() == ids
    assert all(len(i) == 8 and i.isdigit() for i in ids)
    huc = dataset.attributes["huc_02"]
    assert huc.nunique() >= 6
    assert all(i[:2] == huc[i] for i in ids)
    for basin in ids:
        assert (root / FORCING / "daymet" / huc[basin] / f"{basin}_lump_cida_forcing_leap.txt").is_file()
        assert (root / FORCING / "nldas_extended" / huc[basin] / f"{basin}_lump_nldas_forcing_leap.txt").is_file()
        streamflow = root / "basin_dataset_public_v1p2/usgs_streamflow" / huc[basin]
        assert (streamflow / f"{basin}_streamflow_qc.txt").is_file()
    assert (root / "truth.nc").is_file()


@pytest.mark.parametrize(("product", "sample_product", "sample_name"), [
    ("daymet", "daymet", "01022500_lump_cida_forcing_leap.txt"),
    ("nldas_extended", "maurer_extended", "01022500_lump_maurer_forcing_leap.txt"),
])
def test_forcing_files_match_the_real_format_and_the_memory(dataset, root, product, sample_product, sample_name):
    basin = dataset.attributes.index[0]
    path = next((root / FORCING / product).rglob(f"{basin}_*.txt"))
    header, frame = _read_forcing(path)
    head = dataset.headers.loc[basin]
    assert [float(header[0]), float(header[1]), int(header[2])] == [head["lat"], head["elev"], head["area_m2"]]
    memory = dataset.forcings[product][basin]
    written = frame.iloc[:, 4:].set_axis(list(memory.columns), axis=1)
    pd.testing.assert_frame_equal(written, memory, check_freq=False, check_names=False)
    sample = SAMPLE / "basin_dataset_public_v1p2/basin_mean_forcing" / sample_product / "01" / sample_name
    if not sample.is_file():
        pytest.skip("../shared CAMELS sample not available")
    ours, real = path.read_text().splitlines(), sample.read_text().splitlines()
    for mine, theirs in zip(ours[:3], real[:3]):  # right-aligned numbers, same widths
        assert len(mine) == len(theirs) and mine[0] == theirs[0] == " "
    if product == "daymet":
        assert ours[3] == real[3]
    else:
        assert ours[3].split("\t")[:4] == real[3].split("\t")[:4] and ours[3].count("\t") == 10
    assert [len(f) for f in ours[4].split("\t")[0].split(" ")] == [len(f) for f in real[4].split("\t")[0].split(" ")]
    assert ours[4].count("\t") == real[4].count("\t")


def test_streamflow_file_format_and_gaps(dataset, root):
    basin = next(b for b, q in dataset.streamflow_cfs.items() if q.isna().any())
    path = next((root / "basin_dataset_public_v1p2/usgs_streamflow").rglob(f"{basin}_streamflow_qc.txt"))
    lines = path.read_text().splitlines()
    frame = pd.read_csv(path, sep=r"\s+", header=None, names=["gauge", "y", "m", "d", "q", "flag"],
                        dtype={"gauge": str})
    assert (frame.gauge == basin).all()
    missing = frame.q == -999.0
    assert missing.any() and (frame.flag[missing] == "M").all()
    np.testing.assert_array_equal(frame.q.where(~missing).to_numpy(), dataset.streamflow_cfs[basin].to_numpy())
    assert any(line.endswith(" -999.00 M") for line in lines)
    sample = SAMPLE / "basin_dataset_public_v1p2/usgs_streamflow/01/01022500_streamflow_qc.txt"
    if sample.is_file():
        real = sample.read_text().splitlines()[0]
        ok = next(line for line in lines if line.endswith(" A"))
        assert [len(f) for f in ok.split()[:4]] == [len(f) for f in real.split()[:4]]
        assert ok.index(".") == real.index(".")


def test_daymet_carries_the_eastern_high_bias(dataset):
    # The bias direction was reversed (issue 10): the generator used to bias NLDAS high in the
    # south-east (NLDAS/Daymet 1.11-1.27 in the East), whereas in real CAMELS Daymet is the wetter
    # product there (NLDAS/Daymet = 0.82 at 01022500; Frame et al. 2023). Now Daymet/truth rises
    # smoothly towards the Atlantic, NLDAS stays close to the truth there and is wet in the West.
    east, west = (-72.0, 44.0), (-121.0, 46.0)
    assert daymet_bias_ratio(*east) > 1.1 and daymet_bias_ratio(*west) == pytest.approx(1.0, abs=0.01)
    assert abs(nldas_bias_ratio(*east) - 1.0) < daymet_bias_ratio(*east) - 1.0
    assert 0.78 < nldas_bias_ratio(*east) / daymet_bias_ratio(*east) < 0.86  # 01022500: 0.82
    lons = np.linspace(-125.0, -67.0, 59)
    ratio = daymet_bias_ratio(lons, 40.0) / nldas_bias_ratio(lons, 40.0)
    assert (np.diff(ratio) > 0).all() and np.abs(np.diff(ratio)).max() < 0.02  # smooth, rising eastwards
    ratios = pd.Series({b: dataset.forcings["daymet"][b].prcp.sum() / dataset.forcings["nldas_extended"][b].prcp.sum()
                        for b in dataset.attributes.index})
    lon = dataset.attributes["gauge_lon"]
    assert (ratios[lon > -90] > 1.1).all() and (ratios[lon < -105] < 1.0).all()
    expected = (dataset.truth["daymet_bias"] / dataset.truth["nldas_bias"]).to_series()[ratios.index]
    np.testing.assert_allclose(ratios, expected, rtol=0.05)


def test_snow_and_zero_flow_basins(dataset):
    swe = dataset.truth["swe"].to_pandas().T
    winter = swe[swe.index.month.isin([1, 2, 3])].mean()
    snowy = dataset.attributes["frac_snow"] > 0.3
    assert snowy.any() and (winter[snowy] > 10.0).all()
    # The arid basins are CAMELS-like now (aridity up to ~2, issue 10) rather than aridity 3+ deserts;
    # the driest ones lose water to their channels and have the zero-flow days.
    zero = dataset.attributes["zero_q_freq"]
    arid = dataset.attributes["aridity"] > 1.3
    assert arid.any() and (zero[arid] > 0.0).any()
    assert zero[arid].mean() > zero[dataset.attributes["aridity"] < 1.0].mean()


def test_attribute_tables_have_every_real_column(dataset, root):
    for table, columns in TABLE_COLUMNS.items():
        path = root / "camels_attributes_v2.0" / f"camels_{table}.txt"
        frame = pd.read_csv(path, sep=";", dtype={"gauge_id": str, "huc_02": str})
        assert tuple(frame.columns) == columns
        assert frame.gauge_id.tolist() == list(dataset.attributes.index)
        real = SAMPLE / "camels_attributes_v2.0" / f"camels_{table}.txt"
        if real.is_file():
            assert real.read_text().splitlines()[0] == ";".join(columns)
    topo = dataset.attributes
    area = dataset.headers["area_m2"] / 1e6
    np.testing.assert_allclose(topo["area_gages2"], area, rtol=0.035)
    np.testing.assert_allclose(topo["area_geospa_fabric"], area, rtol=0.035)
    assert set(topo["high_prec_timing"]) <= {"djf", "mam", "jja", "son"}
    assert topo["dom_land_cover"].str.startswith("    ").all()


def test_signatures_match_recomputation_from_the_files(dataset, root):
    basin = dataset.attributes.index[2]
    head = dataset.headers.loc[basin]
    _, daymet = _read_forcing(next((root / FORCING / "daymet").rglob(f"{basin}_*.txt")))
    q = dataset.streamflow_cfs[basin].to_numpy() * CUBIC_FOOT_MM3 * 86400 / (head["area_m2"] * 1e6)
    expected = signatures.hydro_signatures(q, daymet["prcp(mm/day)"].to_numpy(), daymet.index)
    got = dataset.attributes.loc[basin, list(expected)]
    np.testing.assert_allclose(got.astype(float), pd.Series(expected).astype(float), rtol=1e-9)


def test_signature_functions_on_hand_made_series():
    dates = pd.date_range("2000-10-01", "2002-09-30")
    constant = np.full(len(dates), 2.0)
    assert signatures.ladson_baseflow(constant).sum() / constant.sum() == pytest.approx(1.0)
    spiky = constant.copy()
    spiky[::30] = 40.0
    assert 0.2 < signatures.ladson_baseflow(spiky).sum() / spiky.sum() < 0.9
    np.testing.assert_array_equal(signatures.event_durations(np.array([1, 1, 0, 1, 0, 1, 1, 1], bool)), [2, 1, 3])
    prcp = np.where(np.arange(len(dates)) % 10 == 0, 20.0, 0.0)  # mean 2, P >= 10 on every 10th day
    temp = 10 - 10 * np.cos(2 * np.pi * (dates.day_of_year - 20) / 365.25)
    clim = signatures.climate_indices(prcp, temp, np.full(len(dates), 3.0), dates)
    assert clim["high_prec_dur"] == 1.0
    assert clim["high_prec_freq"] == pytest.approx(73 / 730 * 365.25)
    assert clim["aridity"] == pytest.approx(3.0 / clim["p_mean"])
    summer = np.where(dates.month.isin([6, 7, 8]), 5.0, 0.5)
    assert signatures.seasonality_index(summer, temp, dates) > 0.5
    assert signatures.half_flow_date(constant, dates) == 183.0


def test_cli_writes_the_layout(tmp_path):
    parser = argparse.ArgumentParser()
    synth.add_parser(parser.add_subparsers())
    out, ids = tmp_path / "camels", tmp_path / "ids.txt"
    args = parser.parse_args(["synth", "--output", str(out), "--n-basins", "6", "--start", "2001-01-01",
                              "--end", "2003-12-31", "--seed", "1", "--basin-list", str(ids)])
    assert args.run(args) == 0
    basins = ids.read_text().split()
    assert len(basins) == 6
    assert len(list((out / FORCING / "daymet").rglob("*.txt"))) == 6
    assert (out / "camels_attributes_v2.0" / "camels_hydro.txt").is_file()
