"""Shared fixtures: the real CAMELS-US sample in ../shared (skipped when absent) and a tiny
hand-written CAMELS tree for error-path tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.camels_tree import write_camels_tree

pytest_plugins = ["tests.http_server"]  # the local HTTP server fixture of the download tests

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE = SHARED / "data" / "camels_us_sample"
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def camels_sample() -> Path:
    """Root of the real CAMELS-US sample files (one basin, all attributes)."""
    if not SAMPLE.is_dir():
        pytest.skip(f"real CAMELS-US sample not available at {SAMPLE}")
    return SAMPLE


@pytest.fixture
def camels_tree(tmp_path) -> Path:
    """A small CAMELS-US tree in the real layout: basins 01000001 and 02000002, daymet, 2000-2002."""
    return write_camels_tree(tmp_path / "camels")


@pytest.fixture(scope="module")
def torch_one_thread():
    """Tiny models run fastest on one thread (and the test machine's cores are shared)."""
    import torch  # here, not at the top: most test modules never need it

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """The default workflow run once (README's command) in a clean copy; shared by the end-to-end tests."""
    from tests.test_workflow import copy_workflow, run_to_completion

    return run_to_completion(copy_workflow(tmp_path_factory.mktemp("default")))
