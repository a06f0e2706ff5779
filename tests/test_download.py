"""Tests of the CAMELS-US downloader against a local HTTP server that supports Range requests.

The server (127.0.0.1, port 0, stopped after each test) serves small archives built here in the
real CAMELS layout and can drop a connection half-way, ignore Range headers or answer 404.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from runoffbench.cli import download as cli
from runoffbench.data.archives import (
    camels_layout_path,
    camels_members,
    extract_members,
)
from runoffbench.data.download import download_file, fetch_camels, partial_path
from runoffbench.errors import ConfigError, DownloadError

TS = "basin_dataset_public_v1p2"
BASINS = {"01022500": "01", "01031500": "01", "02064000": "02"}
TABLES = ("clim", "geol", "hydro", "name", "soil", "topo", "vege")


# --------------------------------------------------------------------------- archives


def _forcing_text(basin):
    return f"42.0\n100\n1.0e8\nYear Mnth Day Hr prcp(mm/day)\n1980 01 01 12 {basin[-3:]}\n"


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def _tar_gz(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def timeseries_members():
    """Daymet + Maurer forcings and streamflow for three basins, plus members never needed."""
    members = {}
    for basin, huc in BASINS.items():
        for folder, tag in (("daymet", "cida"), ("maurer", "maurer")):
            name = f"{TS}/basin_mean_forcing/{folder}/{huc}/{basin}_lump_{tag}_forcing_leap.txt"
            members[name] = _forcing_text(basin)
        members[f"{TS}/usgs_streamflow/{huc}/{basin}_streamflow_qc.txt"] = f"{basin} 1980 1 1 5 A\n"
        members[f"{TS}/model_output/flow_timeseries/daymet/{huc}/{basin}_05_model_output.txt"] = "x"
    members["__MACOSX/._basin_dataset_public_v1p2"] = "junk"
    return members


def attribute_members():
    members = {f"camels_attributes_v2.0/camels_{t}.txt": f"gauge_id;{t}\n" for t in TABLES}
    members["camels_attributes_v2.0/readme.txt"] = "readme"
    return members


def nldas_extended_members():
    return {f"nldas_extended/{huc}/{basin}_lump_nldas_forcing_leap.txt": _forcing_text(basin)
            for basin, huc in BASINS.items()}


@pytest.fixture
def camels_server(server):
    """The server loaded with the CAMELS archives; yields ``(state, sources)``."""
    server.files.update({
        "/ts/basin_timeseries_v1p2_metForcing_obsFlow.zip": _zip(timeseries_members()),
        "/attr/camels_attributes_v2.0.zip": _zip(attribute_members()),
        "/hs/nldas_extended.tar.gz": _tar_gz(nldas_extended_members()),
        "/lists/531_basin_list.txt": b"01022500\r\n02064000\r\n",
    })
    sha = hashlib.sha256(server.files["/attr/camels_attributes_v2.0.zip"]).hexdigest()
    sources = {
        "timeseries": {"url": server.url("/ts/basin_timeseries_v1p2_metForcing_obsFlow.zip"),
                       "sha256": None},
        "attributes": {"url": server.url("/attr/camels_attributes_v2.0.zip"), "sha256": sha},
        "maurer_extended": {"url": server.url("/hs/missing.zip"), "sha256": None},
        "nldas_extended": {"url": server.url("/hs/nldas_extended.tar.gz"), "sha256": None},
        "basin_lists": {"531": {"url": server.url("/lists/531_basin_list.txt"), "sha256": None}},
    }
    return server, sources


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- fetch_camels


def test_fetch_extracts_only_needed_members_and_writes_manifest(camels_server, tmp_path):
    state, sources = camels_server
    root = tmp_path / "camels"
    manifest_path = fetch_camels(sources, root, ["daymet", "nldas_extended"], basin_list="531",
                                 downloads_dir=tmp_path / "downloads", progress=False)

    forcing = f"{TS}/basin_mean_forcing"
    expected = sorted(
        [f"{forcing}/daymet/01/01022500_lump_cida_forcing_leap.txt",
         f"{forcing}/daymet/02/02064000_lump_cida_forcing_leap.txt",
         f"{forcing}/nldas_extended/01/01022500_lump_nldas_forcing_leap.txt",
         f"{forcing}/nldas_extended/02/02064000_lump_nldas_forcing_leap.txt",
         f"{TS}/usgs_streamflow/01/01022500_streamflow_qc.txt",
         f"{TS}/usgs_streamflow/02/02064000_streamflow_qc.txt",
         "basin_lists/531_basin_list.txt",
         "download_manifest.json"]
        + [f"camels_attributes_v2.0/camels_{t}.txt" for t in TABLES]
    )
    assert _files_under(root) == expected  # no maurer, no 01031500, no model_output, no junk
    assert (root / "basin_lists/531_basin_list.txt").read_text() == "01022500\n02064000\n"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["basins"] == ["01022500", "02064000"]
    assert set(manifest["files"]) == set(expected) - {"download_manifest.json"}
    daymet = root / expected[0]
    assert manifest["files"][expected[0]] == hashlib.sha256(daymet.read_bytes()).hexdigest()
    assert manifest["sources"]["nldas_extended"]["url"] == sources["nldas_extended"]["url"]
    assert "/hs/missing.zip" not in [path for path, _ in state.requests]  # maurer_extended unused

    served = len(state.requests)
    fetch_camels(sources, root, ["daymet", "nldas_extended"], basin_list="531",
                 downloads_dir=tmp_path / "downloads", progress=False)
    assert len(state.requests) == served  # the re-run transfers nothing


def test_fetch_rejects_unknown_forcing_before_downloading(camels_server, tmp_path):
    state, sources = camels_server
    with pytest.raises(ConfigError, match="daymet, maurer, nldas, maurer_extended, nldas_extended"):
        fetch_camels(sources, tmp_path / "camels", ["daymet", "era5"], progress=False)
    assert state.requests == []


def _cli(*argv):
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["download", *argv])
    return args.run(args)


def test_cli_reads_sources_from_a_workflow_config(camels_server, tmp_path):
    """``--sources`` takes a sources file or a workflow config naming one in dataset.download_sources."""
    _, sources = camels_server
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"dataset": {"name": "camels_us", "download_sources": "sources.yaml"}}))
    basins = tmp_path / "basins.txt"
    basins.write_text("01031500\n")
    assert _cli("--sources", str(config), "--root", str(tmp_path / "r"), "--downloads", str(tmp_path / "d"),
                "--forcing", "maurer", "--basins", str(basins), "--no-progress") == 0
    assert (tmp_path / "r" / f"{TS}/basin_mean_forcing/maurer/01/"
            "01031500_lump_maurer_forcing_leap.txt").is_file()
    assert (tmp_path / "r" / "download_manifest.json").is_file()


def test_cli_rejects_the_old_dataset_download_key(camels_server, tmp_path, capsys):
    _, sources = camels_server
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"dataset": {"name": "camels_us", "download": sources}}))
    assert _cli("--sources", str(config), "--root", str(tmp_path / "r"), "--no-progress") == 1
    assert "dataset.download_sources" in capsys.readouterr().err


@pytest.mark.parametrize("config", ["config/download_sources.yaml", "config/experiments/camels_us.yaml"])
def test_repository_sources_load(config):
    """The help's examples work: the sources file itself, or the experiment config naming it."""
    repo = Path(__file__).resolve().parents[1]
    loaded = cli.load_sources(repo / config)
    assert {"timeseries", "attributes", "maurer_extended", "nldas_extended", "basin_lists"} <= set(loaded)
    assert "--sources config/config.yaml" not in cli.EPILOG and "dataset.download " not in cli.DESCRIPTION
    from runoffbench.data.download import source_entry

    for key in ("timeseries", "attributes", "maurer_extended", "nldas_extended"):
        entry = source_entry(loaded, key)  # validates the url and the sums' digits
        assert entry["url"].startswith("https://")
    assert source_entry(loaded, "timeseries")["md5"] == "8e9a466710e8270b58f01d332a87184f"  # Zenodo's


