"""The open conversation: user messages, one card per generation, model-switch markers, and
a "↳ branch of #N" line on a message sent as a branch of (or a reply to) an earlier one.

Long threads are windowed: opening at its end, the screen reads only the newest messages that
fill the view (``thread_layout.read_opening``; a restored position, the ``WINDOW`` it was saved
in) and mounts only those; older ones are mounted a few screens at a time, and read
``WINDOW`` at a time, when the person scrolls up to them (or pages up, moves up from the first
card, or presses the button at the top), so opening a thread costs the same at 50 or 50,000
messages.

Within the window of a long thread, stored generations start as ``CardSlot`` placeholders of
about the card's height (its header line, no image); a slot becomes its ``GenerationCard`` when
it scrolls into view, when the keyboard moves onto it (``build_card``) or when its generation
changes, so opening a long thread builds and decodes only what is on screen, and a restored
scroll position needs no card above or below it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from textual.actions import SkipAction
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button

from chatimg.tui.failures import ForwardFailedWorkers, log
from chatimg.tui.widgets.card import GenerationCard, image_max_columns
from chatimg.tui.widgets.laid_out import LaidOutOnce, Line, ThreadButton
from chatimg.tui.widgets.message_block import (
    CardSlot,
    MessageBlock,
    branch_label,
    message_model,
    switch_marker,
)
from chatimg.tui.widgets.thread_layout import filling, newest_on_screen, wins_of

if TYPE_CHECKING:
    from chatimg import domain

_T = TypeVar("_T")

WINDOW = 30
#: A window with at most this many stored generations builds all its cards at once (bounded
#: work, and every card of a short thread is there at once).
EAGER_CARDS = 8
#: Screens of messages mounted above at a time when scrolling up (fewer, bigger mounts).
_EARLIER_SCREENS = 4
#: Mount more above when the view is this many screens from the top.
_EARLIER_AT = 2
#: Seconds a move up waits at most for the run above to be in place.
_SETTLE_TIMEOUT = 10.0
#: Refreshes the position keeping after a mount above waits at most for its layout.
_PLACE_TRIES = 10
#: Seconds a change of the thread's content waits at most for the change before it.
_CHANGE_WAIT = 5.0


def _is_entry(widget: Widget) -> TypeGuard[GenerationCard | CardSlot]:
    """Whether ``widget`` stands for a shown generation: its card, or its slot until built."""
    return isinstance(widget, GenerationCard) or (isinstance(widget, CardSlot)
                                                  and not widget.built)


def _log_failure(change: asyncio.Task[Any]) -> None:
    """Log a change of the content that failed after its caller was cancelled."""
    if not change.cancelled() and change.exception() is not None:
        log.warning("a change of the thread's content failed", exc_info=change.exception())


def _empty_hint() -> Line:
    """What an empty thread shows."""
    return Line("Type a prompt below and press Enter. /help lists commands.",
                classes="empty-hint")


class ThreadView(LaidOutOnce, VerticalScroll, ForwardFailedWorkers):
    """Messages of the open conversation, newest at the bottom."""

    class Scrolled(Message):
        """The person scrolled (the screen saves the position, debounced)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ThreadView.Scrolled)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.messages: list[domain.Message] = []
        """The loaded messages (the newest of the conversation; older windows come first)."""
        self.unloaded = 0
        """Messages before ``messages`` that are not loaded yet."""
        self.first_shown = 0
        """Place in the conversation (from 0) of the first mounted message."""
        self.parents: dict[str, tuple[int, str]] = {}
        """Branch parents that are not loaded: id → (1-based place, text)."""
        self.fetch_earlier: Callable[[str, int], Awaitable[domain.Thread | None]] | None = None
        """Loads the ``n`` messages before a message id (the screen's store call); ``None``:
        nothing is loaded beyond ``messages``."""
        self.last_model: str | None = None
        self.conversation_id: str | None = None
        self.wins: dict[str, int] = {}
        """Compare wins per generation id (from the conversation's picks)."""
        self.last_scroll_y = 0.0
        """Where the person last scrolled to (kept for the state file)."""
        self.stick_to_end = True
        """Follow the newest content as it grows, until the person scrolls up."""
        self.user: str | None = None
        """The person using the app (team databases): the author of messages sent here."""
        self.lazy = False
        """Stored cards start as slots (a long thread; see ``EAGER_CARDS``)."""
        self._earlier_settled: asyncio.Future[None] | None = None
        """Resolved once the run of messages mounting above is in place (or failed)."""
        self._last_change: asyncio.Task[Any] | None = None
        """The latest change of the content (``_whole``): the next one waits for it."""
        self._changes: set[asyncio.Task[Any]] = set()

    def compose(self):  # type: ignore[no-untyped-def]
        yield _empty_hint()

    async def show_thread(self, thread: domain.Thread | None,
                          scroll_y: float | None = None) -> None:
        """Replace the content with ``thread`` (``None`` for a new, empty conversation).

        Scrolls to the end, or to ``scroll_y`` (a restored position). Runs whole, after any
        change of the content still under way, even when the caller is cancelled (an open
        replaced by the next one): see ``_whole``.
        """
        await self._whole(self._show_thread(thread, scroll_y))

    async def _show_thread(self, thread: domain.Thread | None, scroll_y: float | None) -> None:
        with self.app.batch_update():
            anchored = await self._replace_content(thread, scroll_y)
        if anchored:
            self.call_after_refresh(self.anchor, False)
        if scroll_y is None:
            self.stick_to_end = True
            self.call_after_refresh(self._follow_end)
        else:
            self.stick_to_end = False
            self.call_after_refresh(self.scroll_to, y=scroll_y, animate=False, immediate=True)
        self.call_after_refresh(self.build_visible)

    async def _replace_content(self, thread: domain.Thread | None,
                               scroll_y: float | None) -> bool:
        await self.remove_children()
        self._settle_earlier()
        self.messages = list(thread.messages) if thread else []
        self.unloaded = thread.earlier if thread else 0
        self.parents = dict(thread.parents) if thread else {}
        self.conversation_id = thread.conversation.id if thread else None
        self.wins = wins_of(thread) if thread else {}
        size = self.card_area()
        local, rows = self._first_mounted(size, scroll_y is None)
        self.first_shown = self.unloaded + local
        self.last_model = None
        widgets: list[Any] = []
        if self.first_shown:
            widgets.append(self._earlier_button())
        if not self.messages:
            widgets.append(_empty_hint())
        previous = self.messages[local - 1] if local else None
        self.last_model = message_model(previous) if previous else None
        shown_messages = self.messages[local:]
        self.lazy = bool(self.first_shown) or \
            sum(len(m.generations) for m in shown_messages) > EAGER_CARDS
        on_screen: frozenset[str] = frozenset()
        if self.lazy and scroll_y is None:  # opens at its end: what shows there is built now
            on_screen = frozenset(g.id for g in newest_on_screen(
                shown_messages, size, image_max_columns(), self.wins))
        widgets.extend(self._blocks(shown_messages, on_screen))
        anchored = False
        if scroll_y is None and rows > size[1]:
            # a thread taller than the view opening at its end is laid out there from the
            # first frame on (not at the top first, then scrolled and drawn again whole);
            # our own following of the end takes over after it
            self.anchor()
            anchored = True
        await self.mount_all(widgets)
        return anchored

    def _first_mounted(self, size: tuple[int, int], at_end: bool) -> tuple[int, int]:
        """Which loaded message (index) the thread mounts from, and about how many rows from
        there to the end (0 when not estimated): when it opens at its end only as many as
        fill the view (those above mount as the person scrolls up to them); a restored
        position gets the whole window it was saved in."""
        if not at_end:
            return max(0, len(self.messages) - WINDOW), 0
        return self._filling(len(self.messages), size, 1)

    def _filling(self, end: int, size: tuple[int, int], screens: int) -> tuple[int, int]:
        """Where a run of loaded messages ending before ``end`` starts that fills the view
        ``screens`` times over (at most ``WINDOW`` messages, at least one), and its rows."""
        return filling(self.messages, end, size, image_max_columns(), self.wins, screens,
                       start=max(0, end - WINDOW))

    async def _whole(self, change: Coroutine[Any, Any, _T]) -> _T:
        """Run ``change`` (mounting and removing the thread's content) after the change before
        it, and to its end even if the caller is cancelled.

        Textual's mount and remove await the widgets' own tasks; a cancel passed on to them
        (a thread's open replaced by the next while it clears the old content) leaves widgets
        on screen that no longer handle messages, and the app unable to quit cleanly. A
        change that outlives its cancelled caller is replaced by the next one in turn; if it
        fails, the log says so (nobody awaits it any more). A change waits at most
        ``_CHANGE_WAIT`` seconds for the one before: one that never ends (a widget whose
        mount hangs) must not stop every later open."""
        before = self._last_change

        async def in_turn() -> _T:
            if before is not None and not before.done():
                _, waiting = await asyncio.wait({before}, timeout=_CHANGE_WAIT)
                if waiting:
                    log.warning("a change of the thread's content still runs after %s s; "
                                "the next one goes ahead", _CHANGE_WAIT)
            return await change

        task = self._last_change = asyncio.create_task(in_turn(), name="thread change")
        self._changes.add(task)  # (the loop keeps only a weak reference to a task)
        task.add_done_callback(self._changes.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_log_failure)
            raise

    def card_area(self) -> tuple[int, int]:
        """The cells a card's images are fitted to (the thread's, or the app's before the
        first layout)."""
        region = self.scrollable_content_region
        if region.width > 0 and region.height > 0:
            return region.width, region.height
        width, height = self.app.size
        return max(20, width * 3 // 4), max(8, height - 8)

    def build_visible(self) -> int:
        """Build the cards of the slots in the viewport; how many were built."""
        if not self.is_attached or not self.size.height:
            return 0
        top = int(self.scroll_y)
        bottom = top + self.size.height
        built = 0
        for block in self.query_children(MessageBlock):
            area = block.virtual_region
            if area.y > bottom:
                break
            if area.bottom < top:
                continue
            for slot in list(block.query_children(CardSlot)):
                y = area.y + slot.virtual_region.y
                if not slot.built and y < bottom and y + slot.virtual_region.height > top:
                    block.build(slot)
                    built += 1
        return built

    def on_resize(self) -> None:
        self.call_after_refresh(self.build_visible)

    def entries(self) -> list[GenerationCard | CardSlot]:
        """Every shown generation in thread order: its card, or its slot until it is built."""
        return [widget for widget in self.query("GenerationCard, CardSlot") if _is_entry(widget)]

    def build_card(self, entry: GenerationCard | CardSlot) -> GenerationCard:
        """``entry``'s card, built now when it is still a slot."""
        if isinstance(entry, GenerationCard):
            return entry
        block = entry.parent
        assert isinstance(block, MessageBlock)
        return block.build(entry)

    def slots(self) -> list[CardSlot]:
        """The stored generations whose cards are not built yet."""
        return [slot for slot in self.query(CardSlot) if not slot.built]

    def _earlier_button(self) -> Button:
        return ThreadButton(f"▲ {self.first_shown} earlier messages", id="earlier")

    def _blocks(self, messages: list[domain.Message],
                cards_now: frozenset[str] = frozenset()) -> list[Any]:
        widgets: list[Any] = []
        numbers = {m_id: number for m_id, (number, _) in self.parents.items()}
        texts = {m_id: text for m_id, (_, text) in self.parents.items()}
        numbers.update((m.id, number) for number, m in enumerate(self.messages, self.unloaded + 1))
        texts.update((m.id, m.text) for m in self.messages)
        for message in messages:
            model = message_model(message)
            if self.last_model is not None and model and model != self.last_model:
                widgets.append(switch_marker(self.last_model, model))
            if model:
                self.last_model = model
            branch = None
            if message.parent_id is not None:
                branch = branch_label(numbers.get(message.parent_id),
                                      texts.get(message.parent_id, ""))
            widgets.append(MessageBlock(message.text, message_id=message.id, model=model,
                                        generations=message.generations, wins=self.wins,
                                        author=message.author, branch=branch,
                                        slot_size=self.card_area() if self.lazy else None,
                                        cards_now=cards_now))
        return widgets

    async def _load_earlier(self) -> bool:
        """Load the window before the loaded messages from the store; whether any came."""
        if not self.unloaded or self.fetch_earlier is None or not self.messages:
            return False
        conversation_id, first = self.conversation_id, self.messages[0]
        thread = await self.fetch_earlier(first.id, WINDOW)
        if thread is None or not thread.messages or conversation_id != self.conversation_id \
                or not self.messages or self.messages[0] is not first:
            return False  # failed (the screen said why), or another thread opened meanwhile
        self.messages[:0] = thread.messages
        self.unloaded = thread.earlier
        self.parents.update(thread.parents)
        return True

    async def show_earlier(self) -> None:
        """Mount the previous window of messages above the current ones (loading it first
        when it is not loaded yet)."""
        if not self.first_shown or self._mounting_earlier:
            return
        # mounting until the position is kept (``_keep_position``)
        self._earlier_settled = asyncio.get_running_loop().create_future()
        mounted = False
        try:
            mounted = await self._mount_earlier()
        finally:
            if not mounted:
                self._settle_earlier()

    @property
    def _mounting_earlier(self) -> bool:
        """A run of messages above is mounting and not in place yet."""
        return self._earlier_settled is not None and not self._earlier_settled.done()

    async def earlier_in_place(self) -> None:
        """Mount the run above (or wait for the one mounting) and return once it is in
        place on screen: what moving up onto the card above the first one waits for."""
        settled = self._earlier_settled
        if settled is None or settled.done():
            await self.show_earlier()
            settled = self._earlier_settled
        if settled is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(settled), _SETTLE_TIMEOUT)

    def _settle_earlier(self) -> None:
        if self._earlier_settled is not None and not self._earlier_settled.done():
            self._earlier_settled.set_result(None)

    async def _mount_earlier(self) -> bool:
        """Mount the run of messages above; whether it did (``_keep_position`` will run)."""
        if self.first_shown - self.unloaded <= 0 and not await self._load_earlier():
            return False
        return await self._whole(self._mount_run_above(self.conversation_id))

    async def _mount_run_above(self, conversation_id: str | None) -> bool:
        local = self.first_shown - self.unloaded
        if conversation_id != self.conversation_id or local <= 0:
            return False  # another thread opened meanwhile
        start, _ = self._filling(local, self.card_area(), _EARLIER_SCREENS)
        chunk = self.messages[start:local]
        self.lazy = True  # an earlier window means a long thread
        saved_last = self.last_model
        self.last_model = message_model(self.messages[start - 1]) if start else None
        widgets = self._blocks(chunk)
        first_existing = next(iter(self.query(MessageBlock)), None)
        if first_existing is not None and self.last_model and first_existing.model and \
                first_existing.model != self.last_model:
            widgets.append(switch_marker(self.last_model, first_existing.model))
        self.last_model = saved_last
        self.first_shown = self.unloaded + start
        anchor = next(iter(self.query("#earlier").results(Button)), None)
        anchor_y = first_existing.virtual_region.y if first_existing is not None else 0
        await self.mount_all(widgets, after=anchor) if anchor else await self.mount_all(
            widgets, before=0)
        if anchor is not None:
            if self.first_shown:
                anchor.label = f"▲ {self.first_shown} earlier messages"
            else:
                await anchor.remove()
        self.call_after_refresh(self._keep_position, first_existing, anchor_y,
                                widgets[0] if widgets else None)
        return True

    def _keep_position(self, anchor: MessageBlock | None, anchor_y: int,
                       mounted: Widget | None = None, tries: int = 0) -> None:
        """Keep what was on screen in place: scroll by how far the block that was first
        moved down (what changed below it, cards built meanwhile, does not count). Waits
        for the refresh that lays out ``mounted`` (the first widget mounted above): on a busy
        machine the refresh after the mount can come before its layout."""
        if mounted is not None and mounted.is_attached and not mounted.outer_size.height \
                and tries < _PLACE_TRIES:
            self.call_after_refresh(self._keep_position, anchor, anchor_y, mounted, tries + 1)
            return
        if anchor is not None and anchor.is_attached:
            moved = anchor.virtual_region.y - anchor_y
            if moved:
                self.scroll_to(y=self.scroll_y + moved, animate=False, immediate=True)
        self._settle_earlier()
        self.call_after_refresh(self.build_visible)
        self._mount_more_if_near_top()  # scrolled on to the top while this run mounted

    def _start_earlier(self) -> None:
        """Mount the run above in a worker, when more come above and none is mounting."""
        if self.first_shown and not self._mounting_earlier:
            self.run_worker(self.show_earlier(), group="earlier", name="earlier",
                            exit_on_error=False)

    def _mount_more_if_near_top(self) -> None:
        """Mount the next run above when the view is near the top."""
        if self.scroll_y <= _EARLIER_AT * self.size.height:
            self._start_earlier()

    def mount_above_first(self, card: GenerationCard) -> None:
        """Mount the run above when ``card`` is the first mounted card."""
        if card.is_attached and self._first_entry() is card:
            self._start_earlier()

    def _first_entry(self) -> GenerationCard | CardSlot | None:
        """The first shown generation's card or slot (``entries()[0]``, without a walk of
        every card of a long thread)."""
        for block in self.query_children(MessageBlock):
            for child in block.children:
                if _is_entry(child):
                    return child
        return None

    def action_page_up(self) -> None:
        """A page up; where less than a page is mounted above (a thread just opened shows
        what fills the view), the run above is mounted first, so the page is a whole one."""
        if not self.allow_vertical_scroll:
            raise SkipAction()
        if self.first_shown and self.scroll_y < self.scrollable_content_region.height:
            self.run_worker(self._page_up_when_placed(), group="page-up", name="page up",
                            exit_on_error=False)
            return
        self.scroll_page_up()

    async def _page_up_when_placed(self) -> None:
        await self.earlier_in_place()
        if self.is_attached:
            self.scroll_page_up()

    def message_number(self, message_id: str) -> int | None:
        """A shown message's 1-based place in the thread (what "branch of #N" names)."""
        for index, block in enumerate(self.query(MessageBlock)):
            if block.message_id == message_id:
                return self.first_shown + index + 1
        return None

    async def add_pending(self, text: str, model: str, branch: str | None = None
                          ) -> MessageBlock:
        """Show a just-sent message before the store has answered (``branch``: its "↳ branch
        of #N" line)."""
        for hint in self.query(".empty-hint"):
            await hint.remove()
        if self.last_model is not None and model != self.last_model:
            await self.mount(switch_marker(self.last_model, model))
        self.last_model = model
        block = MessageBlock(text, model=model, author=self.user, branch=branch)
        await self.mount(block)
        self.stick_to_end = True
        self.call_after_refresh(self._follow_end)
        return block

    async def append_messages(self, messages: list[domain.Message]) -> None:
        """Show messages written elsewhere (a teammate, another process) at the end (in turn
        with any other change of the content, and not once another thread has opened)."""
        if messages:
            await self._whole(self._append(messages, self.conversation_id))

    async def _append(self, messages: list[domain.Message], conversation_id: str | None) -> None:
        if conversation_id != self.conversation_id:
            return
        for hint in self.query(".empty-hint"):
            await hint.remove()
        self.messages.extend(messages)
        await self.mount_all(self._blocks(messages))
        if self.stick_to_end:
            self.call_after_refresh(self._follow_end)

    def block(self, message_id: str) -> MessageBlock | None:
        """The shown block of a message, if it is mounted."""
        for block in self.query(MessageBlock):
            if block.message_id == message_id:
                return block
        return None

    def shown_message_ids(self) -> set[str]:
        """Ids of every message of this thread the view knows (mounted or windowed out)."""
        known = {m.id for m in self.messages}
        known.update(b.message_id for b in self.query(MessageBlock) if b.message_id)
        known.update(c.generation.message_id for c in self.query(GenerationCard)
                     if c.generation is not None)
        known.update(slot.generation.message_id for slot in self.slots())
        return known

    def card(self, generation_id: str, *, build: bool = False) -> GenerationCard | None:
        """The built card of ``generation_id``; with ``build`` a slot's card is built now
        (``None``: not shown, or a slot and not ``build``)."""
        for card in self.query(GenerationCard):
            if card.generation_id == generation_id:
                return card
        if build:
            for slot in self.slots():
                if slot.generation.id == generation_id:
                    return self.build_card(slot)
        return None

    def cards(self) -> list[GenerationCard]:
        """The cards built so far (those on screen, or that were)."""
        return list(self.query(GenerationCard))

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "earlier":
            event.stop()
            await self.show_earlier()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.is_attached and self.app.return_code is None:
            self.last_scroll_y = float(new)
            self.stick_to_end = new >= self.max_scroll_y - 1
            self.post_message(self.Scrolled())
        if self.is_attached and self.lazy:
            self.build_visible()
        if new < old:  # going up
            self._mount_more_if_near_top()

    def watch_virtual_size(self, old: Any, new: Any) -> None:
        if self.stick_to_end and new.height != old.height:
            self.call_after_refresh(self._follow_end)

    def _follow_end(self) -> None:
        if self.stick_to_end and self.max_scroll_y > 0 and self.scroll_y < self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
