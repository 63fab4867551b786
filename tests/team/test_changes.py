"""The change feed: LISTEN/NOTIFY on PostgreSQL (per person, private changes stay private) and
``PRAGMA data_version`` on SQLite."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest

from chatimg.store.changes import (
    Change,
    ChangeFeed,
    SQLiteChanges,
    _parse,
    open_feed,
    user_channel,
)
from chatimg.store.database import Database
from tests.teamdb import Team

WAIT = 20.0


def _started(database: Database) -> tuple[ChangeFeed, queue.Queue[Change]]:
    received: queue.Queue[Change] = queue.Queue()
    feed = open_feed(database)
    feed.start(received.put)
    assert feed.ready.wait(WAIT), "the feed never started listening"
    return feed, received


def _next_about(received: queue.Queue[Change], conversation_id: str) -> list[Change]:
    """Changes up to and including the first about ``conversation_id`` (bounded wait)."""
    seen: list[Change] = []
    while True:
        change = received.get(timeout=WAIT)
        seen.append(change)
        if change.conversation_id == conversation_id:
            return seen


def _snoop(team: Team, person: str, channels: list[str]) -> Any:
    """A raw ``LISTEN`` connection as ``person`` (what any role may do) on ``channels``."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(team.url(person)).set(drivername="postgresql")
    connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    for channel in channels:
        connection.execute(f'LISTEN "{channel}"')
    return connection


@pytest.mark.postgres
@pytest.mark.xdist_group("team")
async def test_notifications_reach_the_team_and_private_ones_only_the_owner(
        team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    alice_db, bob_db = Database(team.url("alice")), Database(team.url("bob"))
    alice_feed, alice_got = _started(alice_db)
    bob_feed, bob_got = _started(bob_db)
    # Bob also listens on the channel of Alice's private conversations, whose name he can work
    # out from hers: he may hear that something changed, never which conversation.
    snoop = _snoop(team, "bob", [user_channel(team.names["alice"]), "chatimg_team"])
    alice = team.studio(monkeypatch, "alice")
    try:
        secret = alice.create_conversation("secret", "layout")
        alice.add_message(secret.id, "only for me")
        # Alice's own app hears of it (to refresh), without the id on the wire.
        mine = {alice_got.get(timeout=WAIT) for _ in range(3)}
        assert mine == {Change("conversation"), Change("message")}
        shared = alice.create_conversation("shared", "layout")
        alice.set_visibility(shared.id, "team")
        alice.add_message(shared.id, "for everyone")
        # Notifications arrive in commit order: when Bob hears of the shared one, anything
        # about the secret one would have come first.
        before = _next_about(bob_got, shared.id)
        assert secret.id not in {c.conversation_id for c in before}
        later = {bob_got.get(timeout=WAIT), bob_got.get(timeout=WAIT)}  # the message's commit
        assert later == {Change("message", shared.id), Change("conversation", shared.id)}

        overheard: list[tuple[str, str]] = []
        for notice in snoop.notifies(timeout=WAIT, stop_after=20):
            overheard.append((notice.channel, notice.payload))
            if shared.id in notice.payload and notice.channel == "chatimg_team":
                break
        private = [payload for channel, payload in overheard if channel != "chatimg_team"]
        assert private, "the snoop heard nothing on Alice's channel"
        assert all(secret.id not in payload and shared.id not in payload for payload in private)
    finally:
        snoop.close()
        alice.close()
        for feed in (alice_feed, bob_feed):
            feed.stop()
        alice_db.dispose()
        bob_db.dispose()
    assert alice_feed._thread is None


@pytest.mark.postgres
@pytest.mark.xdist_group("team")
def test_a_lost_listening_connection_comes_back(team: Team,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from chatimg.store.changes import APPLICATION_NAME

    monkeypatch.setattr("chatimg.store.changes.RECONNECT", 0.1)
    bob_db = Database(team.url("bob"))
    feed, received = _started(bob_db)
    admin = make_url(team.admin_url).set(drivername="postgresql")
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False),
                             autocommit=True) as connection:
            killed = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND usename = %s",
                (APPLICATION_NAME, team.names["bob"])).fetchone()
        assert killed == (1,)
        assert received.get(timeout=WAIT) == Change("any")  # back: catch up
        alice = team.studio(monkeypatch, "alice")
        try:
            shared = alice.create_conversation("after the outage", "layout")
            alice.set_visibility(shared.id, "team")
        finally:
            alice.close()
        assert _next_about(received, shared.id)[-1] == Change("conversation", shared.id)
    finally:
        feed.stop()
        bob_db.dispose()


def test_sqlite_feed_sees_another_connections_commit(home: Path) -> None:
    path = home / "data" / "chatimg.db"
    writer = Database(f"sqlite:///{path}")
    writer.upgrade()
    watcher = Database(f"sqlite:///{path}")
    feed, received = _started(watcher)
    try:
        from chatimg.store.repository import Repository

        Repository(writer, home / "data" / "assets").create_conversation("from elsewhere")
        assert received.get(timeout=WAIT) == Change("any")
    finally:
        feed.stop()
        writer.dispose()
        watcher.dispose()


def test_in_memory_sqlite_has_nothing_to_watch() -> None:
    feed = SQLiteChanges(Database("sqlite://"))
    feed.start(lambda change: None)
    assert feed.ready.wait(WAIT)
    feed.stop()


def test_payloads_that_are_not_json_still_count_as_a_change() -> None:
    assert _parse("not json") == Change("any")
    assert _parse('{"kind": "message", "conversation": "01X"}') == Change("message", "01X")


def test_a_failing_feed_ends_quietly(home: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(ChangeFeed):
        def run(self, callback: object) -> None:
            raise OSError("connection lost")

    feed = Broken(Database("sqlite://"))
    feed.start(lambda change: None)
    assert feed.ready.wait(WAIT)
    feed.stop()
    assert "live updates stopped" in caplog.text
