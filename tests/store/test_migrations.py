"""Migrations: empty → head on both backends, no drift, and data survives every upgrade."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from chatimg.store.database import Database


def _drift(database: Database) -> list:
    import chatimg.store.tables  # noqa: F401

    prefixes = ("message_fts", "ix_message_text_fts")
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, compare_to: not (
                    name and name.startswith(prefixes)
                ),
            },
        )
        return compare_metadata(context, SQLModel.metadata)


def test_empty_database_upgrades_to_head_with_no_drift(database_url: str) -> None:
    database = Database(database_url)
    assert database.current_revision() is None
    database.upgrade("head")
    assert database.current_revision() == database.head_revision()
    assert _drift(database) == []
    database.dispose()


def test_downgrade_to_base_and_back(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade("head")
    database.downgrade("base")
    assert database.current_revision() is None
    assert "conversation" not in sa.inspect(database.engine).get_table_names()
    database.upgrade("head")
    assert database.current_revision() == database.head_revision()
    database.dispose()


def _revisions(database: Database) -> list[str]:
    script = ScriptDirectory.from_config(database.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_rows_written_at_the_initial_revision_survive_every_upgrade(database_url: str) -> None:
    """Written once for 0001; every later migration is held to it."""
    database = Database(database_url)
    revisions = _revisions(database)
    assert revisions[0] == "0001_initial"
    database.upgrade("0001_initial")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    conv, msg, gen = "01J0000000000000000000CONV", "01J00000000000000000000MSG", "01J00000000000000000000GEN"
    sha = "a" * 64
    with database.engine.begin() as c:
        c.execute(sa.text("INSERT INTO conversation (id, title, default_model, created_at, updated_at) "
                          "VALUES (:id, 'kept', 'layout', :t, :t)"), {"id": conv, "t": now})
        c.execute(sa.text("INSERT INTO message (id, conversation_id, parent_id, role, text, model, params, created_at) "
                          "VALUES (:id, :c, NULL, 'user', 'a lighthouse at dusk', 'layout', :p, :t)"),
                  {"id": msg, "c": conv, "p": json.dumps({"seed": 3}), "t": now})
        c.execute(sa.text("INSERT INTO generation (id, message_id, requested_model, resolved_model, params, status, "
                          "queued_at, cost_estimated, receipt, latency_ms, cost_usd) VALUES "
                          "(:id, :m, 'layout', 'layout', :p, 'succeeded', :t, :e, :r, 12.5, 0.0)"),
                  {"id": gen, "m": msg, "p": json.dumps({"seed": 3}), "t": now, "e": True,
                   "r": json.dumps({"request": {"prompt": "a lighthouse at dusk", "seed": 3}})})
        c.execute(sa.text("INSERT INTO asset (sha256, mime, width, height, bytes, path, created_at) "
                          "VALUES (:s, 'image/png', 64, 32, 100, :p, :t)"), {"s": sha, "p": f"aa/{sha}.png", "t": now})
        c.execute(sa.text("INSERT INTO generation_asset (generation_id, \"index\", asset_sha256, seed) "
                          "VALUES (:g, 0, :s, 3)"), {"g": gen, "s": sha})
        c.execute(sa.text("INSERT INTO validation (asset_sha256, generation_id, check_name, check_version, passed, "
                          "score, details, created_at) VALUES (:s, :g, 'blank', '1', :ok, 0.5, '{}', :t)"),
                  {"s": sha, "g": gen, "ok": True, "t": now})
        c.execute(sa.text("INSERT INTO pick (id, conversation_id, generation_ids, winner_id, created_at) "
                          "VALUES ('01J0000000000000000000PICK', :c, :ids, :g, :t)"),
                  {"c": conv, "ids": json.dumps([gen]), "g": gen, "t": now})
    for revision in revisions[1:]:
        database.upgrade(revision)
    database.upgrade("head")

    from chatimg.store.repository import Repository

    thread = Repository(database, Path("/unused")).load_thread(conv)
    assert thread.conversation.title == "kept"
    (message,) = thread.messages
    assert message.text == "a lighthouse at dusk"
    (generation,) = message.generations
    assert generation.status == "succeeded" and generation.latency_ms == 12.5
    assert generation.receipt_data["request"]["seed"] == 3
    assert generation.assets[0].sha256 == sha and generation.assets[0].seed == 3
    assert generation.validations[0].name == "blank"
    assert thread.picks[0].winner_id == gen
    assert generation.queued_at == now
    database.dispose()


def test_app_start_upgrades_an_old_database(home, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.studio import Studio

    database = Database()
    database.upgrade("0001_initial")
    database.dispose()
    studio = Studio.open()
    assert studio.db.current_revision() == studio.db.head_revision()
    studio.close()
