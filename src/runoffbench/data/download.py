"""Fetch the real CAMELS-US archives and extract what a configuration needs.

:func:`fetch_camels` is what the ``download_camels`` rule (and ``runoffbench download``) runs: it
downloads the NCAR time-series and attribute archives, the HydroShare extended forcings when
configured and a published basin list with :func:`runoffbench.data.http_download.download_file`
(resumable, verified by the pinned sha256/md5 of ``config/download_sources.yaml`` or, where none is
pinned, by the archive's integrity check before it is kept), extracts only the members of the
configured forcings and basins into the original CAMELS layout, and writes
``<root>/download_manifest.json`` last (with the sha256 of every archive and extracted file, to pin
or compare).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from runoffbench.data.archives import (
    EXTENDED_FORCINGS,
    TAR_SUFFIXES,
    camels_layout_path,
    camels_members,
    check_archive,
    check_forcings,
    classify_member,
    extract_members,
)
from runoffbench.data.camels_us import (
    ATTRIBUTE_TABLES,
    ATTRIBUTES_DIR,
    check_basin_id,
    read_attributes,
    read_basin_list,
)
from runoffbench.data.http_download import (  # noqa: F401  (re-exported: the former home)
    USER_AGENT,
    download_file,
    file_sha256,
    partial_path,
)
from runoffbench.errors import ConfigError, DataError
from runoffbench.io import write_text_atomic

log = logging.getLogger(__name__)

MANIFEST_NAME = "download_manifest.json"
#: ``basin_list`` value that selects every basin of the attribute tables
ALL_BASINS = "all"
_DIGITS = {"sha256": re.compile(r"^[0-9a-fA-F]{64}$"), "md5": re.compile(r"^[0-9a-fA-F]{32}$")}


# --------------------------------------------------------------------------- orchestration


def fetch_camels(
    sources: Mapping,
    root: Path,
    forcings: list[str],
    basins: list[str] | None = None,
    basin_list: str | None = None,
    downloads_dir: Path | None = None,
    *,
    progress: bool = True,
) -> Path:
    """Download and extract what a configuration needs of CAMELS-US; return the manifest path.

    ``sources`` is the mapping of a sources file (``config/download_sources.yaml``, named by the
    workflow config's ``dataset.download_sources``). ``basins`` (the config's ``dataset.basins``)
    selects the basins to extract; without it the basin list does.
    The archives go to ``downloads_dir`` (default ``<root>/../downloads``) and are kept, so a re-run
    transfers nothing. The needed members land under ``root`` in the original layout
    (``basin_dataset_public_v1p2/...``, ``camels_attributes_v2.0/...``); a published basin list
    (``basin_list="531"``) is written to ``<root>/basin_lists/531_basin_list.txt`` and, unless
    ``basins`` is given, selects the basins; ``basin_list="all"`` takes every basin of the attribute
    tables (671) and writes their list likewise. ``<root>/download_manifest.json`` is written last.
    """
    root = Path(root)
    downloads_dir = Path(downloads_dir) if downloads_dir else root.parent / "downloads"
    forcings = check_forcings(forcings)
    archive_keys = ["timeseries", "attributes", *(f for f in forcings if f in EXTENDED_FORCINGS)]
    entries = {key: source_entry(sources, key) for key in archive_keys}
    if basin_list not in (None, ALL_BASINS):
        entries["basin_list"] = basin_list_entry(sources, basin_list)
    if basins is not None:
        basins = [check_basin_id(b, "configured basins") for b in basins]
    files = {key: _download(entry, downloads_dir, progress) for key, entry in entries.items()}
    if basin_list not in (None, ALL_BASINS):
        listed, list_path = install_basin_list(files["basin_list"], root, basin_list)
        basins = basins if basins is not None else listed
    select = camels_members(forcings, basins)
    extracted = [
        path
        for key in archive_keys
        for path in extract_members(files[key], root, select, rename=camels_layout_path)
    ]
    check_complete(root, extracted, forcings, basins)
    if basin_list == ALL_BASINS:
        list_path = write_text_atomic(
            root / "basin_lists" / f"{ALL_BASINS}_basin_list.txt",
            "".join(f"{basin}\n" for basin in read_attributes(root).index),
        )
    if basin_list is not None:
        extracted.append(list_path)
    return write_manifest(root, entries, files, extracted, forcings, basins)


def source_entry(sources: Mapping, key: str) -> dict:
    """The ``{url, sha256}`` entry ``key`` of the sources section, validated."""
    entry = sources.get(key) if isinstance(sources, Mapping) else None
    return _checked_entry(entry, f"download sources: {key}")


def basin_list_entry(sources: Mapping, name: str) -> dict:
    """The ``{url, sha256}`` entry of the published basin list ``name`` (e.g. ``'531'``)."""
    lists = sources.get("basin_lists") if isinstance(sources, Mapping) else None
    lists = {str(k): v for k, v in (lists or {}).items()}
    if str(name) not in lists:
        raise ConfigError(
            f"download sources: basin_lists has no list {str(name)!r}; configured lists: "
            f"{', '.join(lists) or 'none'}"
        )
    return _checked_entry(lists[str(name)], f"download sources: basin_lists.{name}")


def _checked_entry(entry, where: str) -> dict:
    """Validate one ``{url, sha256, md5}`` entry (sums optional); ``where`` names it in messages."""
    if not isinstance(entry, Mapping) or not entry.get("url"):
        raise ConfigError(f"{where}.url is missing (expected a mapping with url and sha256)")
    checked = {"url": str(entry["url"])}
    for algorithm, digits in _DIGITS.items():
        value = entry.get(algorithm)
        if value is not None and not digits.match(str(value)):
            length = 64 if algorithm == "sha256" else 32
            raise ConfigError(f"{where}.{algorithm} must be {length} hex digits or null, got {value!r}")
        checked[algorithm] = str(value).lower() if value else None
    return checked


def _download(entry: dict, downloads_dir: Path, progress: bool) -> Path:
    """Download one source into ``downloads_dir`` under the file name of its URL; an archive
    without a pinned sum must pass its integrity check before it is kept."""
    name = unquote(PurePosixPath(urlparse(entry["url"]).path).name)
    if not name:
        raise ConfigError(f"{entry['url']}: the URL names no file")
    is_archive = name.lower().endswith((".zip", *TAR_SUFFIXES))
    return download_file(
        entry["url"], downloads_dir / name, entry["sha256"], md5=entry.get("md5"),
        verify=check_archive if is_archive else None, progress=progress,
    )


def install_basin_list(downloaded: Path, root: Path, name: str) -> tuple[list[str], Path]:
    """Validate a downloaded basin list and write it to ``<root>/basin_lists/``."""
    basins = read_basin_list(downloaded)
    target = root / "basin_lists" / f"{name}_basin_list.txt"
    write_text_atomic(target, "".join(f"{b}\n" for b in basins))
    return basins, target


def check_complete(
    root: Path, extracted: list[Path], forcings: list[str], basins: list[str] | None
) -> None:
    """Raise :class:`DataError` when a needed forcing, streamflow or attribute file is missing."""
    found = {classify_member(p.relative_to(root).as_posix()) for p in extracted}
    kinds = {kind for kind, _ in found}
    missing = []
    for kind in (*forcings, "streamflow"):
        if basins is None:
            missing += [f"{kind} (no basin at all)"] if kind not in kinds else []
        else:
            missing += [f"{kind} {basin}" for basin in basins if (kind, basin) not in found]
    tables = {p.name for p in extracted if p.parent.name == ATTRIBUTES_DIR}
    missing += [f"attribute table camels_{t}.txt" for t in ATTRIBUTE_TABLES
                if f"camels_{t}.txt" not in tables]
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise DataError(f"the CAMELS-US archives extracted to {root} lack: "
                        f"{', '.join(missing[:10])}{more}")


def write_manifest(
    root: Path,
    entries: dict,
    files: dict[str, Path],
    extracted: list[Path],
    forcings: list[str],
    basins: list[str] | None,
) -> Path:
    """Write ``<root>/download_manifest.json`` (sources, archive and file sums) atomically."""
    manifest = {
        "dataset": "camels_us",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "forcings": forcings,
        "basins": basins,
        "sources": {
            key: {
                "url": entry["url"],
                "file": files[key].name,
                "sha256": file_sha256(files[key]),
                "sha256_configured": entry["sha256"] is not None,
                "md5_configured": entry.get("md5") is not None,
            }
            for key, entry in entries.items()
        },
        "files": {p.relative_to(root).as_posix(): file_sha256(p) for p in sorted(extracted)},
    }
    path = root / MANIFEST_NAME
    write_text_atomic(path, json.dumps(manifest, indent=1) + "\n")
    return path

