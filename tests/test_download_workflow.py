"""download_camels end to end through Snakemake: archives in the real NCAR/HydroShare layout (built
from the synthetic generator's files) served on 127.0.0.1, then caches, table and figures."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
import xarray as xr
import yaml

from runoffbench.data.synthetic.generator import (
    SyntheticConfig,
    generate_dataset,
    write_dataset,
)
from tests.test_workflow import copy_workflow, snakemake

pytestmark = pytest.mark.slow
SERIES = "basin_dataset_public_v1p2"


def _zip(root: Path, folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((root / folder).rglob("*.txt")):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def _extended_tar(root: Path, product: str) -> bytes:
    """The HydroShare archive holds ``<product>/<huc>/<id>_lump_*_forcing_leap.txt``."""
    buffer = io.BytesIO()
    source = root / SERIES / "basin_mean_forcing" / product
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(source.rglob("*.txt")):
            archive.add(path, f"{product}/{path.relative_to(source).as_posix()}")
    return buffer.getvalue()


@pytest.fixture
def served_camels(server, tmp_path):
    generated = tmp_path / "generated"
    dataset = generate_dataset(SyntheticConfig(n_basins=6, start="1999-01-01", end="2002-12-31", seed=5))
    write_dataset(dataset, generated)
    basins = sorted(dataset.headers.index)
    server.files.update({
        "/timeseries.zip": _zip(generated, SERIES),
        "/attributes.zip": _zip(generated, "camels_attributes_v2.0"),
        "/nldas_extended.tar.gz": _extended_tar(generated, "nldas_extended"),
        "/531_basin_list.txt": "".join(f"{b}\r\n" for b in basins[:5]).encode(),  # one basin not listed
    })
    sources = {
        "timeseries": {"url": server.url("/timeseries.zip"), "sha256": None},
        "attributes": {"url": server.url("/attributes.zip"), "sha256": None},
        "nldas_extended": {"url": server.url("/nldas_extended.tar.gz"), "sha256": None},
        "basin_lists": {"531": {"url": server.url("/531_basin_list.txt"), "sha256": None}},
    }
    return sources, basins


def test_download_rule_feeds_the_whole_workflow(served_camels, tmp_path):
    sources, basins = served_camels
    workdir = copy_workflow(tmp_path / "clone")
    (workdir / "sources.yaml").write_text(yaml.safe_dump(sources))
    config = yaml.safe_load((workdir / "config" / "experiments" / "camels_us.yaml").read_text())
    config["experiment"] = "served"
    config["dataset"].update(forcings=["daymet", "nldas_extended"], download_sources="sources.yaml")
    config["figures"]["precip_bias_by_huc"]["forcing"] = "nldas_extended"
    (workdir / "served.yaml").write_text(yaml.safe_dump(config))
    targets = ["data/cache/camels_us/531/daymet.nc", "data/cache/camels_us/531/nldas_extended.nc",
               "results/served/figures/precip_bias_by_huc.pdf"]
    result = snakemake(workdir, *targets, "--configfile", "served.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    root = workdir / "data" / "raw" / "camels_us"
    assert (root / "download_manifest.json").is_file()
    assert (root / "basin_lists" / "531_basin_list.txt").read_text().split() == basins[:5]
    assert not list(root.rglob(f"{basins[5]}_*")), "a basin outside the list was extracted"
    with xr.open_dataset(workdir / "data" / "cache" / "camels_us" / "531" / "nldas_extended.nc") as cache:
        assert list(cache["basin"].values) == basins[:5]
        assert cache.sizes["date"] == 4 * 365 + 1
    assert (workdir / "results" / "served" / "figures" / "precip_bias_by_huc.png").stat().st_size > 10_000


def test_download_rule_extracts_only_the_configured_basins(served_camels, tmp_path):
    """dataset.basins selects what download_camels extracts and caches (not every basin of the
    archive); the caches are then up to date, and editing a downloaded raw file rebuilds them."""
    sources, basins = served_camels
    workdir = copy_workflow(tmp_path / "clone")
    (workdir / "sources.yaml").write_text(yaml.safe_dump(sources))
    (workdir / "mine.txt").write_text("".join(f"{b}\n" for b in basins[1:4]))
    config = yaml.safe_load((workdir / "config" / "experiments" / "camels_us.yaml").read_text())
    config["experiment"] = "mine"
    config["dataset"].update(forcings=["daymet"], basins="mine.txt", basin_list=None,
                             download_sources="sources.yaml")
    (workdir / "mine.yaml").write_text(yaml.safe_dump(config))
    targets = ["data/cache/camels_us/mine/daymet.nc", "data/cache/camels_us/mine/attributes.nc"]
    result = snakemake(workdir, *targets, "--configfile", "mine.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    root = workdir / "data" / "raw" / "camels_us"
    extracted = sorted({p.name[:8] for p in (root / SERIES).rglob("*.txt")})
    assert extracted == basins[1:4], "basins outside dataset.basins were extracted"
    with xr.open_dataset(workdir / "data" / "cache" / "camels_us" / "mine" / "daymet.nc") as cache:
        assert list(cache["basin"].values) == basins[1:4]

    again = snakemake(workdir, "-n", *targets, "--configfile", "mine.yaml")
    assert "Nothing to be done" in again.stdout + again.stderr, (again.stdout + again.stderr)[-3000:]
    flow = next((root / SERIES / "usgs_streamflow").rglob(f"{basins[2]}_streamflow_qc.txt"))
    flow.write_text(flow.read_text() + "\n")  # an edit that changes nothing it means
    planned = snakemake(workdir, "-n", *targets, "--configfile", "mine.yaml")
    output = planned.stdout + planned.stderr
    assert planned.returncode == 0 and "build_cache" in output and "download_camels" not in output
