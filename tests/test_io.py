"""Atomic writes: nothing half-written, and no hidden temporary left behind after a kill (the next
write of the same output removes the stale temporaries a dead process left)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runoffbench.io import atomic_output, temporary_path, write_text_atomic

KILLED_WRITER = """
import os, signal, sys
from runoffbench.io import atomic_output
with atomic_output(sys.argv[1]) as temporary:
    temporary.write_text("half a file")
    print(temporary, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # killed during the write: no cleanup code runs
"""


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_failure_inside_the_block_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("partial")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_temporary_name_is_recognisable(tmp_path):
    target = tmp_path / "daymet.nc"
    with atomic_output(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.name.startswith(".daymet.nc.") and temporary.name.endswith(".tmp")
        assert f".{os.getpid()}." in temporary.name  # the writer's process id
        temporary.write_text("x")
    assert target.read_text() == "x" and _hidden(tmp_path) == []


def test_temporary_left_by_a_killed_process_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "table.csv"
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == -9
    left = Path(result.stdout.strip())
    assert left.exists() and not target.exists()  # what a kill during a write leaves behind
    write_text_atomic(target, "complete\n")
    assert target.read_text() == "complete\n"
    assert _hidden(tmp_path) == [], "the stale temporary of the killed writer was not removed"


def test_stale_temporaries_are_removed_but_live_ones_and_other_outputs_kept(tmp_path):
    target = tmp_path / "metrics.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    stale = temporary_path(target, pid=int(dead.stdout))  # a process that has exited
    legacy = tmp_path / ".metrics.csv.k3j_9x2a.tmp"  # mkstemp's name of earlier versions
    live = temporary_path(target)  # this process: maybe another thread writing right now
    other_output = temporary_path(tmp_path / "other.csv", pid=int(dead.stdout))
    for path in (stale, legacy, live, other_output):
        path.write_text("x")
    old = time.time() - 2 * 86400
    os.utime(legacy, (old, old))
    write_text_atomic(target, "done\n")
    assert not stale.exists() and not legacy.exists()
    assert live.exists() and other_output.exists()
