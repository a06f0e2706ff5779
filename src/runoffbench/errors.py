"""Exceptions raised on bad input.

Every message names what is wrong and where (file, basin, config key), so a user can fix the input
without reading a traceback.
"""


class RunoffbenchError(Exception):
    """Base class of the errors this package raises on bad input."""


class DataError(RunoffbenchError, ValueError):
    """A data file is missing, malformed or inconsistent (names the file and basin)."""


class ConfigError(RunoffbenchError, ValueError):
    """A configuration key is unknown, missing or has an invalid value (names the key)."""


class DownloadError(RunoffbenchError, OSError):
    """A download failed: HTTP error, truncated transfer, corrupt archive or checksum mismatch."""
