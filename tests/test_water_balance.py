"""Water-balance table: exact numbers on synthetic caches, errors, and the CLI."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.analysis.water_balance import COLUMNS, water_balance
from runoffbench.cli import water_balance as cli
from runoffbench.data.variables import VARIABLES
from runoffbench.errors import DataError

BASINS = ["01013500", "01022500", "06431500", "06470800", "12010000", "12035000"]
HUC_02 = ["01", "01", "10", "10", "17", "17"]
#: P(nldas) / P(daymet) per basin
BIAS = np.array([0.8, 0.9, 1.0, 1.1, 1.2, 1.5])
#: three 365-day cycles of P = (basin + 1) * (1, 2, 3) mm/day
DATES = pd.date_range("1990-01-01", periods=1095, freq="D")


def make_cache(forcing: str, prcp_factor: np.ndarray, basins=BASINS) -> xr.Dataset:
    """A forcing cache whose Q is 1 mm/day except NaN on every third day (the wettest)."""
    n_basins = len(basins)
    cycle = 1.0 + np.arange(len(DATES)) % 3
    prcp = (np.arange(1, n_basins + 1)[:, None] * cycle[None, :]) * prcp_factor[:n_basins, None]
    qobs = np.where(cycle == 3.0, np.nan, 1.0) * np.ones((n_basins, 1))
    variables = {
        "prcp": (("basin", "date"), prcp.astype("float32"),
                 {"units": "mm/day", "long_name": "precipitation"}),
        "qobs": (("basin", "date"), qobs.astype("float32"),
                 {"units": "mm/day", "long_name": "observed streamflow"}),
    }
    for name in ("tmax", "tmin", "srad", "vp", "dayl", "swe"):  # unused here, but part of the contract
        variables[name] = (("basin", "date"), np.zeros((n_basins, len(DATES)), "float32"),
                           {"units": VARIABLES[name][0]})
    coords = {
        "basin": list(basins), "date": DATES,
        "lat": ("basin", np.linspace(35.0, 45.0, n_basins)),
        "lon": ("basin", np.linspace(-120.0, -70.0, n_basins)),
        "elev": ("basin", np.full(n_basins, 500.0)),
        "area": ("basin", np.arange(1, n_basins + 1) * 100.0),
        "huc_02": ("basin", HUC_02[:n_basins]),
    }
    return xr.Dataset(variables, coords, attrs={"forcing": forcing, "dataset": "test"})


@pytest.fixture
def caches() -> dict[str, xr.Dataset]:
    return {"daymet": make_cache("daymet", np.ones(6)), "nldas": make_cache("nldas", BIAS)}


def rows(table: pd.DataFrame, forcing: str) -> pd.DataFrame:
    return table[table["forcing"] == forcing].set_index("basin").loc[BASINS]


def test_table_has_one_row_per_basin_and_forcing(caches):
    table = water_balance(caches, "daymet")
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 12
    assert rows(table, "daymet")["region"].tolist() == [
        "New England", "New England", "Missouri", "Missouri", "Pacific Northwest",
        "Pacific Northwest"]


def test_means_and_ratios_are_exact(caches):
    table = water_balance(caches, "daymet")
    daymet, nldas = rows(table, "daymet"), rows(table, "nldas")
    scale = np.arange(1, 7)
    np.testing.assert_allclose(daymet["prcp_mean"], 2.0 * scale, rtol=1e-6)
    np.testing.assert_allclose(nldas["prcp_mean"], 2.0 * scale * BIAS, rtol=1e-6)
    np.testing.assert_allclose(daymet["qobs_mean"], 1.0)
    # Q/P over the days with Q only (P = 1 and 2 there), not mean(Q) / mean(P) = 1 / (2 scale)
    np.testing.assert_allclose(daymet["runoff_ratio"], 1.0 / (1.5 * scale), rtol=1e-6)
    np.testing.assert_allclose(nldas["runoff_ratio"], 1.0 / (1.5 * scale * BIAS), rtol=1e-6)
    np.testing.assert_array_equal(daymet["prcp_ratio"], 1.0)
    np.testing.assert_allclose(nldas["prcp_ratio"], BIAS, rtol=1e-6)
    assert (daymet["n_qobs_days"] == 730).all()


def test_precipitation_ratio_uses_days_both_products_cover(caches):
    caches["nldas"]["prcp"][0, :30] = np.nan
    nldas = rows(water_balance(caches, "daymet"), "nldas")
    np.testing.assert_allclose(nldas["prcp_ratio"], BIAS, rtol=1e-6)


def test_period_selects_days():
    caches = {"daymet": make_cache("daymet", np.ones(6))}
    table = water_balance(caches, "daymet", period=("1990-01-01", "1990-01-30"))
    assert (table["n_qobs_days"] == 20).all()


def test_basin_order_does_not_matter(caches):
    caches["nldas"] = caches["nldas"].isel(basin=slice(None, None, -1))
    nldas = rows(water_balance(caches, "daymet"), "nldas")
    np.testing.assert_allclose(nldas["prcp_ratio"], BIAS, rtol=1e-6)


def test_mismatched_basins_are_named(caches):
    caches["nldas"] = make_cache("nldas", BIAS, basins=BASINS[:5])
    with pytest.raises(DataError, match="'nldas'.*12035000"):
        water_balance(caches, "daymet")


def test_missing_reference_is_named(caches):
    with pytest.raises(DataError, match="'maurer'"):
        water_balance(caches, "maurer")


def test_missing_variable_is_named(caches):
    caches["nldas"] = caches["nldas"].drop_vars("qobs")
    with pytest.raises(DataError, match="'nldas'.*'qobs'"):
        water_balance(caches, "daymet")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runoffbench")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_writes_csv_and_markdown(caches, tmp_path):
    argv = ["water-balance", "--reference", "daymet", "--output", str(tmp_path / "wb.csv")]
    for name, ds in caches.items():
        ds.to_netcdf(tmp_path / f"{name}.nc")
        argv += ["--cache", f"{name}={tmp_path / f'{name}.nc'}"]
    args = parse(argv)
    assert args.run(args) == 0
    table = pd.read_csv(tmp_path / "wb.csv", dtype={"basin": str, "huc_02": str})
    assert len(table) == 12 and table["huc_02"].iloc[0] == "01"
    np.testing.assert_allclose(rows(table, "nldas")["prcp_ratio"], BIAS, rtol=1e-5)
    assert "prcp_mean [mm/day]" in (tmp_path / "wb.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daymet.nc", "nldas.nc", "wb.csv",
                                                          "wb.md"]


def test_cli_rejects_a_cache_without_a_name():
    with pytest.raises(SystemExit):
        parse(["water-balance", "--cache", "daymet.nc", "--reference", "daymet",
               "--output", "x.csv"])
