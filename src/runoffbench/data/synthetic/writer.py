"""Write a synthetic dataset in the exact file layout and formats of CAMELS-US.

Layout under ``root``::

    basin_dataset_public_v1p2/basin_mean_forcing/daymet/<huc>/<id>_lump_cida_forcing_leap.txt
    basin_dataset_public_v1p2/basin_mean_forcing/nldas_extended/<huc>/<id>_lump_nldas_forcing_leap.txt
    basin_dataset_public_v1p2/usgs_streamflow/<huc>/<id>_streamflow_qc.txt
    camels_attributes_v2.0/camels_{clim,geol,hydro,name,soil,topo,vege}.txt
    truth.nc, basins.txt

Every file is written to a temporary name and renamed, so no reader ever sees half a file.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from runoffbench.data.synthetic.attributes import TABLE_COLUMNS

FORCING_DIR = Path("basin_dataset_public_v1p2") / "basin_mean_forcing"
STREAMFLOW_DIR = Path("basin_dataset_public_v1p2") / "usgs_streamflow"
ATTRIBUTES_DIR = Path("camels_attributes_v2.0")
#: per product: (folder, file suffix, column header, separator of the date columns, padded dates,
#: fixed two decimals, trailing newline) — as in the real Daymet and HydroShare "extended" files
PRODUCT_FORMATS: dict[str, dict] = {
    "daymet": {
        "suffix": "_lump_cida_forcing_leap.txt",
        "header": "Year Mnth Day Hr dayl(s) prcp(mm/day) srad(W/m2) swe(mm) tmax(C) tmin(C) vp(Pa)",
        "date_format": "{:04d} {:02d} {:02d} 12",
        "fixed_decimals": True,
        "final_newline": False,
    },
    "nldas_extended": {
        "suffix": "_lump_nldas_forcing_leap.txt",
        "header": "\t".join(["Year", "Mnth", "Day", "Hr", "Dayl(s)", "PRCP(mm/day)", "SRAD(W/m2)", "SWE(mm)",
                             "Tmax(C)", "Tmin(C)", "Vp(Pa)"]),
        "date_format": "{:d}\t{:d}\t{:d}\t12",
        "fixed_decimals": False,
        "final_newline": True,
    },
}
#: canonical column order of the forcing files
FORCING_COLUMNS: tuple[str, ...] = ("dayl", "prcp", "srad", "swe", "tmax", "tmin", "vp")
MISSING_FLOW = -999.0


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def header_lines(lat: float, elev: float, area_m2: int) -> str:
    """The three header lines of a forcing file: latitude, elevation [m], area [m²]."""
    return f"{lat:7.2f}\n{elev:7.2f}\n{area_m2:10d}\n"


def forcing_text(frame: pd.DataFrame, lat: float, elev: float, area_m2: int, product: str) -> str:
    """Complete forcing file content for one basin in the format of ``product``."""
    spec = PRODUCT_FORMATS[product]
    dates = [spec["date_format"].format(y, m, d)
             for y, m, d in zip(frame.index.year, frame.index.month, frame.index.day)]
    values = frame.loc[:, list(FORCING_COLUMNS)].to_numpy().tolist()
    if spec["fixed_decimals"]:
        rows = ["\t".join([d, *(f"{x:.2f}" for x in v)]) for d, v in zip(dates, values)]
    else:
        rows = ["\t".join([d, *(repr(x) for x in v)]) for d, v in zip(dates, values)]
    body = "\n".join(rows) + ("\n" if spec["final_newline"] else "")
    return header_lines(lat, elev, area_m2) + spec["header"] + "\n" + body


def streamflow_text(gauge_id: str, flow: pd.Series, flags: pd.Series) -> str:
    """USGS streamflow file content: ``gauge year month day Q[cfs] flag``, -999.00 M where missing."""
    values = flow.fillna(MISSING_FLOW).to_numpy().tolist()
    idx = flow.index
    rows = [f"{gauge_id} {y:04d} {m:02d} {d:02d} {q:8.2f} {f}"
            for y, m, d, q, f in zip(idx.year, idx.month, idx.day, values, flags.to_numpy())]
    return "\n".join(rows) + "\n"


def attribute_text(attributes: pd.DataFrame, table: str) -> str:
    """One ``camels_<table>.txt``: ';'-separated, gauge_id with leading zeros, NA for missing values."""
    frame = attributes.loc[:, list(TABLE_COLUMNS[table][1:])].reset_index()
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=";", index=False, na_rep="NA", quoting=csv.QUOTE_NONE, lineterminator="\n")
    return buffer.getvalue()


def write_dataset(dataset, root: str | os.PathLike, basin_list: str | os.PathLike | None = None) -> Path:
    """Write ``dataset`` (a :class:`~runoffbench.data.synthetic.generator.SyntheticDataset`) under ``root``.

    Args:
        dataset: the generated dataset.
        root: the CAMELS root folder to write (created if needed).
        basin_list: where to write the basin id list; ``<root>/basins.txt`` by default.

    Returns:
        The root folder.
    """
    root = Path(root)
    huc = dataset.attributes["huc_02"]
    for product, frames in dataset.forcings.items():
        suffix = PRODUCT_FORMATS[product]["suffix"]
        for basin, frame in frames.items():
            head = dataset.headers.loc[basin]
            text = forcing_text(frame, head["lat"], head["elev"], int(head["area_m2"]), product)
            atomic_write_text(root / FORCING_DIR / product / huc[basin] / f"{basin}{suffix}", text)
    for basin, flow in dataset.streamflow_cfs.items():
        text = streamflow_text(basin, flow, dataset.streamflow_flags[basin])
        atomic_write_text(root / STREAMFLOW_DIR / huc[basin] / f"{basin}_streamflow_qc.txt", text)
    for table in TABLE_COLUMNS:
        atomic_write_text(root / ATTRIBUTES_DIR / f"camels_{table}.txt", attribute_text(dataset.attributes, table))
    tmp = root / ".truth.nc.tmp"
    dataset.truth.to_netcdf(tmp)
    os.replace(tmp, root / "truth.nc")
    list_path = Path(basin_list) if basin_list is not None else root / "basins.txt"
    atomic_write_text(list_path, "".join(f"{basin}\n" for basin in dataset.attributes.index))
    return root

