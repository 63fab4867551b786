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
from textual.screen import Screen

from chatimg.errors import ChatImgError
from chatimg.tui.widgets.card import CardLeave, CardSelected, GenerationCard

if TYPE_CHECKING:
    from chatimg.studio import Studio
    from chatimg.tui.widgets.message_block import CardSlot
    from chatimg.tui.widgets.thread import ThreadView

NEWEST_CARD = Binding("ctrl+up", "focus_newest_card", "Newest card", show=False,
                      id="thread.newest_card")
"""The main screen's binding that focuses the newest card (the composer is ``ctrl+e``)."""


class CardNavigation(Screen[None]):
    """Focus moves between cards and images, and the viewer (mixed into ``MainScreen``)."""

    studio: Studio
    selected_id: str | None
    selected_image: int

    @property
    def thread(self) -> ThreadView:
        raise NotImplementedError

    def on_card_selected(self, event: CardSelected) -> None:
        self.selected_id, self.selected_image = event.generation_id, event.image

    def on_card_leave(self, event: CardLeave) -> None:
        """Up past a card's first row: the card above (its last row); down: the one below."""
        entries = self.thread.entries()
        position = next((i for i, entry in enumerate(entries)
                         if entry.generation_id == event.generation_id), None)
        if position is None:
            return
        target = position + event.direction
        if 0 <= target < len(entries):
            self._enter(entries[target], event.direction, event.column)
        elif event.direction < 0 and self.thread.first_shown:
            self.run_worker(self.thread.show_earlier(), group="earlier",
                            name="earlier", exit_on_error=False)

    def action_focus_newest_card(self) -> None:
        """Focus the newest card (its first image), scrolled into view."""
        entries = self.thread.entries()
        if not entries:
            self.notify("no cards yet: send a prompt first")
            return
        self._enter(entries[-1], 1, 0)

    def _enter(self, entry: GenerationCard | CardSlot, direction: int, column: int) -> None:
        """Focus ``entry``'s card (built first when it is a slot: once it is mounted)."""
        if isinstance(entry, GenerationCard):
            entry.enter(direction, column)
            return
        card = self.thread.build_card(entry)
        self.call_after_refresh(card.enter, direction, column)

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

