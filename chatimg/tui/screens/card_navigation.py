"""The main screen's moves between cards and images, and the full-screen viewer on them.

``CardNavigation`` is the half of ``MainScreen`` that moves focus: a card handles the arrows
(and hjkl) inside its grid and announces ``CardLeave`` past its first or last row, and the
screen focuses the card above or below; ``NEWEST_CARD`` (ctrl+up) focuses the newest card from
anywhere; a card's view key opens the viewer, and Esc there comes back to the card and image
it showed last. Cards scroll the selected image into view themselves. In a long thread a card
may still be a slot (``CardSlot``): moving onto it builds it first.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.binding import Binding

from chatimg.errors import ChatImgError
from chatimg.tui.frames import PacedScreen
from chatimg.tui.widgets.card import CardLeave, CardSelected, GenerationCard

if TYPE_CHECKING:
    from chatimg.studio import Studio
    from chatimg.tui.widgets.message_block import CardSlot
    from chatimg.tui.widgets.thread import ThreadView

NEWEST_CARD = Binding("ctrl+up", "focus_newest_card", "Newest card", show=False,
                      id="thread.newest_card")
"""The main screen's binding that focuses the newest card (the composer is ``ctrl+e``)."""
_RUNS_PER_MOVE = 8
"""Runs above that one burst of Up presses mounts at most (it then stops at the top one)."""


class CardNavigation(PacedScreen[None]):
    """Focus moves between cards and images, and the viewer (mixed into ``MainScreen``)."""

    studio: Studio
    selected_id: str | None
    selected_image: int
    _pending_up = 0
    """Up presses past the first mounted card waiting for the run above to mount."""
    _entering: str | None = None
    """The card focus is on its way to (being built from its slot), by generation id."""

    @property
    def thread(self) -> ThreadView:
        raise NotImplementedError

    def on_card_selected(self, event: CardSelected) -> None:
        self.selected_id, self.selected_image = event.generation_id, event.image

    def on_card_leave(self, event: CardLeave) -> None:
        """Up past a card's first row: the card above (its last row); down: the one below.

        A key that comes while focus is still on its way (a card being built, the run above
        being mounted), or after it left the card the key was pressed on, moves on from where
        focus is going or went, so a held key loses no step.
        """
        origin = self._entering or self._focused_card(event.generation_id)
        entries = self.thread.entries()
        position = _position(entries, origin)
        if position is None:
            return
        target = position + event.direction
        if self._pending_up and event.direction < 0:
            self._pending_up += 1  # the run above is still mounting
        elif 0 <= target < len(entries):
            self._enter(entries[target], event.direction, event.column)
        elif event.direction < 0 and self.thread.first_shown:
            # past the first mounted card: the run above mounts first; every Up pressed
            # meanwhile counts, so a held key walks on once it is there
            self._pending_up = 1
            self.run_worker(self._enter_above(origin, event.column), group="earlier-move",
                            name="earlier-move", exit_on_error=False)

    async def _enter_above(self, generation_id: str, column: int) -> None:
        """Mount the run above (read from the store when it is not loaded yet), then move up
        as many cards as Up was pressed, as Up does between cards."""
        try:
            for _ in range(_RUNS_PER_MOVE):  # bounded, however long the key was held
                await self.thread.earlier_in_place()
                entries = self.thread.entries()
                position = _position(entries, generation_id)
                if position is None:  # another thread opened meanwhile
                    return
                target = position - self._pending_up
                if target >= 0 or not self.thread.first_shown:
                    break
            if position:
                self._enter(entries[max(0, target)], -1, column)
        finally:
            self._pending_up = 0

    def action_focus_newest_card(self) -> None:
        """Focus the newest card (its first image), scrolled into view."""
        entries = self.thread.entries()
        if not entries:
            self.notify("no cards yet: send a prompt first")
            return
        self._enter(entries[-1], 1, 0)

    def _enter(self, entry: GenerationCard | CardSlot, direction: int, column: int) -> None:
        """Focus ``entry``'s card (built first when it is a slot: once it is mounted)."""
        if entry is self.focused:
            self._entering = None
        else:  # focus lands later (Textual moves it on the next turn of the loop)
            self._entering = entry.generation_id
        if isinstance(entry, GenerationCard):
            entry.enter(direction, column)
            return
        card = self.thread.build_card(entry)

        def arrive() -> None:
            if self._entering == card.generation_id:  # not passed by another key meanwhile
                card.enter(direction, column)

        self.call_after_refresh(arrive)

    def _focused_card(self, generation_id: str) -> str:
        """The card focus is on now when it is not ``generation_id``'s any more (a key pressed
        there before focus moved on), else ``generation_id``."""
        focused = self.focused
        if isinstance(focused, GenerationCard) and focused.generation_id:
            return focused.generation_id
        return generation_id

    def focus_arrived(self, widget: object) -> None:
        """Focus landed on ``widget``: a move on its way ends when it reaches its card (or
        focus leaves the cards)."""
        if not isinstance(widget, GenerationCard) or widget.generation_id == self._entering:
            self._entering = None
        if isinstance(widget, GenerationCard):
            # on the first mounted card (a thread just opened mounts what fills the view),
            # the run above mounts once this frame is drawn: the next Up finds it there
            self.call_after_refresh(self.thread.mount_above_first, widget)

    def view_image(self, generation_id: str, image: int) -> None:
        """Open the full-screen viewer on an image; Esc comes back to the card and image the
        viewer showed last."""
        self.run_worker(self._view(generation_id, image), group="viewer-open",
                        name="viewer-open", exclusive=True, exit_on_error=False)

    async def _view(self, generation_id: str, image: int) -> None:
        from chatimg.tui.screens.viewer import viewer_for

        try:
            conversation = await asyncio.to_thread(self.studio.repo.conversation_of_generation,
                                                   generation_id)
            thread = await asyncio.to_thread(self.studio.load_thread, conversation)
            viewer = viewer_for(thread, generation_id, image)
        except ChatImgError as exc:
            self.notify(exc.one_line(), severity="error")
            return

        def closed(_: None) -> None:
            shown_now = viewer.current
            self.return_to(shown_now.generation.id, shown_now.image, generation_id, image)

        self.app.push_screen(viewer, closed)

    def return_to(self, generation_id: str, image: int, fallback_id: str,
                  fallback_image: int) -> None:
        """Focus the card of ``generation_id`` and select ``image`` (else the fallback's)."""
        card = self.thread.card(generation_id, build=True)
        if card is None:
            card, image = self.thread.card(fallback_id, build=True), fallback_image
        if card is None:
            return
        card.selected = image
        if card.is_mounted:
            card.focus(scroll_visible=False)
            card.select(image)
        else:  # just built from its slot
            self.call_after_refresh(self._focus_image, card, image)

    @staticmethod
    def _focus_image(card: GenerationCard, image: int) -> None:
        card.focus(scroll_visible=False)
        card.select(image)

    def on_resize(self) -> None:
        """The terminal changed size: cards fit their images to the new thread height."""
        for card in self.thread.cards():
            card.refit()


def _position(entries: list[GenerationCard | CardSlot], generation_id: str) -> int | None:
    """Where the card (or slot) of ``generation_id`` is among the thread's entries."""
    return next((i for i, entry in enumerate(entries) if entry.generation_id == generation_id),
                None)
