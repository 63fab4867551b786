"""Team databases: who owns a conversation, who may read it, and branching a teammate's thread.

The database enforces all of it with row-level security (``chatimg.store.team``); the checks
here only turn a refusal the database would give into a clear one-line error before trying.
On SQLite (single-user) ``Database.user`` is None and nothing is checked.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chatimg.errors import InvalidRequestError, NotFoundError, NotPermittedError
from chatimg.ids import new_id
from chatimg.store.database import Database
from chatimg.store.tables import (
    VISIBILITIES,
    ConversationRow,
    GenerationAssetRow,
    GenerationRow,
    MessageRow,
    PickRow,
    ValidationRow,
    utcnow,
)

_BRANCH_HINT = "branch it into your own conversation: chatimg team branch {id}"


class Sharing:
    """Visibility and branching of conversations.

    Args:
        database: The database (its ``user`` is the person acting).
    """

    def __init__(self, database: Database) -> None:
        self.db = database

    def check_owner(self, row: ConversationRow) -> None:
        """Refuse to write into a conversation that belongs to someone else.

        Raises:
            NotPermittedError: the database has users and ``row`` is not the current one's.
        """
        user = self.db.user
        if user is not None and row.owner is not None and row.owner != user:
            raise NotPermittedError(f"conversation {row.id[:12]} belongs to {row.owner}",
                                    _BRANCH_HINT.format(id=row.id[:12]))

    def _own_row(self, session: Session, conversation_id: str) -> ConversationRow:
        row = session.get(ConversationRow, conversation_id)
        if row is None:
            raise NotFoundError(f"no conversation with id {conversation_id!r}",
                                "list them with: chatimg ls")
        self.check_owner(row)
        return row

    def set_visibility(self, conversation_id: str, visibility: str) -> None:
        """Make a conversation ``private`` or ``team``-visible.

        Raises:
            InvalidRequestError: ``visibility`` is neither.
            NotFoundError: no such conversation (or not visible to this person).
            NotPermittedError: it belongs to someone else.
        """
        if visibility not in VISIBILITIES:
            raise InvalidRequestError(f"visibility {visibility!r} is not one of "
                                      + ", ".join(VISIBILITIES))
        with self.db.write() as session:
            row = self._own_row(session, conversation_id)
            row.visibility = visibility
            session.add(row)

    def branch(self, conversation_id: str, up_to: str | None = None,
               title: str | None = None) -> str:
        """Copy a conversation (anyone's that this person can read) into a new one of theirs.

        Messages keep their order, text, parameters and branches; generations keep their
        receipts, images and checks (images are shared by hash, so nothing is copied on disk);
        compare picks among copied generations come along. Every new row is this person's.

        Args:
            conversation_id: The thread to copy.
            up_to: Copy only the messages up to and including this one.
            title: The new conversation's title (default: the source's).

        Returns:
            The new conversation's id.

        Raises:
            NotFoundError: no such conversation or message (or not visible to this person).
        """
        user = self.db.user
        with self.db.write() as session:
            source = session.get(ConversationRow, conversation_id)
            if source is None:
                raise NotFoundError(f"no conversation with id {conversation_id!r}",
                                    "list them with: chatimg ls")
            messages = list(session.exec(
                select(MessageRow).where(MessageRow.conversation_id == conversation_id)
                .order_by(col(MessageRow.created_at), col(MessageRow.id))
            ).all())
            if up_to is not None:
                ids = [m.id for m in messages]
                if up_to not in ids:
                    raise NotFoundError(f"no message {up_to!r} in this conversation")
                messages = messages[: ids.index(up_to) + 1]
            now = utcnow()
            new = ConversationRow(id=new_id(), title=title or source.title,
                                  default_model=source.default_model, created_at=now,
                                  updated_at=now, owner=user, visibility="private")
            session.add(new)
            session.flush()
            message_ids = {m.id: new_id() for m in messages}
            for message in messages:
                session.add(MessageRow(**{
                    **_columns(message), "id": message_ids[message.id],
                    "conversation_id": new.id, "author": user,
                    "parent_id": message_ids.get(message.parent_id or ""),
                }))
                session.flush()  # in order: a branch's parent is inserted before it
            generation_ids = self._copy_generations(session, message_ids, user)
            self._copy_picks(session, conversation_id, new.id, generation_ids)
        return new.id

    @staticmethod
    def _copy_generations(session: Session, message_ids: dict[str, str],
                          user: str | None) -> dict[str, str]:
        rows = list(session.exec(
            select(GenerationRow).where(col(GenerationRow.message_id).in_(list(message_ids)))
            .order_by(col(GenerationRow.queued_at), col(GenerationRow.id))
        ).all()) if message_ids else []
        mapping = {row.id: new_id() for row in rows}
        for row in rows:
            status = "interrupted" if row.status in ("queued", "running") else row.status
            session.add(GenerationRow(**{
                **_columns(row), "id": mapping[row.id], "message_id": message_ids[row.message_id],
                "fallback_of": mapping.get(row.fallback_of or ""), "status": status,
                "owner_host": None, "owner_pid": None, "owner_start": None, "author": user,
            }))
        session.flush()
        if not mapping:
            return mapping
        links = session.exec(select(GenerationAssetRow).where(
            col(GenerationAssetRow.generation_id).in_(list(mapping)))).all()
        for link in links:
            session.add(GenerationAssetRow(**{**_columns(link),
                                              "generation_id": mapping[link.generation_id]}))
        checks = session.exec(select(ValidationRow).where(
            col(ValidationRow.generation_id).in_(list(mapping)))).all()
        for check in checks:
            session.add(ValidationRow(**{**_columns(check), "id": None,
                                         "generation_id": mapping[check.generation_id or ""]}))
        return mapping

    @staticmethod
    def _copy_picks(session: Session, source_id: str, target_id: str,
                    generation_ids: dict[str, str]) -> None:
        picks = session.exec(select(PickRow).where(PickRow.conversation_id == source_id)).all()
        for pick in picks:
            compared = list(pick.generation_ids or ())
            if pick.winner_id in generation_ids and all(g in generation_ids for g in compared):
                session.add(PickRow(**{
                    **_columns(pick), "id": new_id(), "conversation_id": target_id,
                    "generation_ids": [generation_ids[g] for g in compared],
                    "winner_id": generation_ids[pick.winner_id],
                }))


def _columns(row: Any) -> dict[str, Any]:
    """A row's column values (to build a copy)."""
    return {column.key: getattr(row, column.key) for column in sa.inspect(type(row)).columns}
