"""Fetch the real CAMELS-US archives: resumable, checksummed downloads and selective extraction.

:func:`download_file` streams one URL to disk (resuming a ``.part`` file with an HTTP ``Range``
request, verifying length and sha256). :func:`fetch_camels` is what the ``download_camels`` rule
runs: it downloads the NCAR time-series and attribute archives, the HydroShare extended forcings
when configured and a published basin list, extracts only the members the configuration needs into
the original CAMELS layout, and writes ``<root>/download_manifest.json`` last.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from tqdm import tqdm

from runoffbench.data.archives import (
    EXTENDED_FORCINGS,
    camels_layout_path,
    camels_members,
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
from runoffbench.errors import ConfigError, DataError, DownloadError
from runoffbench.io import write_text_atomic

log = logging.getLogger(__name__)

MANIFEST_NAME = "download_manifest.json"
#: ``basin_list`` value that selects every basin of the attribute tables
ALL_BASINS = "all"
USER_AGENT = "runoffbench-download (Python urllib)"

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


# --------------------------------------------------------------------------- single files


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def partial_path(dest: Path) -> Path:
    """The ``.part`` file a download of ``dest`` streams into (and resumes from)."""
    return dest.with_suffix(dest.suffix + ".part")


def download_file(
    url: str,
    dest: Path,
    sha256: str | None = None,
    *,
    progress: bool = True,
    timeout: float = 60,
    chunk_size: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``.

    Skips the transfer when ``dest`` exists (and matches ``sha256`` when given). Streams into
    ``dest.part``; an existing ``.part`` is resumed with ``Range: bytes=N-`` (a server that answers
    200 instead of 206 is restarted from zero). A transfer shorter than the announced length raises
    :class:`DownloadError` and keeps the ``.part`` for the next call; a sha256 mismatch raises and
    deletes it. The final rename is atomic.
    """
    dest = Path(dest)
    expected = sha256.lower() if sha256 else None
    if dest.exists() and _is_complete(dest, expected):
        log.info("%s already downloaded; skipping %s", dest, url)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(dest)
    _transfer(url, part, progress=progress, timeout=timeout, chunk_size=chunk_size)
    _verify_checksum(part, expected, url, dest)
    os.replace(part, dest)
    return dest


def _is_complete(dest: Path, expected: str | None) -> bool:
    """Whether an existing final file can be kept; a corrupt one is deleted."""
    if expected is None:
        return True
    actual = file_sha256(dest)
    if actual == expected:
        return True
    log.warning("%s has sha256 %s, expected %s; downloading it again", dest, actual, expected)
    dest.unlink()
    return False


class _RangeNotSatisfiable(Exception):
    """HTTP 416 on a resumed request; ``total`` is the remote size from ``Content-Range``."""

    def __init__(self, total: int | None):
        super().__init__(total)
        self.total = total


