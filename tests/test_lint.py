"""The lint gate (issue 12, item 9): ruff with the project's configuration (pyproject.toml) and
`snakemake --lint` (tests/test_workflow.py) are clean on the whole tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_is_clean_on_the_whole_tree():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "src", "tests",
                             "benchmarks", "scripts"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
