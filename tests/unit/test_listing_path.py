"""``chatimg ls`` reads the default SQLite store without SQLAlchemy, and lists the same rows."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from chatimg.domain import to_jsonable
from chatimg.studio import Studio

PROBE = """
import sys
from chatimg.cli import main
try:
    main(["ls", "--json"] + sys.argv[1:])
finally:
    heavy = [m for m in ("sqlalchemy", "sqlmodel", "pydantic_settings", "alembic")
             if m in sys.modules]
    print("HEAVY " + ",".join(heavy), file=sys.stderr)
"""


def _ls(*args: str) -> tuple[list[dict[str, object]], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          timeout=120, check=True)
    heavy = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY"))
    return json.loads(done.stdout), heavy.removeprefix("HEAVY ").strip()


def test_ls_lists_what_the_studio_lists_without_sqlalchemy(studio: Studio) -> None:
    first = studio.create_conversation("first", "layout")
    second = studio.create_conversation("second", "layout")
    for text in ("one", "two", "three"):
        studio.add_message(first.id, text)
    studio.add_message(second.id, "only")
    expected = to_jsonable(studio.list_conversations())

    listed, heavy = _ls()
    assert listed == expected
    assert [c["title"] for c in listed] == ["second", "first"]
    assert [c["message_count"] for c in listed] == [1, 3]
    assert heavy == ""  # the listing never loaded SQLAlchemy, SQLModel or pydantic-settings

    limited, _ = _ls("--limit", "1")
    assert limited == expected[:1]

    # owner and visibility (set on team databases, kept by imports) come through the same
    with sqlite3.connect(studio.db.sqlite_path or "") as connection:
        connection.execute("UPDATE conversation SET owner = 'alice', visibility = 'team' "
                           "WHERE id = ?", (first.id,))
    expected = to_jsonable(studio.list_conversations())
    assert [(c["owner"], c["visibility"]) for c in expected] == [(None, "private"),
                                                                 ("alice", "team")]
    listed, _ = _ls()
    assert listed == expected


def test_ls_falls_back_to_the_full_path_when_the_quick_one_does_not_apply(
        studio: Studio, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg import paths
    from chatimg.store.listing import quick_list

    studio.create_conversation("kept", "layout")
    assert [c.title for c in quick_list() or []] == ["kept"]

    config_file.write_text("database_url = [\n", encoding="utf-8")  # broken TOML
    assert quick_list() is None
    config_file.write_text("", encoding="utf-8")

    monkeypatch.setenv("CHATIMG_DATABASE_URL", "postgresql+psycopg://someone@host/db")
    assert quick_list() is None
    monkeypatch.delenv("CHATIMG_DATABASE_URL")

    # a database at another revision is left to the full path (which migrates it)
    with sqlite3.connect(paths.database_file()) as connection:
        (head,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        connection.execute("UPDATE alembic_version SET version_num = 'older'")
    assert quick_list() is None
    with sqlite3.connect(paths.database_file()) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (head,))
    assert [c.title for c in quick_list() or []] == ["kept"]

    # work for a start after a crash (a run left running, a writer's temp file) and assets
    # elsewhere are the full path's (it tidies; the quick one only reads)
    message = studio.add_message(studio.list_conversations()[0].id, "left running")
    running = studio.repo.create_generation(message.id, "layout", {}, status="running")
    assert quick_list() is None
    studio.repo.update_generation(running.id, status="interrupted")
    assert quick_list() is not None
    partial = paths.assets_dir() / "ab" / ".tmp-writer.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half")
    assert quick_list() is None
    partial.unlink()
    config_file.write_text('[storage]\nurl = "memory://elsewhere"\n', encoding="utf-8")
    assert quick_list() is None
    config_file.write_text("", encoding="utf-8")
    assert [c.title for c in quick_list() or []] == ["kept"]


def test_ls_on_a_home_without_a_database_creates_it(home: Path) -> None:
    from chatimg.store.listing import quick_list

    assert quick_list() is None
    listed, heavy = _ls()
    assert listed == [] and "sqlalchemy" in heavy