def _transfer(url: str, part: Path, *, progress: bool, timeout: float, chunk_size: int) -> None:
    """Bring ``part`` to the full content of ``url``, resuming what is already there."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except _RangeNotSatisfiable as exc:
        if exc.total == offset:  # the .part already holds the whole file
            return
        log.warning("%s: %s does not fit the remote file; restarting from zero", url, part)
        part.unlink()
        offset, response = 0, _open(url, 0, timeout)
    with response:
        start, total = _response_span(response, url, offset)
        size = _stream(response, part, start, total, url, progress, chunk_size)
    if total is not None and size < total:
        raise DownloadError(
            f"{url}: transfer ended after {size} of {total} bytes; the partial file {part} is kept "
            "and the next run resumes it"
        )


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    """GET ``url`` from byte ``offset``; raise :class:`_RangeNotSatisfiable` on a 416 answer."""
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            match = re.match(r"bytes \*/(\d+)", exc.headers.get("Content-Range", ""))
            raise _RangeNotSatisfiable(int(match[1]) if match else None) from exc
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{url}: cannot download ({reason})") from exc


def _response_span(
    response: http.client.HTTPResponse, url: str, offset: int
) -> tuple[int, int | None]:
    """Return ``(first byte of the body, total size or None)`` for a 200 or 206 answer."""
    if response.status == 206:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if not match or int(match[1]) != offset:
            raise DownloadError(
                f"{url}: asked for bytes from {offset} but the server sent Content-Range "
                f"{response.headers.get('Content-Range')!r}"
            )
        return offset, None if match[2] == "*" else int(match[2])
    if offset:
        log.warning("%s: server ignored the Range request; downloading from the start", url)
    length = response.headers.get("Content-Length")
    return 0, int(length) if length else None


def _stream(
    response: http.client.HTTPResponse,
    part: Path,
    start: int,
    total: int | None,
    url: str,
    progress: bool,
    chunk_size: int,
) -> int:
    """Append (or, from byte 0, write) the body to ``part``; return the size of ``part``."""
    size = start
    with (
        open(part, "ab" if start else "wb") as sink,
        tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
             desc=part.name.removesuffix(".part"), file=sys.stderr, disable=not progress) as bar,
    ):
        while chunk := _read_chunk(response, chunk_size, url, part, size):
            sink.write(chunk)
            size += len(chunk)
            bar.update(len(chunk))
    return size


def _read_chunk(
    response: http.client.HTTPResponse, chunk_size: int, url: str, part: Path, size: int
) -> bytes:
    """Read the next chunk, turning network failures into a resumable :class:`DownloadError`."""
    try:
        return response.read(chunk_size)
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(
            f"{url}: transfer interrupted after {size} bytes ({exc}); the partial file {part} is "
            "kept and the next run resumes it"
        ) from exc


def _verify_checksum(part: Path, expected: str | None, url: str, dest: Path) -> None:
    """Delete ``part`` and raise when its sha256 differs from ``expected``."""
    actual = file_sha256(part)
    if expected is None:
        log.info("%s: no sha256 configured; downloaded file has sha256 %s", dest.name, actual)
    elif actual != expected:
        part.unlink()
        raise DownloadError(
            f"{dest.name} (from {url}): sha256 mismatch: expected {expected}, got {actual}; "
            "the corrupt download was deleted"
        )


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

    ``sources`` is the ``dataset.download`` config section (see ``config/download_sources.yaml``).
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
    return _checked_entry(entry, f"dataset.download.{key}")


def basin_list_entry(sources: Mapping, name: str) -> dict:
    """The ``{url, sha256}`` entry of the published basin list ``name`` (e.g. ``'531'``)."""
    lists = sources.get("basin_lists") if isinstance(sources, Mapping) else None
    lists = {str(k): v for k, v in (lists or {}).items()}
    if str(name) not in lists:
        raise ConfigError(
            f"dataset.download.basin_lists has no list {str(name)!r}; configured lists: "
            f"{', '.join(lists) or 'none'}"
        )
    return _checked_entry(lists[str(name)], f"dataset.download.basin_lists.{name}")


def _checked_entry(entry, where: str) -> dict:
    """Validate one ``{url, sha256}`` entry; ``where`` names it in error messages."""
    if not isinstance(entry, Mapping) or not entry.get("url"):
        raise ConfigError(f"{where}.url is missing (expected a mapping with url and sha256)")
    sha256 = entry.get("sha256")
    if sha256 is not None and not _SHA256.match(str(sha256)):
        raise ConfigError(f"{where}.sha256 must be 64 hex digits or null, got {sha256!r}")
    return {"url": str(entry["url"]), "sha256": str(sha256).lower() if sha256 else None}


def _download(entry: dict, downloads_dir: Path, progress: bool) -> Path:
    """Download one source into ``downloads_dir`` under the file name of its URL."""
    name = unquote(PurePosixPath(urlparse(entry["url"]).path).name)
    if not name:
        raise ConfigError(f"{entry['url']}: the URL names no file")
    return download_file(entry["url"], downloads_dir / name, entry["sha256"], progress=progress)


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
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "forcings": forcings,
        "basins": basins,
        "sources": {
            key: {
                "url": entry["url"],
                "file": files[key].name,
                "sha256": file_sha256(files[key]),
                "sha256_configured": entry["sha256"] is not None,
            }
            for key, entry in entries.items()
        },
        "files": {p.relative_to(root).as_posix(): file_sha256(p) for p in sorted(extracted)},
    }
    path = root / MANIFEST_NAME
    write_text_atomic(path, json.dumps(manifest, indent=1) + "\n")
    return path

