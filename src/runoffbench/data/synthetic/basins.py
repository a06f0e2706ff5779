"""Synthetic basin sites: location, size, terrain and climate descriptors per HUC-02 region.

Each HUC-02 region of CONUS has a prototype (centre, spread, typical elevation/area/slope, climate and
landscape classes) loosely following the medians of the real CAMELS-US attribute tables; its mean
precipitation is the TRUE one, i.e. CAMELS' (Daymet) median divided by the Daymet bias of the region
(:func:`~runoffbench.data.synthetic.generator.daymet_bias_ratio`). Basins are drawn around those
prototypes, visiting the regions in an order that mixes snowy, humid, semi-arid and Mediterranean
climates first, so that even a handful of basins spans ≥6 regions (see :func:`regions_used`); the
desert South-West (15) comes ninth, so the 24-basin default keeps CAMELS' aridity range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Region:
    """Prototype of a HUC-02 region.

    Attributes:
        huc: two-digit HUC-02 code.
        state: a state abbreviation used in gauge names.
        lat, lon: centre [°]; spread_deg: standard deviation of the site scatter [°].
        elev: median basin-mean elevation [m]; slope: median mean slope [m/km]; area: median area [km²].
        p_mean: mean precipitation [mm/day]; p_amp: relative amplitude of its seasonal cycle;
        p_peak_doy: day of year of the precipitation maximum; wet_frac: fraction of wet days.
        t_mean: mean temperature at the region's elevation [°C]; t_amp: seasonal half-range [°C];
        dtr: mean diurnal temperature range [°C].
        geol, land_cover: dominant geology (GLiM) and land cover (MODIS IGBP) classes.
        permeability: log10 subsurface permeability [m²]; forest: forest fraction.
    """

    huc: str
    state: str
    lat: float
    lon: float
    spread_deg: float
    elev: float
    slope: float
    area: float
    p_mean: float
    p_amp: float
    p_peak_doy: int
    wet_frac: float
    t_mean: float
    t_amp: float
    dtr: float
    geol: str
    land_cover: str
    permeability: float
    forest: float


REGIONS: tuple[Region, ...] = (
    Region("01", "ME", 45.0, -69.5, 0.8, 330, 40, 220, 3.15, 0.10, 320, 0.42, 6.0, 12.0, 11,
           "Metamorphics", "Mixed Forests", -14.2, 0.90),
    Region("03", "GA", 33.3, -83.0, 1.2, 130, 7, 300, 3.3, 0.20, 45, 0.33, 15.5, 9.0, 12,
           "Unconsolidated sediments", "Deciduous Broadleaf Forest", -13.0, 0.70),
    Region("17", "WA", 46.5, -121.9, 1.0, 980, 110, 290, 5.7, 0.75, 350, 0.50, 6.5, 8.0, 10,
           "Basic volcanic rocks", "Evergreen Needleleaf Forest", -13.6, 0.95),
    Region("12", "TX", 30.2, -98.5, 1.0, 340, 8, 610, 2.45, 0.30, 140, 0.18, 18.5, 9.5, 13,
           "Carbonate sedimentary rocks", "Grasslands", -15.4, 0.20),
    Region("14", "CO", 39.6, -106.6, 0.6, 3070, 100, 40, 2.3, 0.25, 100, 0.45, 0.5, 10.5, 15,
           "Metamorphics", "Evergreen Needleleaf Forest", -14.0, 0.75),
    Region("05", "OH", 39.0, -81.4, 1.0, 480, 21, 360, 3.1, 0.12, 150, 0.38, 11.5, 11.5, 12,
           "Siliciclastic sedimentary rocks", "Deciduous Broadleaf Forest", -14.8, 0.80),
    Region("18", "CA", 37.7, -121.4, 1.2, 750, 92, 190, 2.9, 0.95, 15, 0.25, 13.0, 7.5, 14,
           "Acid plutonic rocks", "Woody Savannas", -14.5, 0.55),
    Region("10", "NE", 43.5, -100.6, 1.5, 760, 10, 730, 2.1, 0.55, 160, 0.22, 8.0, 14.0, 14,
           "Siliciclastic sedimentary rocks", "Grasslands", -13.5, 0.10),
    Region("15", "AZ", 33.8, -110.8, 0.8, 1650, 60, 290, 1.55, 0.45, 210, 0.16, 13.0, 9.5, 17,
           "Siliciclastic sedimentary rocks", "Open Shrublands", -15.7, 0.25),
    Region("02", "PA", 39.6, -77.2, 1.0, 460, 38, 230, 2.9, 0.08, 180, 0.36, 11.0, 11.5, 12,
           "Metamorphics", "Deciduous Broadleaf Forest", -14.1, 0.75),
    Region("07", "IA", 40.6, -91.0, 1.2, 230, 5, 690, 2.65, 0.40, 170, 0.30, 10.0, 14.0, 11,
           "Unconsolidated sediments", "Croplands", -13.2, 0.15),
    Region("04", "MI", 43.9, -85.3, 1.0, 320, 7, 455, 2.45, 0.20, 190, 0.40, 7.5, 13.0, 11,
           "Unconsolidated sediments", "cropland/natural vegetation mosaic", -12.5, 0.45),
    Region("06", "TN", 35.5, -82.9, 0.6, 920, 78, 180, 3.9, 0.15, 60, 0.37, 12.0, 10.0, 13,
           "Metamorphics", "Deciduous Broadleaf Forest", -14.6, 0.90),
    Region("08", "LA", 31.4, -91.9, 0.8, 90, 6, 565, 4.1, 0.15, 20, 0.30, 19.0, 8.5, 12,
           "Unconsolidated sediments", "Mixed Forests", -13.0, 0.60),
    Region("09", "ND", 48.1, -98.0, 0.8, 450, 5, 2400, 1.4, 0.55, 175, 0.25, 4.5, 16.0, 13,
           "Unconsolidated sediments", "Croplands", -13.8, 0.05),
    Region("11", "OK", 36.3, -95.0, 1.2, 380, 11, 810, 3.2, 0.35, 140, 0.24, 15.0, 11.0, 13,
           "Siliciclastic sedimentary rocks", "Grasslands", -14.9, 0.40),
    Region("13", "NM", 35.8, -105.6, 0.6, 2790, 105, 160, 1.7, 0.45, 215, 0.24, 4.0, 10.0, 16,
           "Acid volcanic rocks", "Evergreen Needleleaf Forest", -14.3, 0.60),
    Region("16", "NV", 39.2, -115.1, 0.8, 2140, 82, 57, 2.1, 0.50, 30, 0.20, 6.0, 11.0, 16,
           "Mixed sedimentary rocks", "Open Shrublands", -14.4, 0.30),
)

#: environmental lapse rate [°C per m]
LAPSE_RATE = 0.0065

_STREAMS = ("Fish", "Bear", "Beaver", "Mill", "Cedar", "Elk", "Pine", "Willow", "Trout", "Rock",
            "Sandy", "Otter", "Clear", "Deer", "Cottonwood", "Salmon", "Spring", "Walnut")
_PLACES = ("Millbrook", "Fairview", "Riverton", "Ashford", "Greenville", "Oakdale", "Lakeside",
           "Centerville", "Hillsboro", "Franklin", "Georgetown", "Kingston", "Marion", "Salem")


def regions_used(n_basins: int) -> int:
    """How many regions ``n_basins`` are spread over: ≥6, and ~3 basins per region so that
    per-region boxplots have something to show (24 basins -> 8 regions, 531 -> all 18)."""
    return min(len(REGIONS), max(6, n_basins // 3))


def make_basins(n_basins: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n_basins`` sites; returns a frame indexed by 8-digit gauge id, sorted by id.

    Columns: huc_02, region (index into :data:`REGIONS`), lat, lon, elev [m], slope [m/km],
    area_km2, gauge_name.
    """
    region_idx = np.arange(n_basins) % regions_used(n_basins)
    proto = [REGIONS[k] for k in region_idx]
    lat = np.array([r.lat for r in proto]) + rng.normal(0.0, 1.0, n_basins) * [r.spread_deg for r in proto]
    lon = np.array([r.lon for r in proto]) + rng.normal(0.0, 1.0, n_basins) * [1.3 * r.spread_deg for r in proto]
    elev = np.array([r.elev for r in proto]) * np.exp(rng.normal(0.0, 0.3, n_basins))
    slope = np.array([r.slope for r in proto]) * np.exp(rng.normal(0.0, 0.35, n_basins))
    area = np.array([r.area for r in proto]) * np.exp(rng.normal(0.0, 0.6, n_basins))
    ids = _gauge_ids(region_idx, rng)
    names = [f"{_STREAMS[rng.integers(len(_STREAMS))]} Creek near {_PLACES[rng.integers(len(_PLACES))]}, {r.state}"
             for r in proto]
    frame = pd.DataFrame(
        {
            "huc_02": [r.huc for r in proto],
            "region": region_idx,
            "lat": lat,
            "lon": lon,
            "elev": np.clip(elev, 10.0, 3600.0),
            "slope": np.clip(slope, 0.8, 250.0),
            "area_km2": np.clip(area, 5.0, 20000.0),
            "gauge_name": names,
        },
        index=pd.Index(ids, name="gauge_id"),
    )
    return frame.sort_index()


def _gauge_ids(region_idx: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Unique USGS-like 8-digit ids whose first two digits are the HUC-02 code."""
    ids: set[str] = set()
    out = []
    for k in region_idx:
        while True:
            candidate = f"{REGIONS[k].huc}{int(rng.integers(1000, 9999)) * 100 + int(rng.integers(0, 100)):06d}"
            if candidate not in ids:
                break
        ids.add(candidate)
        out.append(candidate)
    return out
