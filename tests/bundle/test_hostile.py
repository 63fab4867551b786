"""Acceptance 3: hostile bundles are refused in one line and change nothing.

Each case builds a bad bundle from a good one, runs ``chatimg import`` and checks the exit
status, the one-line reason, and that the database file (and WAL) and every file of the asset
store are byte-for-byte what they were.
"""

from __future__ import annotations

import io
import json
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import snapshot

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")

Entries = list[tuple[Any, bytes]]


def _entries(bundle: Path) -> Entries:
    with zipfile.ZipFile(bundle) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _zip(entries: Entries, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def _manifest(entries: Entries) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(dict(entries)["manifest.json"])
    return value


def _with_manifest(entries: Entries, manifest: dict[str, Any]) -> Entries:
    data = json.dumps(manifest).encode()
    return [(n, data if n == "manifest.json" else d) for n, d in entries]


def _first_asset(entries: Entries) -> str:
    return next(n for n, _ in entries if isinstance(n, str) and n.startswith("assets/"))


def _symlink(entries: Entries) -> Entries:
    info = zipfile.ZipInfo(_first_asset(entries))
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return [(info if n == info.filename else n, b"/etc/passwd" if n == info.filename else d)
            for n, d in entries]


def _bomb(entries: Entries) -> Entries:
    return [(n, b" " * (40 << 20) if n == "index.html" else d) for n, d in entries]


def _flip(entries: Entries) -> Entries:
    name = _first_asset(entries)

    def altered(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    return [(n, altered(d) if n == name else d) for n, d in entries]


def _future(entries: Entries) -> Entries:
    manifest = _manifest(entries)
    manifest["version"] = 2
    manifest["new_thing"] = {"only": "version 2 readers know"}
    return _with_manifest(entries, manifest)


def _schema(entries: Entries) -> Entries:
    manifest = _manifest(entries)
    manifest["messages"][0]["role"] = 5
    return _with_manifest(entries, manifest)


def _bad_reference(entries: Entries) -> Entries:
    manifest = _manifest(entries)
    manifest["generations"][0]["message_id"] = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    return _with_manifest(entries, manifest)


def _bad_id(entries: Entries) -> Entries:
    manifest = _manifest(entries)
    manifest["conversation"]["id"] = "../../etc"
    return _with_manifest(entries, manifest)


CASES: dict[str, tuple[Callable[[Entries], Entries], str]] = {
    "zip-slip": (lambda e: [*e, ("../../evil.png", b"x")], "unsafe entry name"),
    "zip-slip-nested": (lambda e: [*e, ("assets/../../../evil.png", b"x")], "unsafe entry name"),
    "absolute": (lambda e: [*e, ("/tmp/evil.png", b"x")], "absolute path"),
    "drive-letter": (lambda e: [*e, ("C:/evil.png", b"x")], "absolute path"),
    "backslash": (lambda e: [*e, ("assets\\..\\evil.png", b"x")], "backslash"),
    "symlink": (_symlink, "symbolic link"),
    "duplicate": (lambda e: [*e, (_first_asset(e), dict(e)[_first_asset(e)])], "duplicate"),
    "unexpected": (lambda e: [*e, ("run.sh", b"rm -rf ~")], "unexpected entry"),
    "zip-bomb": (_bomb, "expands more than"),
    "hash-mismatch": (_flip, "sha256 does not match"),
    "missing-asset": (lambda e: [x for x in e if x[0] != _first_asset(e)], "is missing"),
    "schema": (_schema, "fails the bundle schema at messages/0/role"),
    "bad-reference": (_bad_reference, "unknown message"),
    "bad-id": (_bad_id, "fails the bundle schema at conversation/id"),
    "future-version": (_future, "needs chatimg that reads bundle version 2"),
    "no-manifest": (lambda e: [x for x in e if x[0] != "manifest.json"], "no manifest.json"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_bundle_is_refused_and_changes_nothing(
    case: str, made_thread: tuple[str, Path], tmp_path: Path, cli: Any
) -> None:
    _, good = made_thread
    make, reason = CASES[case]
    bad = _zip(make(_entries(good)), tmp_path / f"{case}.zip")
    before = snapshot()
    result = cli("import", str(bad))
    assert result.code == 1
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chatimg: error: "), result.err
    assert reason in lines[0]
    assert snapshot() == before


def _raw_cases(good: Path) -> dict[str, tuple[bytes, str]]:
    data = good.read_bytes()
    # Declared size: patch the central directory to claim a 100 GiB index.html.
    patched = bytearray(data)
    start = patched.find(b"PK\x01\x02")
    while start != -1:
        name_len = struct.unpack("<H", patched[start + 28 : start + 30])[0]
        name = bytes(patched[start + 46 : start + 46 + name_len])
        if name == b"index.html":
            patched[start + 24 : start + 28] = struct.pack("<I", 0xFFFFFFF0)
        start = patched.find(b"PK\x01\x02", start + 4)
    return {
        "truncated": (data[: len(data) // 2], "not a zip file, or truncated"),
        "not-a-zip": (b"just some text, not a zip at all\n" * 20, "not a chatimg bundle"),
        "a-png": (next(iter(_entries(good)))[1][:0] + _png(), "not a chatimg bundle"),
        "empty": (b"", "not a chatimg bundle"),
        "declared-huge": (bytes(patched), "expands more than"),
    }


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("case", ["truncated", "not-a-zip", "a-png", "empty", "declared-huge"])
def test_damaged_files_are_refused_and_change_nothing(
    case: str, made_thread: tuple[str, Path], tmp_path: Path, cli: Any
) -> None:
    _, good = made_thread
    data, reason = _raw_cases(good)[case]
    bad = tmp_path / f"{case}.zip"
    bad.write_bytes(data)
    before = snapshot()
    result = cli("import", str(bad))
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chatimg: error: "), result.err
    assert reason in lines[0]
    assert snapshot() == before


def test_reader_stops_at_the_byte_budget_whatever_the_sizes_say(
    made_thread: tuple[str, Path], tmp_path: Path
) -> None:
    from chatimg.bundle.reader import Limits, read_bundle
    from chatimg.errors import BundleInvalidError

    _, good = made_thread
    total = sum(len(d) for _, d in _entries(good))
    with pytest.raises(BundleInvalidError, match=r"expands past|declares more than"):
        read_bundle(good, Limits(max_total_bytes=total // 2))
    assert read_bundle(good).total_bytes <= total


def test_a_good_bundle_still_imports_after_all_that(
    made_thread: tuple[str, Path], cli: Any
) -> None:
    cid, good = made_thread
    result = cli("import", str(good), "--as-copy")
    assert result.code == 0, result.err
    assert result.out.startswith("imported conversation ")
    assert result.out.split()[2] != cid
    assert f"(a copy of {cid})" in result.out


def test_a_failing_transaction_takes_its_files_back(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files first, then rows: when the rows fail, the new files (and folders) go again."""
    from chatimg.bundle import importer
    from chatimg.errors import StoreError
    from chatimg.store import bundle_rows
    from chatimg.studio import Studio

    _, good = made_thread
    # Another, empty home: every image of the bundle is new there.
    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "other"))
    entries = _entries(good)
    studio = Studio.open()
    studio.close()
    before = snapshot()
    real = bundle_rows.insert_rows

    def half_then_fail(session: Any, thread: dict[str, Any]) -> None:
        real(session, thread)
        raise StoreError("database error: disk full (simulated)")

    monkeypatch.setattr(bundle_rows, "insert_rows", half_then_fail)
    studio = Studio.open()
    try:
        with pytest.raises(StoreError, match="simulated"):
            importer.import_bundle(studio, _zip(entries, tmp_path / "again.zip"))
    finally:
        studio.close()
    assert snapshot() == before
    monkeypatch.setattr(bundle_rows, "insert_rows", real)
    studio = Studio.open()
    try:
        report = importer.import_bundle(studio, tmp_path / "again.zip")
    finally:
        studio.close()
    assert report.new_files == report.assets > 0
