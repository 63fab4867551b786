"""Export details: progress, atomic writes, damaged stores, the zip writer, the bounded reader,
the texts packed on a thread, writeback while writing, and replacing an older bundle."""

from __future__ import annotations

import contextlib
import io
import json
import sys
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


def _export_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("chatimg-export-")]


def test_texts_are_written_after_the_images_and_listed_first(made_thread: tuple[str, Path],
                                                            tmp_path: Path) -> None:
    """manifest.json and index.html are packed on a thread while the images are copied and
    land at the end of the file, yet every reader lists them first, and they hold exactly
    what the manifest and gallery builders make for the thread."""
    import shutil
    import subprocess
    from datetime import UTC, datetime

    from chatimg import __version__
    from chatimg.bundle import export_conversation
    from chatimg.bundle.gallery import render_index
    from chatimg.bundle.manifest import build_manifest

    cid, _ = made_thread
    when = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    studio = Studio.open()
    try:
        bundle = export_conversation(studio, cid, tmp_path / "b.zip", exported_at=when)
        manifest, text = build_manifest(studio.repo.bundles.dump(cid), app_version=__version__,
                                        exported_at=when,
                                        secrets=studio.settings.secret_values())
    finally:
        studio.close()
    with zipfile.ZipFile(bundle) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos[:2]] == ["manifest.json", "index.html"]
        assert archive.read("manifest.json") == text.encode("utf-8")
        assert archive.read("index.html") == render_index(manifest).encode("utf-8")
        assert {i.compress_type for i in infos[:2]} == {zipfile.ZIP_DEFLATED}
        assert {i.compress_type for i in infos[2:]} == {zipfile.ZIP_STORED}
        assert min(i.header_offset for i in infos[:2]) > max(i.header_offset
                                                               for i in infos[2:])
        assert archive.testzip() is None
    if shutil.which("unzip"):
        listed = subprocess.run(["unzip", "-Z1", str(bundle)], capture_output=True, text=True,
                                check=True, timeout=60).stdout.split()
        assert listed[:2] == ["manifest.json", "index.html"] and len(listed) == len(infos)
        subprocess.run(["unzip", "-tq", str(bundle)], check=True, capture_output=True,
                       timeout=60)
    assert not _export_threads()


def test_a_failure_while_packing_the_texts_leaves_nothing(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatimg.bundle import export

    cid, _ = made_thread

    def no_memory(data: bytes, deflate_level: int | None = None) -> Any:
        raise MemoryError("no room to deflate")

    monkeypatch.setattr(export, "pack", no_memory)
    out = tmp_path / "out"
    studio = Studio.open()
    try:
        with pytest.raises(MemoryError, match="no room to deflate"):
            export.export_conversation(studio, cid, out / "b.zip")
    finally:
        studio.close()
    assert list(out.iterdir()) == []
    assert not _export_threads()


def test_a_failing_image_stops_the_export_with_the_texts_thread_finished(
    made_thread: tuple[str, Path], tmp_path: Path,
) -> None:
    from chatimg.bundle import export_conversation

    cid, _ = made_thread
    _first_asset_file().unlink()
    out = tmp_path / "out"
    studio = Studio.open()
    try:
        with pytest.raises(StoreError, match="is missing"):
            export_conversation(studio, cid, out / "b.zip")
    finally:
        studio.close()
    assert list(out.iterdir()) == []
    assert not _export_threads()


def test_the_kernel_is_asked_to_write_the_zip_as_it_grows_and_it_is_still_fsynced(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every byte written is handed to ``sync_file_range`` once, in order, before the final
    fsync; where the call fails the export just stops asking and still completes."""
    import os

    from chatimg.bundle import export

    cid, good = made_thread
    asked: list[tuple[int, int]] = []
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(len(asked))
        real_fsync(fd)

    def start_writing(fd: int, start: int, length: int, flags: int) -> int:
        assert flags == 2 and os.fstat(fd).st_size >= start + length
        asked.append((start, length))
        return 0

    def refuse(fd: int, start: int, length: int, flags: int) -> int:
        asked.append((-1, -1))
        return -1

    real_call = export._sync_file_range
    monkeypatch.setattr(export, "_WRITEBACK_STEP", 4096)
    monkeypatch.setattr(export, "_sync_file_range", lambda: start_writing)
    monkeypatch.setattr(os, "fsync", fsync)
    studio = Studio.open()
    try:
        bundle = export.export_conversation(studio, cid, tmp_path / "b.zip")
        assert len(asked) >= 2 and synced == [len(asked)]
        assert [start for start, _ in asked] == [0, *(s + n for s, n in asked[:-1])]
        assert all(length >= 4096 for _, length in asked)
        with zipfile.ZipFile(bundle) as archive:
            assert archive.testzip() is None
        assert sum(n for _, n in asked) <= min(
            i.header_offset for i in archive.infolist()[:2])

        asked.clear()
        monkeypatch.setattr(export, "_sync_file_range", lambda: refuse)
        again = export.export_conversation(studio, cid, tmp_path / "again.zip")
        assert asked == [(-1, -1)] and zipfile.ZipFile(again).testzip() is None
        if sys.platform.startswith("linux"):  # the real call, on a real file
            monkeypatch.setattr(export, "_sync_file_range", real_call)
            assert export._sync_file_range() is not None
            real = export.export_conversation(studio, cid, tmp_path / "real.zip")
            assert zipfile.ZipFile(real).testzip() is None
    finally:
        studio.close()
    assert good.is_file()


def test_replacing_a_bundle_lets_go_of_the_old_one(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Re-exporting over a bundle replaces it at once; the old file's space is freed by a
    short-lived thread, which leaves no descriptor open. A file with another link, and a
    folder in the way, are handled as before."""
    import os
    import threading

    from chatimg.bundle import export

    def open_deleted() -> list[str]:
        found = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/self/fd/{fd}")
                if link.startswith(str(tmp_path)) and link.endswith("(deleted)"):
                    found.append(link)
        return found

    def join_release_threads() -> None:
        for thread in threading.enumerate():
            if thread.name == "chatimg-export-release":
                thread.join(timeout=60)

    cid, _ = made_thread
    monkeypatch.setattr(export, "_RELEASE_ON_THREAD", 1)
    held: list[bool] = []
    hold = export._hold_replaced

    def spy(target: Path) -> int | None:
        fd = hold(target)
        held.append(fd is not None)
        return fd

    monkeypatch.setattr(export, "_hold_replaced", spy)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "b.zip"
    target.write_bytes(b"an older bundle" * 1000)
    before = target.stat().st_ino
    linked = out / "linked.zip"
    linked.write_bytes(b"kept by its other name")
    os.link(linked, out / "other-name.zip")
    (out / "folder.zip").mkdir()
    studio = Studio.open()
    try:
        export.export_conversation(studio, cid, target)
        export.export_conversation(studio, cid, linked)
        with pytest.raises(StoreError):
            export.export_conversation(studio, cid, out / "folder.zip")
    finally:
        studio.close()
    join_release_threads()
    assert held == [os.name == "posix", False, False]
    assert target.stat().st_ino != before
    assert zipfile.ZipFile(target).testzip() is None
    assert zipfile.ZipFile(linked).testzip() is None
    assert (out / "other-name.zip").read_bytes() == b"kept by its other name"
    assert sorted(p.name for p in out.iterdir()) == [
        "b.zip", "folder.zip", "linked.zip", "other-name.zip"]
    if os.path.isdir("/proc/self/fd"):
        assert open_deleted() == []
