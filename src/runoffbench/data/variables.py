"""Canonical variable names, units and long names shared by readers, generator and cache.

CAMELS-US products spell the same quantity differently (`prcp(mm/day)` in Daymet, `PRCP(mm/day)` in
the v1p2 Maurer/NLDAS files); every reader maps them onto the lower-case names below, which are the
variable names of the forcing cache (docs/architecture.md, contract 1).
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


#: physically possible range per canonical variable, checked when a forcing file is read (bounds
#: inclusive). The upper bounds are loose (world records, the solar constant, saturation vapour
#: pressure at 45 degC, 24 h) so that they catch unit errors and corrupt values, never real weather.
VALID_RANGES: dict[str, tuple[float, float]] = {
    "prcp": (0.0, 2000.0),
    "tmax": (-90.0, 60.0),
    "tmin": (-90.0, 60.0),
    "srad": (0.0, 1400.0),
    "vp": (0.0, 10000.0),
    "dayl": (0.0, 86400.0),
    "swe": (0.0, 20000.0),
    "pet": (0.0, 100.0),
}

#: values at or below this are missing-value sentinels (-999, -9999 in CAMELS-style files); a
#: forcing file must have none (CAMELS-US forcing files have none), streamflow files mark missing
#: days with -999 (flag M)
MISSING_SENTINEL = -999.0

#: Tmin may exceed Tmax by this much [degC]: both are written with two decimals, so values of equal
#: days (the v1p2 Maurer/NLDAS daily means) or of a tiny diurnal range can differ by one rounding step
TEMPERATURE_ROUNDING = 0.01
