"""Migration 0004 on both backends: columns everywhere, policies and triggers on PostgreSQL
only, nothing enforced until ``team init``, and a round trip that keeps full-text search."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from chatimg.store import team as store_team
from chatimg.store.database import Database
from chatimg.store.repository import Repository


def test_columns_policies_and_a_round_trip(database_url: str, home: Path) -> None:
    database = Database(database_url)
    database.upgrade("head")
    columns = {table: {c["name"] for c in sa.inspect(database.engine).get_columns(table)}
               for table in ("conversation", "message", "generation", "asset")}
    assert {"owner", "visibility"} <= columns["conversation"]
    assert all("author" in columns[t] for t in ("message", "generation", "asset"))
    if database.backend == "postgresql":
        with database.engine.connect() as connection:
            policies = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_policies WHERE tablename = 'message'").scalar()
        assert policies == 4
    assert store_team.is_enabled(database) is False  # opt-in: nothing enforced yet

    database.downgrade("0003_generation_owner_and_checks")
    assert "author" not in {c["name"] for c in sa.inspect(database.engine).get_columns("message")}
    database.upgrade("head")
    repo = Repository(database, home / "assets")
    conversation = repo.create_conversation("round trip")
    repo.add_message(conversation.id, "a lighthouse at dusk")
    hits = repo.search("lighthouse")
    assert [hit.conversation_id for hit in hits] == [conversation.id]
    stored = repo.get_conversation(conversation.id)
    assert stored.visibility == "private"
    assert stored.owner == database.user  # the role on PostgreSQL, None on SQLite
    database.dispose()
