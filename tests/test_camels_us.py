"""Readers on the real CAMELS-US sample files (skipped when ../shared is absent)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from runoffbench.data import camels_us
from runoffbench.data.camels_us import ForcingWarning
from runoffbench.errors import DataError

BASIN = "01022500"


def test_daymet_values_and_header(camels_sample):
    table, header = camels_us.read_forcing(camels_us.forcing_path(camels_sample, "daymet", BASIN), "daymet")
    first = table.loc["2000-01-01"]
    assert first["prcp"] == 0.0
    assert first["srad"] == pytest.approx(189.56)
    assert first["tmax"] == pytest.approx(-2.36) and first["tmin"] == pytest.approx(-14.36)
    assert list(table.columns) == ["dayl", "prcp", "srad", "swe", "tmax", "tmin", "vp"]
    assert (header.lat, header.elev, header.area_m2) == (44.82, 133.0, 587675987.0)
    assert table.index[0] == pd.Timestamp("2000-01-01") and table.index.is_monotonic_increasing


@pytest.mark.parametrize("product", ["maurer", "nldas"])
def test_v1p2_daily_mean_temperature_warns_and_names_replacement(camels_sample, product):
    path = camels_us.forcing_path(camels_sample, product, BASIN)
    with pytest.warns(ForcingWarning, match=f"{product}_extended"):
        table, _ = camels_us.read_forcing(path, product)
    assert np.array_equal(table["tmax"], table["tmin"])
    assert "prcp" in table and "vp" in table  # capitalised PRCP(mm/day), Vp(Pa) mapped


def test_extended_product_tab_separated_unpadded_months(camels_sample):
    path = camels_us.forcing_path(camels_sample, "maurer_extended", BASIN)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForcingWarning)  # real daily extremes: no warning
        table, _ = camels_us.read_forcing(path, "maurer_extended")
    assert table.loc["2000-01-01", "tmax"] == pytest.approx(-2.09)
    assert table.loc["2000-01-01", "tmin"] == pytest.approx(-14.99)
    assert (table["tmax"] > table["tmin"]).mean() > 0.99


def test_streamflow_cfs_to_mm_per_day(camels_sample):
    flow = camels_us.read_streamflow(camels_us.streamflow_path(camels_sample, BASIN), 587675987.0, BASIN)
    assert flow.loc["2000-01-01", "qobs"] == pytest.approx(1.0616, abs=5e-5)  # 255 cfs
    assert flow.loc["2000-01-01", "flag"] == "A:e"
    assert set(flow["flag"]) <= {"A", "A:e", "M"}


def test_attributes_all_tables(camels_sample):
    attributes = camels_us.read_attributes(camels_sample)
    assert len(attributes) == 671
    assert attributes.index[0] == "01013500"  # leading zero kept
    assert attributes.loc[BASIN, "huc_02"] == "01"
    assert attributes.loc[BASIN, "gauge_lat"] == pytest.approx(44.60797)
    assert attributes.loc[BASIN, "area_gages2"] == pytest.approx(573.6)
    for column in ("p_mean", "baseflow_index", "soil_porosity", "frac_forest", "geol_permeability", "area_gages2"):
        assert column in attributes
    assert sorted(attributes["huc_02"].unique())[:2] == ["01", "02"]
    subset = camels_us.read_attributes(camels_sample, ["02013000", BASIN])
    assert list(subset.index) == ["02013000", BASIN]


def test_missing_rows_named(camels_sample):
    with pytest.raises(DataError, match="99999999"):
        camels_us.read_attributes(camels_sample, ["99999999"])


@pytest.mark.parametrize("product", ["daymet", "maurer", "nldas", "maurer_extended"])
def test_real_files_pass_the_value_checks_and_build(camels_sample, tmp_path, product):
    """The range, Tmin <= Tmax and date-continuity checks accept every real product, including
    the v1p2 Maurer/NLDAS files whose Tmax equals Tmin."""
    from runoffbench.data.cache import build_forcing_cache, open_cache

    path = build_forcing_cache(camels_sample, product, [BASIN], tmp_path / f"{product}.nc")
    cache = open_cache(path)
    assert cache.sizes["basin"] == 1 and cache.sizes["date"] >= 1096
    assert float(cache["prcp"].min()) >= 0 and int(np.isnan(cache["prcp"]).sum()) == 0
