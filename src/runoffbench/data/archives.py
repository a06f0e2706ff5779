"""Safe, all-or-nothing extraction of selected members from zip and tar archives, and the
selection of the CAMELS-US members a configuration needs.

Members are written into a staging directory beside the destination
(``.<root>.<pid>.<host>.<token>.staging``; one left by a killed extraction is removed by the next
extraction into the same root) and moved into place only after every selected member was read in
full, so a corrupt or truncated archive (zip CRC error, broken compressed stream, missing central
directory) raises :class:`DownloadError` and leaves nothing behind. Member names that are absolute
or climb out of the destination (``..``) are refused.
"""

from __future__ import annotations

import fnmatch
import lzma
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from runoffbench.data.camels_us import (
    ATTRIBUTE_TABLES,
    ATTRIBUTES_DIR,
    FORCING_PRODUCTS,
    TIMESERIES_DIR,
    check_basin_id,
)
from runoffbench.errors import ConfigError, DownloadError
from runoffbench.io import remove_stale_temporaries, temporary_path

Selector = Callable[[str], bool] | Iterable[str]
Renamer = Callable[[str], str]

EXTENDED_FORCINGS = ("maurer_extended", "nldas_extended")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2")
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
)
_FORCING_FILE = re.compile(r"^(\d{8})_lump_[a-z0-9]+_forcing_leap\.txt$")
_STREAMFLOW_FILE = re.compile(r"^(\d{8})_streamflow_qc\.txt$")
_ATTRIBUTE_FILE = re.compile(rf"^camels_({'|'.join(ATTRIBUTE_TABLES)})\.txt$")


def extract_members(
    archive: Path,
    dest_root: Path,
    select: Selector,
    *,
    rename: Renamer | None = None,
) -> list[Path]:
    """Extract the members of ``archive`` chosen by ``select`` into ``dest_root``.

    ``select`` is a predicate on the member name (POSIX path inside the archive) or an iterable of
    glob patterns (``fnmatch``) of which one must match. ``rename`` maps a selected member name to
    its path relative to ``dest_root`` (default: unchanged). Returns the extracted files, sorted.
    Only regular files are extracted; directories, links and devices are skipped.
    """
    archive, dest_root = Path(archive), Path(dest_root)
    if not archive.is_file():
        raise DownloadError(f"archive {archive} does not exist")
    wanted = _as_predicate(select)
    target = rename or (lambda name: name)
    dest_root.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(dest_root, kind="staging")  # left by a killed extraction
    staging = temporary_path(dest_root, kind="staging")
    staging.mkdir()
    try:
        relative = _extract_to(archive, staging, wanted, target)
        return _move_into_place(staging, dest_root, relative)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def safe_relative_path(name: str, archive: Path) -> PurePosixPath:
    """Return ``name`` as a relative POSIX path, refusing absolute names and ``..`` components."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise DownloadError(
            f"{archive}: member {name!r} points outside the destination (absolute path or '..'); "
            "refusing to extract it"
        )
    if not path.parts:
        raise DownloadError(f"{archive}: member {name!r} has an empty path")
    return path


def archive_kind(archive: Path) -> str:
    """Return ``'zip'`` or ``'tar'`` from the file name, falling back to the file's content."""
    name = archive.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    if zipfile.is_zipfile(archive):
        return "zip"
    if tarfile.is_tarfile(archive):
        return "tar"
    raise DownloadError(f"{archive} is neither a zip nor a tar archive (or it is corrupt)")


def check_archive(archive: Path) -> None:
    """Raise :class:`DownloadError` unless ``archive`` is a complete zip or tar archive.

    A zip must have its central directory (which sits at the end, so a truncated file has none);
    a tar stream (gzip, xz, bzip2 or plain) is read to its end. Member contents are checked (CRC)
    when they are extracted.
    """
    archive = Path(archive)
    try:
        if archive_kind(archive) == "zip":
            with zipfile.ZipFile(archive) as zf:
                zf.infolist()
            return
        with tarfile.open(archive, "r:*") as tf:
            for member in tf:
                if member.isfile():
                    with tf.extractfile(member) as stream:
                        while stream.read(1 << 20):
                            pass
    except DownloadError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise DownloadError(f"{archive.name} is not a complete archive ({type(exc).__name__}: {exc})") from exc


