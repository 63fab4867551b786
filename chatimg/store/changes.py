"""The change feed: tells an open app that another process wrote to the store.

One interface, two implementations, each a daemon thread with its own connection:

- PostgreSQL: ``LISTEN`` on the team channel and on the person's own channel; the migration's
  triggers ``NOTIFY`` in the writing transaction (so a change is announced when it commits,
  never before). The thread blocks in the server's socket; it wakes only on a notification
  or, twice a second, to see whether it was asked to stop. Nothing is polled. Team changes
  name their conversation; a person's own channel says only what kind of row changed (any role
  may listen on any channel), and the app refreshes what it shows through row-level security.
- SQLite: ``PRAGMA data_version`` on a private connection, read every half second; it changes
  when another connection commits. One cheap read, no table scan.

Callbacks run on the feed's thread: the TUI hands them over to its own loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatimg.store.database import BUSY_TIMEOUT_MS, Database

log = logging.getLogger(__name__)

#: How often the SQLite feed looks, and how long the PostgreSQL one waits before it checks
#: whether it should stop (seconds).
INTERVAL = 0.5
#: The channel every team-visible change is announced on.
TEAM_CHANNEL = "chatimg_team"
#: Seconds between attempts to open a lost PostgreSQL listening connection again.
RECONNECT = 2.0
#: How the listening connection names itself in ``pg_stat_activity``.
APPLICATION_NAME = "chatimg-live"


@dataclass(frozen=True)
class Change:
    """Something changed in the store."""

    kind: str
    """``conversation``, ``message``, ``generation``, or ``any`` (SQLite cannot say)."""
    conversation_id: str | None = None
    """The conversation it happened in; None when unknown (SQLite)."""


ChangeCallback = Callable[[Change], None]


def user_channel(user: str) -> str:
    """The channel the changes of ``user``'s own conversations are announced on."""
    return "chatimg_user_" + hashlib.md5(user.encode("utf-8")).hexdigest()


class ChangeFeed:
    """A background listener; ``start`` it with a callback, ``stop`` it when done.

    Args:
        database: The store to watch.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        """Set once the feed listens (changes committed after that are reported)."""

    def start(self, callback: ChangeCallback) -> None:
        """Start listening on a daemon thread; ``callback`` runs there for each change."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._guarded, args=(callback,),
                                        name=f"chatimg-{type(self).__name__}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and wait (bounded) for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _guarded(self, callback: ChangeCallback) -> None:
        try:
            self.run(callback)
        except Exception:  # a lost connection ends live updates, never the app
            log.exception("live updates stopped")
        finally:
            self.ready.set()

    def run(self, callback: ChangeCallback) -> None:
        """Listen until stopped (on the feed's thread)."""
        raise NotImplementedError


class SQLiteChanges(ChangeFeed):
    """Watches ``PRAGMA data_version`` of the SQLite file."""

    def run(self, callback: ChangeCallback) -> None:
        path = self.database.sqlite_path
        if path is None:  # in memory: no other process can write
            self.ready.set()
            return
        from urllib.parse import quote

        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                                     timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            seen = connection.execute("PRAGMA data_version").fetchone()[0]
            self.ready.set()
            while not self._stop.wait(INTERVAL):
                now = connection.execute("PRAGMA data_version").fetchone()[0]
                if now != seen:
                    seen = now
                    callback(Change("any"))
        finally:
            connection.close()


class PostgresChanges(ChangeFeed):
    """``LISTEN`` for the migration's notifications on its own connection.

    A lost connection is opened again (every ``RECONNECT`` seconds until it works); then one
    ``Change("any")`` tells the app to catch up on what it may have missed meanwhile.
    """

    def run(self, callback: ChangeCallback) -> None:
        import psycopg

        missed = False
        while not self._stop.is_set():
            try:
                self._listen(callback, missed)
            except psycopg.OperationalError as exc:
                log.warning("live updates: %s; reconnecting", str(exc).strip() or "lost")
                missed = True
                self._stop.wait(RECONNECT)

    def _listen(self, callback: ChangeCallback, missed: bool) -> None:
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True,
                             application_name=APPLICATION_NAME) as connection:
            user = str(connection.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
            for channel in (TEAM_CHANNEL, user_channel(user)):
                connection.execute(f'LISTEN "{channel}"')
            self.ready.set()
            if missed:
                callback(Change("any"))
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=INTERVAL):
                    callback(_parse(notice.payload))
                    if self._stop.is_set():
                        break


def _parse(payload: str) -> Change:
    try:
        data: Any = json.loads(payload)
        return Change(str(data.get("kind") or "any"), data.get("conversation"))
    except (ValueError, AttributeError):
        return Change("any")


def open_feed(database: Database) -> ChangeFeed:
    """The change feed that fits ``database`` (not started)."""
    if database.backend == "postgresql":
        return PostgresChanges(database)
    return SQLiteChanges(database)