def test_configured_basins_select_the_extracted_members(camels_server, tmp_path):
    """``basins`` (dataset.basins) wins over the basin list: only those basins are extracted."""
    _, sources = camels_server
    root = tmp_path / "camels"
    fetch_camels(sources, root, ["daymet"], basins=["01031500"], basin_list="531",
                 downloads_dir=tmp_path / "downloads", progress=False)
    forcing = sorted(p.name for p in (root / TS / "basin_mean_forcing").rglob("*.txt"))
    assert forcing == ["01031500_lump_cida_forcing_leap.txt"]
    assert (root / "basin_lists" / "531_basin_list.txt").is_file()


def test_truncated_archive_without_content_length_is_not_kept(camels_server, tmp_path):
    """A server that closes the connection early without Content-Length makes a short file look
    complete: with no checksum pinned, the archive's integrity check rejects it before the rename."""
    state, sources = camels_server
    path = "/ts/basin_timeseries_v1p2_metForcing_obsFlow.zip"
    state.no_length.add(path)
    state.drop_once.add(path)
    downloads, root = tmp_path / "downloads", tmp_path / "camels"
    with pytest.raises(DownloadError, match="truncated or corrupt"):
        fetch_camels(sources, root, ["daymet"], basin_list="531", downloads_dir=downloads, progress=False)
    assert not (downloads / "basin_timeseries_v1p2_metForcing_obsFlow.zip").exists()
    assert not list(downloads.glob("basin_timeseries*")), "the short download was kept"
    assert not (root / TS).exists()
    fetch_camels(sources, root, ["daymet"], basin_list="531", downloads_dir=downloads, progress=False)
    assert (downloads / "basin_timeseries_v1p2_metForcing_obsFlow.zip").read_bytes() == state.files[path]