def _as_predicate(select: Selector) -> Callable[[str], bool]:
    """Turn glob patterns into a predicate; pass a predicate through."""
    if callable(select):
        return select
    patterns = [select] if isinstance(select, str) else list(select)
    return lambda name: any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _extract_to(
    archive: Path, staging: Path, wanted: Callable[[str], bool], target: Renamer
) -> list[PurePosixPath]:
    """Copy the selected members of ``archive`` under ``staging``; return their relative paths."""
    written: list[PurePosixPath] = []
    try:
        for name, stream in _regular_members(archive):
            if not wanted(name):
                continue
            safe_relative_path(name, archive)
            relative = safe_relative_path(target(name), archive)
            _copy_stream(stream, staging / relative)
            written.append(relative)
    except DownloadError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise DownloadError(
            f"{archive} is corrupt or truncated ({type(exc).__name__}: {exc}); delete it and "
            "download it again"
        ) from exc
    return written


def _regular_members(archive: Path) -> Iterator[tuple[str, Callable[[], IO[bytes]]]]:
    """Yield ``(name, open)`` for every regular file of a zip or tar archive, in archive order."""
    if archive_kind(archive) == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, lambda info=info: zf.open(info)
        return
    with tarfile.open(archive, "r:*") as tf:
        for member in tf:
            if member.isfile():
                yield member.name, lambda member=member: tf.extractfile(member)


def _copy_stream(open_member: Callable[[], IO[bytes]], path: Path) -> None:
    """Write one member to ``path``; reading a zip member to its end checks its CRC."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_member() as source, open(path, "wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)


def _move_into_place(
    staging: Path, dest_root: Path, relative: list[PurePosixPath]
) -> list[Path]:
    """Move the staged files to ``dest_root`` (same file system, so each move is atomic)."""
    finals = []
    for rel in sorted(set(relative)):
        final = dest_root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, final)
        finals.append(final)
    return finals


# --------------------------------------------------------------------------- CAMELS members


def check_forcings(forcings: Iterable[str]) -> list[str]:
    """Return the configured forcing names, raising :class:`ConfigError` on an unknown one."""
    forcings = list(forcings)
    unknown = [f for f in forcings if f not in FORCING_PRODUCTS]
    if unknown or not forcings:
        raise ConfigError(
            f"dataset.forcings: {', '.join(map(repr, unknown)) or 'no forcing given'}; valid "
            f"CAMELS-US forcings are {', '.join(FORCING_PRODUCTS)}"
        )
    return forcings


def camels_members(forcings: Iterable[str], basins: Iterable[str] | None) -> Callable[[str], bool]:
    """Predicate selecting the archive members a configuration needs.

    Selected: ``basin_mean_forcing/<forcing>/**/<basin>_lump_*_forcing_leap.txt`` (or
    ``<forcing>/**/...`` in the extended-forcing archives) for each configured forcing,
    ``usgs_streamflow/**/<basin>_streamflow_qc.txt`` and the attribute tables
    ``camels_{clim,geol,hydro,name,soil,topo,vege}.txt``; every basin when ``basins`` is None.
    """
    wanted = frozenset(check_forcings(forcings)) | {"streamflow", "attributes"}
    ids = None if basins is None else frozenset(check_basin_id(b) for b in basins)

    def select(name: str) -> bool:
        found = classify_member(name)
        return found is not None and found[0] in wanted and (
            ids is None or found[1] is None or found[1] in ids
        )

    return select


def camels_layout_path(name: str) -> str:
    """Map a selected member to its path in the original CAMELS layout (relative to the root)."""
    found = classify_member(name)
    if found is None:
        raise DownloadError(f"archive member {name!r} is not a CAMELS-US forcing, flow or table")
    parts = PurePosixPath(name).parts
    category = found[0]
    if category == "attributes":
        return f"{ATTRIBUTES_DIR}/{parts[-1]}"
    if category == "streamflow":
        return "/".join((TIMESERIES_DIR, *parts[parts.index("usgs_streamflow"):]))
    return "/".join((TIMESERIES_DIR, "basin_mean_forcing", *parts[parts.index(category):]))


def classify_member(name: str) -> tuple[str, str | None] | None:
    """``(forcing name | 'streamflow' | 'attributes', basin id or None)``, or None for others."""
    parts = PurePosixPath(name).parts
    if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
        return None
    base, folders = parts[-1], parts[:-1]
    if match := _FORCING_FILE.match(base):
        product = _forcing_folder(folders)
        return (product, match[1]) if product else None
    if (match := _STREAMFLOW_FILE.match(base)) and "usgs_streamflow" in folders:
        return "streamflow", match[1]
    if _ATTRIBUTE_FILE.match(base):
        return "attributes", None
    return None


def _forcing_folder(folders: tuple[str, ...]) -> str | None:
    """The product folder: the one below ``basin_mean_forcing``, or an extended product's folder."""
    if "basin_mean_forcing" in folders:
        below = folders[folders.index("basin_mean_forcing") + 1:]
        return below[0] if below else None
    return next((f for f in folders if f in EXTENDED_FORCINGS), None)
