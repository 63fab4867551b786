"""The main screen's team half: live updates from other processes, who may read a
conversation (the visibility toggle), and branching a teammate's thread into one's own.

The store's change feed (``chatimg.store.changes``) runs on its own thread and only posts a
``LiveChange``; the screen then reloads the sidebar and, when the change is in the open
conversation, loads the thread in a worker and adds what is new: messages at the end, new or
changed generations on their cards. While a send of this app is running the refresh waits for
it, so a message is never shown twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from chatimg.errors import ChatImgError
from chatimg.safetext import shown
from chatimg.tui.screens.sending import Sending
from chatimg.tui.widgets.thread import WINDOW

if TYPE_CHECKING:
    from chatimg.store.changes import Change, ChangeFeed
    from chatimg.studio import Studio


@dataclass
class LiveChange(Message):
    """Another process (or person) changed the store."""

    change: Change

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LiveChange) and message.change == self.change


class TeamView(Sending):
    """Live updates, visibility and branching for ``MainScreen``."""

    studio: Studio
    conversation_id: str | None
    thread_loaded: bool
    feed: ChangeFeed | None = None
    live_pending: bool = False
    """A change arrived while a send or a refresh was running: refresh once it is done."""
    refreshing: bool = False

    def open_conversation(self, conversation_id: str | None,
                          scroll_y: float | None = None) -> None:
        raise NotImplementedError

    def target_conversation(self) -> str | None:
        raise NotImplementedError

    # -- live updates ---------------------------------------------------------------------------

    def start_live(self) -> None:
        """Start listening for other processes' writes."""
        if self.feed is None:
            self.feed = self.studio.change_feed()
            self.feed.start(self._announce)

    def _announce(self, change: Change) -> None:
        """On the feed's thread: hand the change to the screen (posting is thread-safe)."""
        self.post_message(LiveChange(change))

    def stop_live(self) -> None:
        """Stop listening (the feed's thread ends within half a second)."""
        if self.feed is not None:
            self.feed.stop()
            self.feed = None

    def on_live_change(self, message: LiveChange) -> None:
        self.reload_sidebar()
        if self.conversation_id is not None and \
                message.change.conversation_id in (None, self.conversation_id):
            self.refresh_open_thread()

    def refresh_open_thread(self) -> None:
        """Add to the open thread what was written elsewhere (in a worker, one at a time)."""
        if self.conversation_id is None:
            return
        if self.running or not self.thread_loaded or self.refreshing:
            self.live_pending = True
            return
        self.live_pending = False
        self.refreshing = True
        self.run_worker(self._refresh_thread(self.conversation_id), group="live",
                        name="live-refresh", exit_on_error=False)

    def sends_settled(self) -> None:
        """A send finished: apply what arrived while it ran."""
        if self.live_pending and not self.running:
            self.refresh_open_thread()

    async def _refresh_thread(self, conversation_id: str) -> None:
        try:
            await self._add_new(conversation_id)
        finally:
            self.refreshing = False
        if self.live_pending:  # more came while this one loaded
            self.refresh_open_thread()

    async def _add_new(self, conversation_id: str) -> None:
        try:
            thread = await asyncio.to_thread(self.studio.load_thread, conversation_id,
                                             last=WINDOW)
        except ChatImgError:  # deleted or no longer shared: the sidebar reload shows it
            return
        if conversation_id != self.conversation_id or not self.thread_loaded:
            return
        if self.running:
            self.live_pending = True
            return
        view = self.thread
        known = view.shown_message_ids()
        fresh = [m for m in thread.messages if m.id not in known]
        for message in thread.messages:
            block = view.block(message.id) if message.id in known else None
            for generation in message.generations:
                if self.generations.get(generation.id) == generation:
                    continue
                self.remember(generation, message.text)
                card = view.card(generation.id)
                if card is not None:
                    card.update_generation(generation)
                elif block is not None:
                    block.add_card(generation.id, generation.model, generation)
        await view.append_messages(fresh)

    # -- visibility and branching ---------------------------------------------------------------

    def action_toggle_visibility(self) -> None:
        """Make the open (or highlighted) conversation team-visible, or private again."""
        target = self.target_conversation()
        if target is None:
            self.notify("open a conversation first")
            return
        try:
            conversation = self.studio.toggle_visibility(target)
        except ChatImgError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.reload_sidebar()
        title = shown(conversation.title) or "untitled"
        if self.studio.user is None:
            self.notify(f"“{title}” is marked {conversation.visibility} (this history is "
                        "single-user: nobody else reads it)")
        elif conversation.visibility == "team":
            self.notify(f"“{title}” is visible to your team")
        else:
            self.notify(f"“{title}” is private: only you can read it")

    def action_branch_conversation(self) -> None:
        """Copy the open conversation (a teammate's too) into a new one of your own."""
        if self.conversation_id is None:
            self.notify("open a conversation first")
            return
        try:
            conversation = self.studio.branch_conversation(self.conversation_id)
        except ChatImgError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.open_conversation(conversation.id)
        self.reload_sidebar()
        self.notify(f"branched into your own “{shown(conversation.title) or 'untitled'}”")
