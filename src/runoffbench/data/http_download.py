"""A resumable, verified HTTP download of one file (generic: nothing here knows CAMELS).

:func:`download_file` streams a URL into ``<dest>.part``, resumes an existing ``.part`` with an HTTP
``Range`` request on the next call, and renames it to ``dest`` only once it is known to be complete:

- its sha256 and/or md5 match the pinned sums, when given (a mismatch deletes it);
- else ``verify`` (e.g. :func:`runoffbench.data.archives.check_archive`, a zip's central directory
  or a tar stream read to its end) accepts it: a server that closes the connection early without a
  ``Content-Length`` makes a short file look complete, and only such a check can tell;
- a transfer shorter than the announced length keeps the ``.part`` for the next call to resume.

A file without any of these (no sum, no check, no length) is kept with a warning.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from runoffbench.errors import DownloadError

log = logging.getLogger(__name__)

USER_AGENT = "runoffbench-download (Python urllib)"

#: a check of a downloaded file's integrity; raises :class:`DownloadError` when it is not complete
Verifier = Callable[[Path], None]


def file_digest(path: Path, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """Return the hex digest (``sha256``, ``md5``, ...) of a file."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file."""
    return file_digest(path, "sha256", chunk_size)


def partial_path(dest: Path) -> Path:
    """The ``.part`` file a download of ``dest`` streams into (and resumes from)."""
    return dest.with_suffix(dest.suffix + ".part")


def download_file(
    url: str,
    dest: Path,
    sha256: str | None = None,
    *,
    md5: str | None = None,
    verify: Verifier | None = None,
    progress: bool = True,
    timeout: float = 60,
    chunk_size: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``.

    Skips the transfer when ``dest`` exists (and matches the pinned sums when given). Streams into
    ``dest.part``; an existing ``.part`` is resumed with ``Range: bytes=N-`` (a server that answers
    200 instead of 206 is restarted from zero). A transfer shorter than the announced length raises
    :class:`DownloadError` and keeps the ``.part`` for the next call; a sha256 or md5 mismatch, or
    (when no sum is pinned) a ``verify`` failure, raises and deletes it. The final rename is atomic.
    """
    dest = Path(dest)
    expected = {name: value.lower() for name, value in (("sha256", sha256), ("md5", md5)) if value}
    if dest.exists() and _is_complete(dest, expected):
        log.info("%s already downloaded; skipping %s", dest, url)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(dest)
    total = _transfer(url, part, progress=progress, timeout=timeout, chunk_size=chunk_size)
    _verify(part, expected, verify, total, url, dest)
    os.replace(part, dest)
    return dest


def _is_complete(dest: Path, expected: dict[str, str]) -> bool:
    """Whether an existing final file can be kept; a corrupt one is deleted."""
    for algorithm, value in expected.items():
        actual = file_digest(dest, algorithm)
        if actual != value:
            log.warning("%s has %s %s, expected %s; downloading it again", dest, algorithm, actual, value)
            dest.unlink()
            return False
    return True


class _RangeNotSatisfiable(Exception):
    """HTTP 416 on a resumed request; ``total`` is the remote size from ``Content-Range``."""

    def __init__(self, total: int | None):
        super().__init__(total)
        self.total = total


def _transfer(url: str, part: Path, *, progress: bool, timeout: float, chunk_size: int) -> int | None:
    """Bring ``part`` to the full content of ``url``, resuming what is already there; return the
    size the server announced (None when it announced none)."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except _RangeNotSatisfiable as exc:
        if exc.total == offset:  # the .part already holds the whole file
            return exc.total
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
    return total


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


def _verify(
    part: Path, expected: dict[str, str], verify: Verifier | None, total: int | None, url: str, dest: Path
) -> None:
    """Delete ``part`` and raise unless it matches the pinned sums or, without sums, passes ``verify``."""
    for algorithm, value in expected.items():
        actual = file_digest(part, algorithm)
        if actual != value:
            part.unlink()
            raise DownloadError(
                f"{dest.name} (from {url}): {algorithm} mismatch: expected {value}, got {actual}; "
                "the corrupt download was deleted"
            )
    if expected:
        return
    log.info("%s: no checksum configured; downloaded file has sha256 %s", dest.name, file_sha256(part))
    if verify is not None:
        try:
            verify(part)
        except DownloadError as exc:
            part.unlink(missing_ok=True)
            length = "" if total is not None else " (the server sent no Content-Length)"
            raise DownloadError(
                f"{dest.name} (from {url}) is truncated or corrupt{length}: {exc}; the download was "
                "deleted, run again to download it anew"
            ) from exc
    elif total is None:
        log.warning(
            "%s (from %s): the server sent no Content-Length and no checksum is configured, so the "
            "download cannot be checked for completeness", dest.name, url,
        )
