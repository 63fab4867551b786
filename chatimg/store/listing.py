"""Listing conversations: the one SQL statement, and a read-only path that needs no SQLAlchemy.

``Repository.list_conversations`` runs ``LIST_CONVERSATIONS`` through SQLAlchemy on any backend.
``chatimg ls`` first tries ``quick_list``: on the default SQLite store, already at the newest
schema, it runs the same statement through the standard library's ``sqlite3`` and never imports
SQLAlchemy, SQLModel or pydantic-settings (they cost more than the listing itself). Anything
else (PostgreSQL, a database that needs migrating, an unreadable config file, an asset store
other than the data dir's folder) returns ``None`` and the caller takes the full path, which
reports problems as usual. So does a store with work for a start to do after a crash
(generations left queued or running, temp files of writers): the full path's
``Studio.tidy_after_crashes`` decides which are stale and tidies them.

Importing this module costs only the standard library.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatimg import domain, paths

#: Conversations with their message counts, newest activity first. Named parameters
#: (``:name``) read the same in ``sqlite3`` and in SQLAlchemy's ``text()``.
LIST_CONVERSATIONS = """
SELECT c.id, c.title, c.default_model, c.created_at, c.updated_at, coalesce(n.n, 0),
    c.owner, c.visibility
FROM conversation AS c
LEFT OUTER JOIN (SELECT conversation_id, count(*) AS n FROM message GROUP BY conversation_id)
    AS n ON n.conversation_id = c.id
{where}
ORDER BY c.updated_at DESC, c.id DESC
LIMIT :limit OFFSET :offset
"""
#: The ``WHERE`` clause that keeps only some ids (an expanding ``:ids`` parameter).
ONLY_IDS = "WHERE c.id IN :ids"

#: Whether a start may have generations to mark ``interrupted`` (``runs.mark_interrupted``
#: decides which: those whose process is gone).
IN_FLIGHT = "SELECT 1 FROM generation WHERE status IN ('queued', 'running') LIMIT 1"

_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)


def list_statement(ids: bool = False) -> str:
    """``LIST_CONVERSATIONS`` with or without the id filter."""
    return LIST_CONVERSATIONS.format(where=ONLY_IDS if ids else "")


def conversation_from_row(row: Sequence[Any]) -> domain.Conversation:
    """A ``LIST_CONVERSATIONS`` row as a domain record (SQLite gives text for timestamps)."""
    ident, title, default_model, created, updated, count, owner, visibility = row
    return domain.Conversation(id=ident, title=title, created_at=_when(created),
                               updated_at=_when(updated), default_model=default_model,
                               message_count=int(count), owner=owner,
                               visibility=visibility or "private")


def _when(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def head_from_files() -> str | None:
    """The single head revision, read from the migration files' ``revision`` lines."""
    from chatimg.resources import resource_dir

    revisions: set[str] = set()
    parents: set[str] = set()
    for script in resource_dir("migrations").joinpath("versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            found = re.findall(r"[\"']([^\"']+)[\"']", value)
            (revisions if name == "revision" else parents).update(found)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _sqlite_file() -> Path | None:
    """The SQLite file the settings point at, or ``None`` when this path does not apply (not
    SQLite, or assets elsewhere than the data dir's folder)."""
    try:
        with paths.config_file().open("rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        config = {}
    except (OSError, tomllib.TOMLDecodeError):
        return None  # the full path names the problem
    storage = config.get("storage")
    if os.environ.get("CHATIMG_STORAGE__URL") or (isinstance(storage, dict)
                                                  and storage.get("url")):
        return None
    url = os.environ.get("CHATIMG_DATABASE_URL", config.get("database_url"))
    if url is None:
        return paths.database_file()
    if not isinstance(url, str) or not url.startswith("sqlite:///") or "?" in url:
        return None
    return Path(url.removeprefix("sqlite:///"))


def quick_list(limit: int | None = None, offset: int = 0) -> list[domain.Conversation] | None:
    """Conversations from the default SQLite store without SQLAlchemy, or ``None`` when the
    store is elsewhere, missing or not at the newest schema (use the Studio then)."""
    from chatimg.store.assets import AssetStore

    file = _sqlite_file()
    if file is None or not file.is_file():
        return None
    if next(AssetStore(paths.assets_dir()).partials(), None) is not None:
        return None  # temp files: a start removes those of writers that are gone
    head = head_from_files()
    try:
        connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=30)
    except sqlite3.Error:
        return None
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        revisions = {row[0] for row in connection.execute("SELECT version_num FROM "
                                                          "alembic_version")}
        if head is None or revisions != {head}:
            return None
        if connection.execute(IN_FLIGHT).fetchone() is not None:
            return None  # a start marks those of dead processes interrupted
        rows = connection.execute(list_statement(), {"limit": -1 if limit is None else limit,
                                                     "offset": offset}).fetchall()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return [conversation_from_row(row) for row in rows]
