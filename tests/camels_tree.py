"""Write a tiny CAMELS-US tree in the exact NCAR layout, for tests that must not need ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from runoffbench.data.camels_us import ATTRIBUTE_TABLES

BASINS = {"01000001": ("01", 44.5, -70.1, 300.0, 5.0e8), "02000002": ("02", 40.2, -76.3, 250.0, 2.5e8)}
DAYMET_COLUMNS = "Year Mnth Day Hr dayl(s) prcp(mm/day) srad(W/m2) swe(mm) tmax(C) tmin(C) vp(Pa)"


def forcing_text(lat, elev, area, dates, rng) -> str:
    lines = [f"  {lat:.2f}", f" {elev:.2f}", f" {area:.0f}", DAYMET_COLUMNS]
    for date in dates:
        values = [36000.0, rng.gamma(0.5, 6.0), 200.0, 0.0, 10.0 + rng.normal(), rng.normal(), 800.0]
        lines.append(f"{date.year} {date.month:02d} {date.day:02d} 12\t" + "\t".join(f"{v:.2f}" for v in values))
    return "\n".join(lines) + "\n"


def streamflow_text(basin, dates, rng) -> str:
    rows = []
    for i, date in enumerate(dates):
        q, flag = (f"{rng.gamma(2.0, 50.0):.2f}", "A") if i % 97 else ("-999.00", "M")
        rows.append(f"{basin} {date.year} {date.month:02d} {date.day:02d} {q:>8} {flag}")
    return "\n".join(rows) + "\n"


def attribute_tables(basins) -> dict[str, pd.DataFrame]:
    ids = list(basins)
    tables = {name: pd.DataFrame({"gauge_id": ids}) for name in ATTRIBUTE_TABLES}
    tables["name"]["huc_02"] = [int(basins[b][0]) for b in ids]  # written without padding, as in CAMELS
    tables["name"]["gauge_name"] = [f"Test River near Town {i}" for i in range(len(ids))]
    tables["topo"]["gauge_lat"] = [basins[b][1] for b in ids]
    tables["topo"]["gauge_lon"] = [basins[b][2] for b in ids]
    tables["topo"]["elev_mean"] = [basins[b][3] for b in ids]
    tables["topo"]["area_gages2"] = [basins[b][4] / 1e6 for b in ids]
    tables["clim"]["p_mean"] = [3.1, 2.7]
    tables["geol"]["geol_1st_class"] = ["Siliciclastic sedimentary rocks", "Metamorphics"]
    tables["hydro"]["baseflow_index"] = [0.5, 0.6]
    tables["soil"]["soil_porosity"] = [0.4, 0.45]
    tables["vege"]["frac_forest"] = [0.9, 0.3]
    return tables


def write_camels_tree(root: Path, start="2000-01-01", end="2002-12-31", seed=0) -> Path:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    series = root / "basin_dataset_public_v1p2"
    for basin, (huc, lat, _lon, elev, area) in BASINS.items():
        forcing = series / "basin_mean_forcing" / "daymet" / huc / f"{basin}_lump_cida_forcing_leap.txt"
        forcing.parent.mkdir(parents=True, exist_ok=True)
        forcing.write_text(forcing_text(lat, elev, area, dates, rng))
        flow = series / "usgs_streamflow" / huc / f"{basin}_streamflow_qc.txt"
        flow.parent.mkdir(parents=True, exist_ok=True)
        flow.write_text(streamflow_text(basin, dates, rng))
    attributes = root / "camels_attributes_v2.0"
    attributes.mkdir(parents=True)
    for name, table in attribute_tables(BASINS).items():
        table.to_csv(attributes / f"camels_{name}.txt", sep=";", index=False)
    (root / "basins.txt").write_text("\n".join(BASINS) + "\n")
    return root
