"""The conversation list: newest first, filtered as you type (titles and prompt text).

An ``OptionList`` (one renderable per row, not one widget per row) keeps 1,000+ conversations
fast. The sidebar only announces (``Filter`` as you type, ``Open``); the screen queries the store
in a thread worker, so typing never waits on the database, and hands the rows to ``show``.
Each row ends with how long ago the conversation changed ("2m", "3h", "yesterday"); a timer
rewrites the rows whose time reads differently (once a minute, never per frame).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from chatimg.safetext import shown
from chatimg.tui.widgets.typing_order import OrderedInput, focus_now

if TYPE_CHECKING:
    from chatimg import domain

LIMIT = 2000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def relative_time(then: datetime, now: datetime) -> str:
    """How long ago ``then`` was, short: ``now``, ``5m``, ``3h``, ``yesterday``, ``4d``,
    ``12 Mar``, ``Mar 2025`` (calendar days in local time)."""
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    local_then, local_now = then.astimezone(), now.astimezone()
    days = (local_now.date() - local_then.date()).days
    if days <= 0:
        return f"{int(seconds // 3600)}h"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days}d"
    if local_then.year == local_now.year:
        return f"{local_then.day} {_MONTHS[local_then.month - 1]}"
    return f"{_MONTHS[local_then.month - 1]} {local_then.year}"


def conversation_label(conversation: domain.Conversation, when: str, width: int = 0,
                       user: str | None = None) -> Content:
    """One row: the title, then muted the count of messages and how long ago it changed
    (``when``, from ``relative_time``); on a team database also the owner (when not
    ``user``) and a mark for team-visible ones.

    With ``width`` (cells) the title is cut so the count, time and marks always show.
    """
    count = f"{conversation.message_count} · " if conversation.message_count else ""
    suffix = f"  {count}{when}"
    if conversation.owner is not None and conversation.owner != user:
        suffix += f"  {shown(conversation.owner)}"
    if conversation.owner is not None and conversation.visibility == "team":
        suffix += "  team"
    title = shown(conversation.title) or "untitled"
    if width and cell_len(title) > max(4, width - len(suffix)):
        cut = Content(title).truncate(max(4, width - len(suffix)), ellipsis=True)
        return Content.assemble(cut, (suffix, "$foreground-muted"))
    return Content.assemble(title, (suffix, "$foreground-muted"))


class ConversationList(OptionList):
    """The rows, one line per conversation. Moving the highlight redraws the two rows it
    leaves and reaches, not every row on screen (``OptionList`` repaints the whole list:
    3-6 ms a keypress with the sidebar full, and on every open)."""

    highlighted: reactive[int | None] = reactive(None, repaint=False)

    class Resized(Message):
        """The list's size changed: its rows are fitted to its width."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._scrollbars_for: tuple[Size, Size, Size] | None = None
        """(size, container size, rows) the scrollbars were last fitted to."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        # Textual's ScrollView compares the virtual size the compositor passes (for a list,
        # only its visible region) with the list's own (every row): they always differ, so
        # every layout of the screen, wherever it happens, redrew this list's scrollbar in a
        # frame of its own (with the thread's scrollbar, a frame as wide as both: ~10 ms).
        # Fitted again only when something it depends on changed. (This overrides a private
        # Textual method; tests/tui/test_sidebar_flow.py checks the scrollbar still follows.)
        fitted = (size, container_size, self.virtual_size)
        if fitted == self._scrollbars_for:
            return False
        self._scrollbars_for = fitted
        return super()._size_updated(size, virtual_size, container_size, layout)

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def _watch_highlighted(self, old: int | None, new: int | None) -> None:
        # (Textual calls this before OptionList's own watcher, which scrolls to the row)
        if self.virtual_size.height != self.option_count:  # a row of two lines: all of them
            self.refresh()
            return
        for index in (old, new):
            if index is not None:
                self.refresh_line(index)


class Sidebar(Vertical):
    """Filter box and conversation list."""

    refresh_seconds: ClassVar[float] = 60.0
    """How often the rows' relative times are brought up to date."""

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
        self._shown: list[tuple[str, int]] = []
        """(relative time, width) each row was drawn with."""
        self._label_cache: dict[tuple[str, str, int, str, int, str | None, str], Content] = {}
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """Now (tests move it)."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield OrderedInput(placeholder="filter conversations…", id="filter", compact=True)
        yield ConversationList(id="conversations", compact=True)

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(self.refresh_seconds, self.refresh_times, name="sidebar-times")

    def _row_width(self, rows: int | None = None) -> int:
        """The cells across a row has: the list's, or before the list is laid out (it was
        covered by its loading indicator until now) what it will get, the sidebar's width
        less the list's scrollbar when ``rows`` will not fit. The rows are fitted again
        whenever the list's size changes (``ConversationList.Resized``)."""
        options = self.query_one("#conversations", OptionList)
        width = options.scrollable_content_region.width
        if width or rows is None:
            return width
        region = self.scrollable_content_region
        search = self.query_one("#filter", Input)
        height = region.height - search.outer_size.height - search.styles.margin.height
        scrollbar = options.styles.scrollbar_size_vertical if rows > height else 0
        return max(0, region.width - scrollbar)

    def _label(self, conversation: domain.Conversation, when: str, width: int) -> Content:
        key = (conversation.id, conversation.title, conversation.message_count, when, width,
               conversation.owner, conversation.visibility)
        label = self._label_cache.get(key)
        if label is None:
            if len(self._label_cache) > 4 * LIMIT:
                self._label_cache.clear()
            label = self._label_cache[key] = conversation_label(conversation, when, width,
                                                                self.user)
        return label

    def refresh_times(self) -> None:
        """Rewrite the rows whose relative time (or fitting width) changed.

        Rows already showing a date ("12 Mar") keep it at the same width without any time
        arithmetic, so a minute's refresh of a long list costs little; many changed rows are
        redrawn at once, keeping the highlight and the scroll position.
        """
        if not self.display or not self.conversations:
            return
        options = self.query_one("#conversations", OptionList)
        now, width = self.clock(), self._row_width()
        changed: list[tuple[int, str]] = []
        for index, conversation in enumerate(self.conversations):
            shown_when, shown_width = self._shown[index]
            if shown_width == width and " " in shown_when:
                continue  # a date: it stays until the list is next loaded
            when = relative_time(conversation.updated_at, now)
            if (when, width) != (shown_when, shown_width):
                changed.append((index, when))
        for index, when in changed:
            self._shown[index] = (when, width)
        if len(changed) > 30:
            highlighted, scroll_y = options.highlighted, options.scroll_y
            options.set_options(
                Option(self._label(c, when, width), id=c.id)
                for c, (when, width) in zip(self.conversations, self._shown, strict=True))
            options.highlighted = highlighted
            options.scroll_to(y=scroll_y, animate=False, immediate=True)
            return
        for index, when in changed:
            options.replace_option_prompt_at_index(
                index, self._label(self.conversations[index], when, width))

    def on_conversation_list_resized(self, event: ConversationList.Resized) -> None:
        # the rows are fitted to the list's width: a resize of the terminal or of the sidebar
        # reaches them through it, and so does the list's first layout (rows shown while it
        # was covered by its loading indicator)
        event.stop()
        self.call_after_refresh(self.refresh_times)

    def row_text(self, conversation_id: str) -> str:
        """What a conversation's row reads (for tests and screen readers)."""
        options = self.query_one("#conversations", OptionList)
        option = options.get_option_at_index(options.get_option_index(conversation_id))
        prompt = option.prompt
        return prompt.plain if isinstance(prompt, Content) else str(prompt)

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
        now, width = self.clock(), self._row_width(len(conversations))
        self._shown = [(relative_time(c.updated_at, now), width) for c in conversations]
        options.set_options(Option(self._label(c, when, width), id=c.id)
                            for c, (when, width) in zip(conversations, self._shown, strict=True))
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
            focus_now(options)

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
