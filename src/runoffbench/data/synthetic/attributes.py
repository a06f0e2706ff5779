"""CAMELS attribute tables (camels_attributes_v2.0) for synthetic basins.

The column lists are those of the real tables (Addor et al., 2017). Landscape attributes (topo, soil,
geol, vege, name) are drawn around the region prototypes of :mod:`.basins`; the climate indices and
hydrological signatures (clim, hydro) are computed from the generated series with :mod:`.signatures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from runoffbench.data.synthetic.basins import REGIONS

#: every column of each real table, in file order (gauge_id first)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "clim": ("gauge_id", "p_mean", "pet_mean", "p_seasonality", "frac_snow", "aridity", "high_prec_freq",
             "high_prec_dur", "high_prec_timing", "low_prec_freq", "low_prec_dur", "low_prec_timing"),
    "geol": ("gauge_id", "geol_1st_class", "glim_1st_class_frac", "geol_2nd_class", "glim_2nd_class_frac",
             "carbonate_rocks_frac", "geol_porostiy", "geol_permeability"),
    "hydro": ("gauge_id", "q_mean", "runoff_ratio", "slope_fdc", "baseflow_index", "stream_elas", "q5", "q95",
              "high_q_freq", "high_q_dur", "low_q_freq", "low_q_dur", "zero_q_freq", "hfd_mean"),
    "name": ("gauge_id", "huc_02", "gauge_name"),
    "soil": ("gauge_id", "soil_depth_pelletier", "soil_depth_statsgo", "soil_porosity", "soil_conductivity",
             "max_water_content", "sand_frac", "silt_frac", "clay_frac", "water_frac", "organic_frac",
             "other_frac"),
    "topo": ("gauge_id", "gauge_lat", "gauge_lon", "elev_mean", "slope_mean", "area_gages2",
             "area_geospa_fabric"),
    "vege": ("gauge_id", "frac_forest", "lai_max", "lai_diff", "gvf_max", "gvf_diff", "dom_land_cover_frac",
             "dom_land_cover", "root_depth_50", "root_depth_99"),
}
#: columns holding strings (everything else is numeric)
CATEGORICAL_COLUMNS: tuple[str, ...] = ("huc_02", "gauge_name", "geol_1st_class", "geol_2nd_class",
                                        "dom_land_cover", "high_prec_timing", "low_prec_timing")
_SECOND_GEOLOGY = ("Unconsolidated sediments", "Siliciclastic sedimentary rocks", "Carbonate sedimentary rocks",
                   "Mixed sedimentary rocks", "Metamorphics", "Acid plutonic rocks", "Basic volcanic rocks")


def _uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return rng.uniform(low, high, n)


def landscape_attributes(basins: pd.DataFrame, area_m2: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Topography, soil, geology, vegetation and name attributes, indexed by gauge_id.

    Dry regions get shallow, less porous soils and low permeability; forest and leaf area follow the
    region's forest fraction; the GAGES-II and geospatial-fabric areas scatter ±3 % around the
    forcing-header area.
    """
    n = len(basins)
    proto = [REGIONS[k] for k in basins["region"]]
    wetness = np.clip(np.array([r.p_mean for r in proto]) / 4.0, 0.2, 1.4)
    forest = np.clip(np.array([r.forest for r in proto]) + rng.normal(0, 0.08, n), 0.0, 1.0)
    sand = _uniform(rng, 15, 60, n)
    clay = _uniform(rng, 8, 35, n)
    soil_depth = np.clip(0.5 + 0.8 * wetness + rng.normal(0, 0.15, n), 0.4, 1.5)
    porosity = np.clip(0.40 + 0.05 * wetness + rng.normal(0, 0.015, n), 0.37, 0.55)
    first_frac = _uniform(rng, 0.5, 1.0, n)
    second_frac = (1.0 - first_frac) * _uniform(rng, 0.5, 1.0, n)
    first = [r.geol for r in proto]
    second = [c if c != f else "Water bodies" for c, f in
              zip(rng.choice(_SECOND_GEOLOGY, n), first)]
    lai_max = np.clip(0.8 + 4.5 * forest * wetness / 1.2 + rng.normal(0, 0.2, n), 0.4, 5.6)
    table = pd.DataFrame(
        {
            "huc_02": basins["huc_02"].to_numpy(),
            "gauge_name": basins["gauge_name"].to_numpy(),
            "gauge_lat": basins["lat"].round(5).to_numpy(),
            "gauge_lon": basins["lon"].round(5).to_numpy(),
            "elev_mean": basins["elev"].round(2).to_numpy(),
            "slope_mean": basins["slope"].round(5).to_numpy(),
            "area_gages2": np.round(area_m2 / 1e6 * rng.uniform(0.97, 1.0, n), 2),
            "area_geospa_fabric": np.round(area_m2 / 1e6 * rng.uniform(1.0, 1.03, n), 2),
            "soil_depth_pelletier": np.round(np.exp(rng.normal(1.5 + wetness, 0.8)), 6).clip(0.27, 50.0),
            "soil_depth_statsgo": soil_depth,
            "soil_porosity": porosity,
            "soil_conductivity": np.exp(rng.normal(0.2 + 0.02 * sand - 0.02 * clay, 0.3)),
            "max_water_content": np.clip(soil_depth * porosity * 1.05 + rng.normal(0, 0.03, n), 0.09, 1.05),
            "sand_frac": sand,
            "silt_frac": 100.0 - sand - clay - _uniform(rng, 0, 5, n),
            "clay_frac": clay,
            "water_frac": np.where(rng.random(n) < 0.1, _uniform(rng, 0, 2, n), 0.0),
            "organic_frac": np.where(rng.random(n) < 0.1, _uniform(rng, 0, 3, n), 0.0),
            "other_frac": np.where(rng.random(n) < 0.5, _uniform(rng, 0, 15, n), 0.0),
            "geol_1st_class": first,
            "glim_1st_class_frac": first_frac,
            "geol_2nd_class": second,
            "glim_2nd_class_frac": second_frac,
            "carbonate_rocks_frac": np.where([g.startswith("Carbonate") for g in first], first_frac, 0.0),
            "geol_porostiy": np.clip(0.13 + rng.normal(0, 0.05, n), 0.01, 0.28),
            "geol_permeability": np.round(np.array([r.permeability for r in proto]) + rng.normal(0, 0.4, n), 4),
            "frac_forest": np.round(forest, 4),
            "lai_max": lai_max,
            "lai_diff": lai_max * _uniform(rng, 0.4, 0.85, n),
            "gvf_max": np.clip(0.3 + 0.6 * wetness / 1.4 + rng.normal(0, 0.05, n), 0.18, 0.92),
            "gvf_diff": _uniform(rng, 0.05, 0.6, n),
            "dom_land_cover_frac": _uniform(rng, 0.4, 1.0, n),
            "dom_land_cover": ["    " + r.land_cover for r in proto],
            "root_depth_50": np.round(_uniform(rng, 0.12, 0.25, n), 6),
            "root_depth_99": np.round(_uniform(rng, 1.5, 3.1, n), 6),
        },
        index=basins.index,
    )
    return table


def assemble_tables(landscape: pd.DataFrame, clim: pd.DataFrame, hydro: pd.DataFrame) -> pd.DataFrame:
    """One frame with every attribute column of the seven tables (index gauge_id), in file order."""
    combined = pd.concat([landscape, clim, hydro], axis=1)
    columns = [c for table in TABLE_COLUMNS.values() for c in table if c != "gauge_id"]
    combined = combined[columns]
    combined.index.name = "gauge_id"
    return combined