def test_truncated_tar_without_content_length_is_not_kept(server, tmp_path):
    from runoffbench.data.archives import check_archive

    server.files["/nldas_extended.tar.gz"] = _tar_gz(nldas_extended_members())
    server.no_length.add("/nldas_extended.tar.gz")
    server.drop_once.add("/nldas_extended.tar.gz")
    dest = tmp_path / "nldas_extended.tar.gz"
    with pytest.raises(DownloadError, match="truncated or corrupt"):
        download_file(server.url("/nldas_extended.tar.gz"), dest, progress=False, verify=check_archive)
    assert list(tmp_path.iterdir()) == []


def test_pinned_md5_is_verified(camels_server, tmp_path):
    """Archives whose publisher gives only an md5 (Zenodo) are pinned with it."""
    server, _ = camels_server
    body = b"0123456789"
    server.files["/f.bin"] = body
    with pytest.raises(DownloadError, match="md5 mismatch"):
        download_file(server.url("/f.bin"), tmp_path / "f.bin", md5="0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == []
    download_file(server.url("/f.bin"), tmp_path / "f.bin", md5=hashlib.md5(body).hexdigest(), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == body


# --------------------------------------------------------------------------- download_file


def test_interrupted_transfer_resumes_with_range(server, tmp_path):
    body = bytes(range(256)) * 400
    server.files["/big.bin"] = body
    server.drop_once.add("/big.bin")
    dest = tmp_path / "big.bin"
    with pytest.raises(DownloadError, match="kept and the next run resumes it"):
        download_file(server.url("/big.bin"), dest, progress=False)
    half = len(body) // 2
    assert partial_path(dest).stat().st_size == half and not dest.exists()

    download_file(server.url("/big.bin"), dest, hashlib.sha256(body).hexdigest(), progress=False)
    assert server.requests[-1] == ("/big.bin", f"bytes={half}-")
    assert dest.read_bytes() == body and not partial_path(dest).exists()


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    body = b"abcdefghij" * 100
    server.files["/f.bin"] = body
    server.ignore_range.add("/f.bin")
    dest = tmp_path / "f.bin"
    partial_path(dest).write_bytes(b"stale bytes")
    download_file(server.url("/f.bin"), dest, progress=False)
    assert server.requests == [("/f.bin", "bytes=11-")]
    assert dest.read_bytes() == body


def test_complete_part_answered_416_is_finalised(server, tmp_path):
    body = b"0123456789"
    server.files["/f.bin"] = body
    dest = tmp_path / "f.bin"
    partial_path(dest).write_bytes(body)
    download_file(server.url("/f.bin"), dest, hashlib.sha256(body).hexdigest(), progress=False)
    assert dest.read_bytes() == body and len(server.requests) == 1


def test_sha256_mismatch_is_rejected_and_nothing_left(server, tmp_path):
    server.files["/f.bin"] = b"tampered"
    dest = tmp_path / "f.bin"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        download_file(server.url("/f.bin"), dest, wrong, progress=False)
    actual = hashlib.sha256(b"tampered").hexdigest()
    assert all(s in str(info.value) for s in ("f.bin", wrong, actual))
    assert list(tmp_path.iterdir()) == []


def test_http_404_names_url_and_status(server, tmp_path):
    url = server.url("/nowhere.zip")
    with pytest.raises(DownloadError, match=re.escape(url) + ".*404"):
        download_file(url, tmp_path / "nowhere.zip", progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("with_sha", [False, True])
def test_rerun_skips_completed_file(server, tmp_path, with_sha):
    server.files["/f.bin"] = b"payload"
    sha = hashlib.sha256(b"payload").hexdigest() if with_sha else None
    dest = tmp_path / "f.bin"
    download_file(server.url("/f.bin"), dest, sha, progress=False)
    download_file(server.url("/f.bin"), dest, sha, progress=False)
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- extraction


def _flip_member_bytes(data: bytes, member: str) -> bytes:
    """Flip bytes inside the stored data of ``member`` (so its CRC no longer matches)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 5
    corrupt = bytearray(data)
    corrupt[start:start + 4] = bytes(b ^ 0xFF for b in corrupt[start:start + 4])
    return bytes(corrupt)


def _corrupt_zip(kind: str) -> bytes:
    members = timeseries_members()
    data = _zip(members, zipfile.ZIP_STORED)
    if kind == "truncated":
        return data[: len(data) * 2 // 3]
    last_forcing = [n for n in members if n.endswith("02064000_lump_maurer_forcing_leap.txt")][0]
    return _flip_member_bytes(data, last_forcing)


@pytest.mark.parametrize("kind", ["flipped", "truncated"])
def test_corrupt_archive_is_rejected_and_nothing_left(tmp_path, kind):
    archive = tmp_path / "downloads" / "ts.zip"
    archive.parent.mkdir()
    archive.write_bytes(_corrupt_zip(kind))
    dest = tmp_path / "camels"
    select = camels_members(["daymet", "maurer"], None)
    with pytest.raises(DownloadError, match="corrupt or truncated"):
        extract_members(archive, dest, select, rename=camels_layout_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["downloads"]


def test_corrupt_tar_is_rejected(tmp_path):
    archive = tmp_path / "nldas_extended.tar.gz"
    data = _tar_gz(nldas_extended_members())
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DownloadError, match="corrupt or truncated"):
        extract_members(archive, tmp_path / "camels", ["*"])
    assert [p.name for p in tmp_path.iterdir()] == ["nldas_extended.tar.gz"]


@pytest.mark.parametrize("evil", ["../evil.txt", "/tmp/evil.txt",
                                  f"{TS}/usgs_streamflow/../../../01022500_streamflow_qc.txt"])
def test_path_traversal_member_is_refused(tmp_path, evil):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip({"camels_attributes_v2.0/camels_clim.txt": "ok", evil: "pwned"}))
    with pytest.raises(DownloadError, match="outside the destination"):
        extract_members(archive, tmp_path / "out" / "camels", ["*"])
    assert not (tmp_path / "out" / "camels").exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_staging_folder_of_a_killed_extraction_is_removed_next_time(tmp_path):
    """A kill during extraction leaves ``.<root>.<pid>.<host>.<token>.staging``; the next extraction
    into the same root removes it (and keeps a running one's)."""
    import subprocess
    import sys

    from runoffbench.io import temporary_path

    archive = tmp_path / "attributes.zip"
    archive.write_bytes(_zip(attribute_members()))
    dest = tmp_path / "camels"
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    stale = temporary_path(dest, pid=dead, kind="staging")
    (stale / "camels_attributes_v2.0").mkdir(parents=True)
    (stale / "camels_attributes_v2.0" / "camels_clim.txt").write_text("half")
    extract_members(archive, dest, ["camels_attributes_v2.0/camels_clim.txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attributes.zip", "camels"]


def test_cli_basins_with_basin_list_extracts_only_the_basins(camels_server, tmp_path, capsys):
    """The download rule passes both when a config sets dataset.basins and dataset.basin_list."""
    _, sources = camels_server
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources))
    basins = tmp_path / "basins.txt"
    basins.write_text("02064000\n")
    root = tmp_path / "r"
    assert _cli("--sources", str(tmp_path / "sources.yaml"), "--root", str(root), "--downloads",
                str(tmp_path / "d"), "--basins", str(basins), "--basin-list", "531", "--no-progress") == 0
    assert sorted(p.name for p in (root / TS).rglob("*.txt")) == [
        "02064000_lump_cida_forcing_leap.txt", "02064000_streamflow_qc.txt"]
    capsys.readouterr()
    assert _cli("--print-checksums", "--root", str(root)) == 0
    printed = capsys.readouterr().out
    sha = hashlib.sha256((tmp_path / "d" / "basin_timeseries_v1p2_metForcing_obsFlow.zip").read_bytes()).hexdigest()
    assert f"timeseries: {sha}  # basin_timeseries_v1p2_metForcing_obsFlow.zip (not pinned)" in printed
