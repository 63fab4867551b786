"""What Studio does for teams: who the person is, who may read a conversation, branching a
teammate's thread into one's own, and the change feed that keeps an open app current.
``Studio`` mixes these in; the database enforces the rules (``chatimg.store.team``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatimg import domain

if TYPE_CHECKING:
    from chatimg.store.changes import ChangeFeed
    from chatimg.store.database import Database
    from chatimg.store.repository import Repository


class TeamActions:
    """Team actions (mixed into ``chatimg.studio.Studio``)."""

    db: Database
    repo: Repository

    @property
    def user(self) -> str | None:
        """The database role this Studio acts as; None on SQLite (single-user)."""
        return self.db.user

    def set_visibility(self, conversation_id: str, visibility: str) -> domain.Conversation:
        """Make a conversation ``private`` (only its owner reads it) or ``team``-visible.

        Raises:
            InvalidRequestError: neither value.
            NotFoundError: no such conversation.
            NotPermittedError: it belongs to someone else.
        """
        self.repo.sharing.set_visibility(conversation_id, visibility)
        return self.repo.get_conversation(conversation_id)

    def toggle_visibility(self, conversation_id: str) -> domain.Conversation:
        """Switch a conversation between ``private`` and ``team``; return it as stored."""
        current = self.repo.get_conversation(conversation_id).visibility
        return self.set_visibility(conversation_id, "private" if current == "team" else "team")

    def branch_conversation(self, conversation_id: str, up_to: str | None = None,
                            title: str | None = None) -> domain.Conversation:
        """Copy a readable conversation (a teammate's too) into a new private one of one's own.

        Args:
            conversation_id: The thread to copy.
            up_to: Copy the messages up to and including this one only.
            title: The copy's title (default: the source's).
        """
        new_id = self.repo.sharing.branch(conversation_id, up_to, title)
        return self.repo.get_conversation(new_id)

    def change_feed(self) -> ChangeFeed:
        """A listener for other processes' writes (LISTEN/NOTIFY on PostgreSQL,
        ``data_version`` on SQLite); the caller starts and stops it."""
        from chatimg.store.changes import open_feed

        return open_feed(self.db)
