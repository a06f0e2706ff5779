"""Generator round trip: generate -> write the CAMELS layout -> real readers -> cache equals the
generator's in-memory values."""

from __future__ import annotations

import numpy as np
import pytest

from runoffbench.data.cache import build_attributes_cache, build_forcing_cache, open_cache
from runoffbench.data.camels_us import MM3_PER_FT3, read_basin_list
from runoffbench.data.synthetic.generator import SyntheticConfig, generate_dataset, write_dataset

PRODUCTS = ("daymet", "nldas_extended")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    dataset = generate_dataset(SyntheticConfig(n_basins=8, start="1990-01-01", end="1994-12-31", seed=3))
    write_dataset(dataset, root)
    return dataset, root


@pytest.mark.parametrize("product", PRODUCTS)
def test_cache_equals_generated_values(generated, tmp_path, product):
    dataset, root = generated
    basins = read_basin_list(root / "basins.txt")
    assert basins == sorted(dataset.headers.index)
    cache = open_cache(build_forcing_cache(root, product, basins, tmp_path / f"{product}.nc", "synthetic"))
    for basin in basins:
        expected = dataset.forcings[product][basin]
        for name in ("prcp", "tmax", "tmin", "srad", "vp", "dayl", "swe"):
            np.testing.assert_array_equal(
                cache[name].sel(basin=basin).values, expected[name].to_numpy("float32"), err_msg=f"{basin} {name}"
            )
        area = dataset.headers.loc[basin, "area_m2"]
        qobs_mm = dataset.streamflow_cfs[basin] * MM3_PER_FT3 * 86400.0 / (area * 1e6)
        np.testing.assert_array_equal(cache["qobs"].sel(basin=basin).values, qobs_mm.to_numpy("float32"))
        assert cache["elev"].sel(basin=basin).item() == pytest.approx(dataset.headers.loc[basin, "elev"])


def test_attributes_round_trip(generated, tmp_path):
    dataset, root = generated
    basins = read_basin_list(root / "basins.txt")
    import xarray as xr

    with xr.open_dataset(build_attributes_cache(root, basins, tmp_path / "attributes.nc")) as attributes:
        for column in ("p_mean", "aridity", "frac_snow", "baseflow_index", "soil_porosity", "area_gages2"):
            np.testing.assert_allclose(
                attributes[column].values, dataset.attributes.loc[basins, column].to_numpy(float), rtol=1e-6
            )
        assert set(attributes["huc_02"].values) == set(dataset.attributes["huc_02"])
