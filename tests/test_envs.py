"""envs/*.yaml (conda, one per rule group) must stay consistent with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
#: conda-forge names of PyPI packages whose names differ
CONDA_NAMES = {"torch": "pytorch", "netcdf4": "netcdf4"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement.strip()).groups()
    name = name.lower()
    return CONDA_NAMES.get(name, name), spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return dict(_split(r) for r in project["dependencies"])


def _env(path: Path) -> tuple[dict[str, str], list]:
    env = yaml.safe_load(path.read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next((d["pip"] for d in env["dependencies"] if isinstance(d, dict)), [])
    return dict(_split(d) for d in conda if not d.startswith(("python", "pip"))), pip


def test_every_env_matches_pyproject():
    expected = _pyproject()
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert {p.stem for p in envs} >= {"analysis", "calib", "dl"}
    covered = set()
    for path in envs:
        packages, pip = _env(path)
        for name, spec in packages.items():
            assert name in expected, f"{path.name}: {name} is not a dependency in pyproject.toml"
            assert spec == expected[name], f"{path.name}: {name}{spec} but pyproject.toml says {name}{expected[name]}"
        assert "-e .." in pip, f"{path.name} must install runoffbench itself"
        covered |= set(packages)
    assert covered == set(expected), f"not in any env: {sorted(set(expected) - covered)}"


def test_requires_python_matches():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for path in (REPO / "envs").glob("*.yaml"):
        assert f"python{project['requires-python']}" in yaml.safe_load(path.read_text())["dependencies"]
