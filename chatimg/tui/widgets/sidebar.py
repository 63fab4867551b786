"""The conversation list: newest first, filtered as you type (titles and prompt text).

An ``OptionList`` (one renderable per row, not one widget per row) keeps 1,000+ conversations
fast. The sidebar only announces (``Filter`` as you type, ``Open``); the screen queries the store
in a thread worker, so typing never waits on the database, and hands the rows to ``show``.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from chatimg import domain
from chatimg.safetext import shown

LIMIT = 2000


def conversation_option(conversation: domain.Conversation, user: str | None = None) -> Option:
    """One row: the title, a muted count of messages and, on a team database, the owner
    (when not ``user``) and a mark for team-visible ones."""
    label = Content(shown(conversation.title) or "untitled")
    if conversation.message_count:
        label = label.append(Content.styled(f"  {conversation.message_count}", "$foreground-muted"))
    if conversation.owner is not None and conversation.owner != user:
        label = label.append(Content.styled(f"  {shown(conversation.owner)}", "$accent"))
    if conversation.owner is not None and conversation.visibility == "team":
        label = label.append(Content.styled("  team", "$secondary"))
    return Option(label, id=conversation.id)


class Sidebar(Vertical):
    """Filter box and conversation list."""

    @dataclass
    class Open(Message):
        """Open ``conversation_id``."""

        conversation_id: str

    @dataclass
    class Loaded(Message):
        """The list finished (re)loading."""

        count: int

    @dataclass
    class Filter(Message):
        """Load the conversations matching ``query`` (all of them when it is empty)."""

        query: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.conversations: list[domain.Conversation] = []
        self.current: str | None = None
        self.loaded_once = False
        self.user: str | None = None
        """The person using the app (team databases): their own conversations show no owner."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Input(placeholder="filter conversations…", id="filter", compact=True)
        yield OptionList(id="conversations", compact=True)

    def on_mount(self) -> None:
        self.reload()

    @property
    def query_text(self) -> str:
        return self.query_one("#filter", Input).value

    def reload(self) -> None:
        """Ask the screen to reload the list with the current filter."""
        self.post_message(self.Filter(self.query_text))

    def show(self, query: str, conversations: list[domain.Conversation]) -> None:
        """Show the rows loaded for ``query`` (ignored when the filter has changed since)."""
        if query != self.query_text:
            return
        if self.loaded_once and conversations == self.conversations:
            self.post_message(self.Loaded(len(conversations)))
            return
        self.conversations = conversations
        options = self.query_one("#conversations", OptionList)
        options.set_options(conversation_option(c, self.user) for c in conversations)
        self._highlight_current()
        self.loaded_once = True
        self.post_message(self.Loaded(len(conversations)))

    def set_current(self, conversation_id: str | None) -> None:
        self.current = conversation_id
        self._highlight_current()

    def _highlight_current(self) -> None:
        options = self.query_one("#conversations", OptionList)
        if self.current is None:
            options.highlighted = None
            return
        try:
            options.highlighted = options.get_option_index(self.current)
        except Exception:
            options.highlighted = None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self.post_message(self.Filter(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            options = self.query_one("#conversations", OptionList)
            if options.highlighted is None and options.option_count:
                options.highlighted = 0
            options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Open(event.option.id))

    @property
    def highlighted_id(self) -> str | None:
        options = self.query_one("#conversations", OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id
