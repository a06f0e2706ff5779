"""The 18 USGS water-resources regions (HUC-02) of the conterminous United States.

CAMELS-US gives every basin a two-character ``huc_02`` code; tables and figures group basins by it
and name the groups with :func:`region_label` ("01 New England").
"""

from __future__ import annotations

import pandas as pd

from runoffbench.errors import DataError

#: HUC-02 code -> water-resources region name (USGS), conterminous United States only
REGIONS: dict[str, str] = {
    "01": "New England",
    "02": "Mid-Atlantic",
    "03": "South Atlantic-Gulf",
    "04": "Great Lakes",
    "05": "Ohio",
    "06": "Tennessee",
    "07": "Upper Mississippi",
    "08": "Lower Mississippi",
    "09": "Souris-Red-Rainy",
    "10": "Missouri",
    "11": "Arkansas-White-Red",
    "12": "Texas-Gulf",
    "13": "Rio Grande",
    "14": "Upper Colorado",
    "15": "Lower Colorado",
    "16": "Great Basin",
    "17": "Pacific Northwest",
    "18": "California",
}


def normalise_code(code: str | int) -> str:
    """Return the two-character HUC-02 code of ``code`` ("1", 1 and "01" all give "01").

    Raises DataError if ``code`` is not one of the 18 CONUS regions.
    """
    text = str(code).strip()
    normalised = text.zfill(2) if text.isdigit() else text
    if normalised not in REGIONS:
        raise DataError(
            f"huc_02 {code!r} is not a CONUS water-resources region (expected 01 to 18)"
        )
    return normalised


def region_name(code: str | int) -> str:
    """Name of the water-resources region ``code``, e.g. ``region_name("01") == "New England"``."""
    return REGIONS[normalise_code(code)]


def region_label(code: str | int) -> str:
    """Code and name as figures show them, e.g. ``"01 New England"``."""
    normalised = normalise_code(code)
    return f"{normalised} {REGIONS[normalised]}"


def drop_small_regions(
    table: pd.DataFrame, min_basins: int, column: str = "huc_02"
) -> tuple[pd.DataFrame, list[str]]:
    """Drop the rows of regions holding fewer than ``min_basins`` distinct basins.

    Basins are counted by the ``basin`` column when the table has one (so a table with one row per
    basin and forcing counts each basin once), otherwise by rows. Returns the kept rows and the
    sorted codes of the dropped regions.
    """
    if column not in table.columns:
        raise DataError(f"table has no {column!r} column to group basins by region")
    groups = table.groupby(column)
    counts = groups["basin"].nunique() if "basin" in table.columns else groups.size()
    dropped = sorted(str(code) for code in counts.index[counts < min_basins])
    kept = table[~table[column].astype(str).isin(dropped)]
    return kept, dropped
