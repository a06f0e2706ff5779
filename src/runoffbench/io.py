"""Small file-system helpers shared by every stage: atomic writes without stale temporaries.

A write goes to a hidden temporary beside its output, ``.<name>.<pid>.<host>.<token>.tmp`` (the
writer's process id and host name make it recognisable), and is renamed onto the output when it is
complete. A process killed during a write (SIGKILL, a cluster's time limit, a power cut) leaves its
temporary behind; the next write of the same output removes it: every temporary of that output
whose process no longer runs on this host, those of other hosts after :data:`STALE_AFTER` seconds,
and the random-named ones of earlier versions (``.<name>.<8 characters>.tmp``) after the same time.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

#: a temporary of another host (whose processes cannot be checked), or of an earlier version without a
#: process id, counts as stale once it is this old [s]
STALE_AFTER = 24 * 3600

_LEGACY = re.compile(r"^[a-z0-9_]{8}$")  # tempfile.mkstemp's random part


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname().split(".")[0]) or "host"


def temporary_path(path: str | Path, *, pid: int | None = None, kind: str = "tmp") -> Path:
    """The hidden temporary name of a write of ``path`` by process ``pid`` (default: this one).

    ``kind`` is the suffix: ``tmp`` for files, ``staging`` for the staging folders of archive
    extraction.
    """
    path = Path(path)
    return path.with_name(
        f".{path.name}.{os.getpid() if pid is None else pid}.{_host()}.{secrets.token_hex(4)}.{kind}"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _is_stale(temporary: Path, name: str, kind: str, now: float) -> bool:
    middle = temporary.name[len(name) + 2: -len(kind) - 1]  # between ".<name>." and ".<kind>"
    parts = middle.split(".")
    try:
        age = now - temporary.lstat().st_mtime
    except FileNotFoundError:
        return False
    if len(parts) == 3 and parts[0].isdigit():
        pid, host = int(parts[0]), parts[1]
        if host == _host():
            return pid != os.getpid() and not _alive(pid)
        return age > STALE_AFTER
    return bool(_LEGACY.match(middle)) and age > STALE_AFTER


def remove_stale_temporaries(path: str | Path, kind: str = "tmp") -> list[Path]:
    """Delete the temporaries of ``path`` that killed writers left behind; return them.

    Temporaries of processes still running (another thread of this process included) are kept.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    now = time.time()
    removed = []
    for temporary in path.parent.glob(f".{glob_escape(path.name)}.*.{kind}"):
        if not _is_stale(temporary, path.name, kind, now):
            continue
        if temporary.is_dir() and not temporary.is_symlink():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        removed.append(temporary)
    if removed:
        log.info("removed %d stale temporary file(s) of %s left by an interrupted write", len(removed), path)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    Readers (and Snakemake) never see a half-written file, and a failure leaves nothing behind;
    stale temporaries of earlier, killed writes of ``path`` are removed first. The final file gets
    the usual permissions (0666 minus the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = temporary_path(path)
    temporary.touch(mode=0o600, exist_ok=False)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_output(path) as temporary:
        temporary.write_text(text)
    return Path(path)


def load_netcdf(path: str | Path, what: str, how_to_make: str):
    """The NetCDF4 file ``path`` loaded into memory (and closed); a :class:`DataError` naming ``what``
    and ``how_to_make`` it when the file does not exist."""
    import xarray as xr

    from runoffbench.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; {how_to_make}")
    with xr.open_dataset(path, engine="netcdf4") as dataset:
        return dataset.load()
