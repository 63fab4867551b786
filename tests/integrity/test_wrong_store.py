"""A wiped, mistyped or damaged store is refused with a hint, never replaced by an empty one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integrity.conftest import asset_paths


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("wipe", ["empty", "deleted"])
def test_a_wiped_database_beside_images_is_refused(
    cli: Any, made: dict[str, Any], home: Path, wipe: str
) -> None:
    database = home / "data" / "chatimg.db"
    for side in home.glob("data/chatimg.db*"):
        side.unlink()
    if wipe == "empty":
        database.write_bytes(b"")
    before = _files(home / "data")
    result = cli("ls")
    assert result.code == 1
    assert "holds images" in result.err and "nothing was created" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert _files(home / "data") == before  # nothing created, nothing changed
    if wipe == "empty":
        assert database.stat().st_size == 0
    assert all(p.exists() for p in asset_paths(made))


def test_an_empty_home_still_starts_fresh(cli: Any, home: Path) -> None:
    assert cli("ls").code == 0
    assert (home / "data" / "chatimg.db").stat().st_size > 0


def test_a_database_url_in_a_missing_folder_is_refused(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "nowhere" / "chatimg.db"
    monkeypatch.setenv("CHATIMG_DATABASE_URL", f"sqlite:///{typo}")
    result = cli("ls")
    assert result.code == 1 and "does not exist" in result.err and str(typo.parent) in result.err
    assert not typo.parent.exists()


@pytest.mark.parametrize("url", ["not a url", "mysql://me@localhost/chatimg"])
def test_a_bad_database_url_is_one_line(
    cli: Any, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATIMG_DATABASE_URL", url)
    result = cli("ls")
    assert result.code == 1
    assert result.err.startswith("chatimg: error: database_url")
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_a_malformed_database_names_doctor_and_recover(
    cli: Any, made: dict[str, Any], home: Path
) -> None:
    from chatimg.studio import Studio

    Studio.open().close()  # checkpoint the WAL into the main file
    database = home / "data" / "chatimg.db"
    data = bytearray(database.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    for offset in range(2 * page, len(data) - page, page):  # wreck every page after the schema
        data[offset : offset + 64] = b"\xa5" * 64
    database.write_bytes(bytes(data))
    result = cli("show", made["conversation_id"])
    assert result.code == 1
    assert "chatimg doctor" in result.err and ".recover" in result.err
    assert len(result.err.strip().splitlines()) == 1
    doctor = cli("doctor")
    assert doctor.code == 1 and ".recover" in doctor.err + doctor.out
