"""Canonical variable names, units and long names shared by readers, generator and cache.

CAMELS-US products spell the same quantity differently (`prcp(mm/day)` in Daymet, `PRCP(mm/day)` in
the v1p2 Maurer/NLDAS files); every reader maps them onto the lower-case names below, which are the
variable names of the forcing cache (DESIGN.md, contract 1).
"""

from __future__ import annotations

#: canonical name -> (units, long_name)
VARIABLES: dict[str, tuple[str, str]] = {
    "prcp": ("mm/day", "precipitation"),
    "tmax": ("degC", "daily maximum air temperature"),
    "tmin": ("degC", "daily minimum air temperature"),
    "srad": ("W/m2", "incident shortwave radiation (daylight average)"),
    "vp": ("Pa", "water vapour pressure"),
    "dayl": ("s", "day length"),
    "swe": ("mm", "snow water equivalent"),
    "pet": ("mm/day", "potential evapotranspiration"),
    "qobs": ("mm/day", "observed streamflow"),
}

#: the meteorological variables every CAMELS-US forcing product provides
FORCING_VARIABLES: tuple[str, ...] = ("dayl", "prcp", "srad", "swe", "tmax", "tmin", "vp")


def canonical_name(column: str) -> str:
    """Map a CAMELS column header such as ``PRCP(mm/day)`` or ``Vp(Pa)`` to ``prcp`` / ``vp``."""
    return column.split("(", 1)[0].strip().lower()
