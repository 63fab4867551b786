"""Export details: progress, atomic writes, damaged stores, the zip writer, the bounded reader."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chatimg import paths
from chatimg.errors import BundleInvalidError, StoreError
from chatimg.studio import Studio


def _first_asset_file() -> Path:
    return next(p for p in sorted(paths.assets_dir().rglob("*.png")))


def test_progress_is_reported_for_every_image(made_thread: tuple[str, Path],
                                              tmp_path: Path) -> None:
    from chatimg.bundle import export_conversation

    cid, good = made_thread
    calls: list[tuple[int, int]] = []
    studio = Studio.open()
    try:
        export_conversation(studio, cid, tmp_path / "again.zip", lambda d, t: calls.append((d, t)))
    finally:
        studio.close()
    with zipfile.ZipFile(good) as archive:
        images = [n for n in archive.namelist() if n.startswith("assets/")]
        assert archive.namelist()[:2] == ["manifest.json", "index.html"]
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
    total = len(images)
    assert total == len(manifest["assets"]) >= 5
    assert calls == [(n, total) for n in range(total + 1)]


def test_cli_export_default_name_and_no_progress_when_not_a_tty(
    made_thread: tuple[str, Path], cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, _ = made_thread
    monkeypatch.chdir(tmp_path)
    result = cli("export", cid)
    assert result.code == 0, result.err
    assert result.out.strip() == f"chatimg-{cid}.zip" and result.err == ""
    assert (tmp_path / f"chatimg-{cid}.zip").is_file()
    missing = cli("export", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert missing.code == 1 and missing.err.startswith("chatimg: error: no conversation")


def test_damaged_store_leaves_no_bundle_behind(made_thread: tuple[str, Path],
                                               tmp_path: Path) -> None:
    from chatimg.bundle import export_conversation

    cid, _ = made_thread
    victim = _first_asset_file()
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, other bytes
    out = tmp_path / "out"
    studio = Studio.open()
    try:
        # sizes only: exported
        export_conversation(studio, cid, out / "unverified.zip", verify=False)
        with pytest.raises(StoreError, match="is damaged"):  # verified by default
            export_conversation(studio, cid, out / "verified.zip")
        victim.write_bytes(data[:10])
        with pytest.raises(StoreError, match="is damaged"):
            export_conversation(studio, cid, out / "short.zip")
        victim.unlink()
        with pytest.raises(StoreError, match="is missing"):
            export_conversation(studio, cid, out / "missing.zip")
    finally:
        studio.close()
    assert sorted(p.name for p in out.iterdir()) == ["unverified.zip"]
    # The import side always hashes: the altered image is refused there.
    with pytest.raises(BundleInvalidError, match="sha256 does not match"):
        from chatimg.bundle.reader import read_bundle

        read_bundle(out / "unverified.zip")


def test_garbage_collection_is_off_only_while_exporting(made_thread: tuple[str, Path],
                                                       tmp_path: Path) -> None:
    """Export pauses cyclic collection (its rows have no cycles) and restores the switch as
    it found it, also when the export fails."""
    import gc

    from chatimg.bundle import export_conversation
    from chatimg.errors import NotFoundError

    cid, _ = made_thread
    seen: list[bool] = []
    studio = Studio.open()
    try:
        assert gc.isenabled()
        export_conversation(studio, cid, tmp_path / "a.zip", lambda d, t: seen.append(gc.isenabled()))
        assert seen and not any(seen)
        assert gc.isenabled()
        with pytest.raises(NotFoundError):
            export_conversation(studio, "01ARZ3NDEKTSV4RRFFQ69G5FAV", tmp_path / "b.zip")
        assert gc.isenabled()
        gc.disable()
        try:
            export_conversation(studio, cid, tmp_path / "c.zip")
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        studio.close()


def test_zip_writer_output_reads_everywhere_and_switches_to_zip64(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatimg.bundle import zipwriter

    def build(count: int) -> bytes:
        buffer = io.BytesIO()
        writer = zipwriter.ZipWriter(buffer, (2026, 11, 26, 13, 5, 7))
        for n in range(count):
            writer.add(f"assets/{n:064x}.png", bytes([n]) * (n + 1))
        writer.add("manifest.json", b'{"a": 1}' * 100, deflate_level=1)
        writer.close()
        return buffer.getvalue()

    plain = zipfile.ZipFile(io.BytesIO(build(3)))
    assert plain.testzip() is None
    assert plain.read("manifest.json") == b'{"a": 1}' * 100
    info = plain.getinfo(f"assets/{2:064x}.png")
    assert info.date_time == (2026, 11, 26, 13, 5, 6)
    assert info.external_attr >> 16 == 0o100644
    monkeypatch.setattr(zipwriter, "_LIMIT16", 4)
    big = build(6)
    assert b"PK\x06\x06" in big and b"PK\x06\x07" in big
    archive = zipfile.ZipFile(io.BytesIO(big))
    assert len(archive.infolist()) == 7 and archive.testzip() is None


def test_bounded_reader_stops_at_the_cap(made_thread: tuple[str, Path]) -> None:
    from chatimg.bundle.reader import Limits, _Budget, read_entry

    _, good = made_thread
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("manifest.json")
        assert len(read_entry(archive, info, info.file_size, Limits(), _Budget(1 << 30))) == (
            info.file_size)
        with pytest.raises(BundleInvalidError, match="larger than it says"):
            read_entry(archive, info, 100, Limits(), _Budget(1 << 30))
        with pytest.raises(BundleInvalidError, match="expands past"):
            read_entry(archive, info, info.file_size, Limits(), _Budget(100))


def test_one_image_over_the_limit_is_refused(made_thread: tuple[str, Path]) -> None:
    from chatimg.bundle.reader import Limits, read_bundle

    _, good = made_thread
    with pytest.raises(BundleInvalidError, match="byte limit for one image"):
        read_bundle(good, Limits(max_asset_bytes=100))
