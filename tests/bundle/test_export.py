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


def test_damaged_image_is_refused_in_any_batch(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checksums run on a second thread a batch at a time: a damaged image stops the export
    whether it is in the first batch (all images in one) or a later one (one image each)."""
    from chatimg.bundle import export, imagecopy

    cid, _ = made_thread
    victim = _first_asset_file()
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    out = tmp_path / "out"
    studio = Studio.open()
    try:
        for batch_bytes in (1 << 30, 1):
            monkeypatch.setattr(imagecopy, "_BATCH_BYTES", batch_bytes)
            with pytest.raises(StoreError, match=f"image {victim.stem[:12]} is damaged"):
                export.export_conversation(studio, cid, out / "bundle.zip")
    finally:
        studio.close()
    assert list(out.iterdir()) == []


def test_batches_do_not_change_the_bundle(made_thread: tuple[str, Path], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The same bytes and the same progress, however the images are batched."""
    from datetime import UTC, datetime

    from chatimg.bundle import export, imagecopy

    cid, _ = made_thread
    when = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    bundles: list[bytes] = []
    progress: list[list[tuple[int, int]]] = []
    studio = Studio.open()
    try:
        for batch_bytes in (1 << 30, 1, 3000):
            monkeypatch.setattr(imagecopy, "_BATCH_BYTES", batch_bytes)
            calls: list[tuple[int, int]] = []
            progress.append(calls)
            target = tmp_path / f"bundle-{batch_bytes}.zip"
            export.export_conversation(studio, cid, target,
                                       lambda d, t: progress[-1].append((d, t)),
                                       exported_at=when)
            bundles.append(target.read_bytes())
    finally:
        studio.close()
    assert bundles[0] == bundles[1] == bundles[2]
    assert progress[0] == progress[1] == progress[2]
    total = progress[0][-1][1]
    assert total >= 5 and progress[0] == [(n, total) for n in range(total + 1)]
    with zipfile.ZipFile(io.BytesIO(bundles[0])) as archive:
        assert archive.testzip() is None


def test_a_failure_on_the_checksum_thread_fails_the_export(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No image goes unchecked: an error while hashing is the export's error."""
    from chatimg.bundle import export, imagecopy

    class BrokenHashlib:
        @staticmethod
        def sha256(data: bytes) -> Any:
            raise MemoryError("no room to hash")

    cid, _ = made_thread
    monkeypatch.setattr(imagecopy, "hashlib", BrokenHashlib)
    out = tmp_path / "out"
    studio = Studio.open()
    try:
        with pytest.raises(MemoryError, match="no room to hash"):
            export.export_conversation(studio, cid, out / "bundle.zip")
        export.export_conversation(studio, cid, out / "unverified.zip", verify=False)
    finally:
        studio.close()
    assert sorted(p.name for p in out.iterdir()) == ["unverified.zip"]


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
