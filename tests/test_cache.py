"""The forcing cache against contract 1, and its round trip with the readers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from runoffbench.data import camels_us
from runoffbench.data.cache import build_attributes_cache, build_forcing_cache, open_cache
from runoffbench.errors import DataError
from runoffbench.periods import Period

BASINS = ["01000001", "02000002"]


@pytest.fixture
def cache(camels_tree, tmp_path):
    path = build_forcing_cache(camels_tree, "daymet", BASINS, tmp_path / "synthetic" / "daymet.nc", "synthetic")
    return open_cache(path)


def test_contract_dims_coords_units(cache):
    assert dict(cache.sizes) == {"basin": 2, "date": 1096}
    assert list(cache["basin"].values) == BASINS
    for name in ("prcp", "tmax", "tmin", "srad", "vp", "dayl", "swe", "qobs"):
        assert cache[name].dims == ("basin", "date")
        assert cache[name].dtype == np.float32
        assert cache[name].attrs["units"] and cache[name].attrs["long_name"]
    assert cache["qobs"].attrs["units"] == "mm/day"
    assert list(cache["huc_02"].values) == ["01", "02"]
    assert cache["lon"].values[0] == pytest.approx(-70.1)
    assert cache["area"].values[1] == pytest.approx(250.0)  # km2 from the forcing header
    assert cache.attrs["forcing"] == "daymet" and cache.attrs["dataset"] == "synthetic"


def test_round_trip_equals_readers(camels_tree, cache):
    for basin in BASINS:
        table, header = camels_us.read_forcing(camels_us.forcing_path(camels_tree, "daymet", basin))
        flow = camels_us.read_streamflow(camels_us.streamflow_path(camels_tree, basin), header.area_m2)
        for name in ("prcp", "tmax", "srad"):
            np.testing.assert_array_equal(cache[name].sel(basin=basin).values, table[name].to_numpy("float32"))
        np.testing.assert_array_equal(
            cache["qobs"].sel(basin=basin).values, flow["qobs"].to_numpy("float32")
        )
    assert int(np.isnan(cache["qobs"].values).sum()) == 2 * len(range(0, 1096, 97))  # the -999 days


def test_flags_kept(cache):
    flags = cache["qobs_flag"]
    meanings = flags.attrs["flag_meanings"].split()
    assert meanings == ["no_record", "A", "M"]
    decoded = np.array(meanings)[flags.values]
    assert (decoded[np.isnan(cache["qobs"].values)] == "M").all()


def test_chunked_and_compressed(cache, tmp_path):
    path = tmp_path / "synthetic" / "daymet.nc"
    with xr.open_dataset(path) as dataset:
        encoding = dataset["prcp"].encoding
    assert encoding["zlib"] and tuple(encoding["chunksizes"]) == (1, 1096)


def test_period_clips_dates(camels_tree, tmp_path):
    import pandas as pd

    period = Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-12-31"))
    path = build_forcing_cache(camels_tree, "daymet", BASINS, tmp_path / "d.nc", period=period)
    assert open_cache(path).sizes["date"] == 365


def test_attributes_cache(camels_tree, tmp_path):
    path = build_attributes_cache(camels_tree, BASINS, tmp_path / "attributes.nc")
    with xr.open_dataset(path) as attributes:
        assert list(attributes["basin"].values) == BASINS
        assert attributes["p_mean"].values.tolist() == [3.1, 2.7]
        assert attributes["huc_02"].values.tolist() == ["01", "02"]
        assert attributes["geol_1st_class"].values[1] == "Metamorphics"


def test_open_cache_rejects_other_files(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", np.zeros(3))}).to_netcdf(path)
    with pytest.raises(DataError, match="is not a forcing cache"):
        open_cache(path)
