"""A long thread builds only the cards on screen; the rest wait as slots until scrolled to."""

from __future__ import annotations

from typing import Any

from tests.seeded import add_finished_layout
from tests.tui.conftest import SIZE, ready, wait_until

GENERATIONS = 500


def _seed_long_thread(count: int) -> str:
    """A conversation of ``count`` messages with one stored image each; opened on start."""
    from chatimg.engines.layout import render
    from chatimg.imaging import encode_png
    from chatimg.studio import Studio
    from chatimg.tui.state import UiState, save_state

    studio = Studio.open()
    try:
        long = studio.create_conversation("long thread", "layout")
        stored = studio.assets.put(encode_png(render('"LONG"', 1, 128, 128)))
        for index in range(count):
            add_finished_layout(studio, long.id, f'"poster {index}"', stored, index)
        save_state(UiState(conversation_id=long.id))
        return long.id
    finally:
        studio.close()


def _on_screen(screen: Any, widget: Any) -> bool:
    return bool(widget.region.height) and screen.thread.region.overlaps(widget.region)


def _visible_images_drawn(screen: Any) -> bool:
    from chatimg.tui.widgets.image import CardImage

    return all(image.loaded for image in screen.query(CardImage) if _on_screen(screen, image))


async def test_a_500_generation_thread_builds_only_the_visible_cards(make_app: Any) -> None:
    from chatimg.tui.widgets.thread import WINDOW

    conversation_id = _seed_long_thread(GENERATIONS)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.conversation_id == conversation_id
        thread = screen.thread
        await wait_until(pilot, lambda: bool(thread.cards()), what="the visible cards")
        await wait_until(pilot, lambda: _visible_images_drawn(screen), what="their thumbnails")
        await pilot.pause()
        cards, slots = thread.cards(), thread.slots()
        # the window holds 30 messages; at 40 rows only a few cards fit on screen
        assert len(cards) + len(slots) == WINDOW
        assert 1 <= len(cards) <= 4, len(cards)
        assert thread.scroll_y == thread.max_scroll_y  # opened at the newest message
        assert all(_on_screen(screen, card) for card in cards)
        assert not any(_on_screen(screen, slot) for slot in slots)
        newest = cards[-1].generation
        assert newest is not None and newest.params["seed"] == GENERATIONS - 1

        # scrolling builds what comes into view, and only that
        thread.scroll_to(y=thread.max_scroll_y // 2, animate=False, immediate=True)
        await pilot.pause()
        await wait_until(pilot, lambda: not any(_on_screen(screen, slot)
                                                for slot in thread.slots()),
                         what="the middle of the window built")
        assert len(thread.cards()) <= 8
        assert len(thread.cards()) + len(thread.slots()) == WINDOW


def _seed_of(widget: Any) -> int:
    return int(widget.generation.params["seed"])


async def test_keys_move_onto_cards_that_were_slots_and_ctrl_up_finds_the_newest(
        make_app: Any) -> None:
    from chatimg.tui.widgets.card import GenerationCard

    _seed_long_thread(60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        await wait_until(pilot, lambda: bool(thread.cards()), what="the visible cards")
        assert thread.slots()  # the window is long enough to start with slots

        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard),
                         what="the newest card focused")
        assert _seed_of(app.focused) == 59

        # up past the newest card's only image: the card above, built from its slot
        for expected in (58, 57):
            await pilot.press("up")

            def moved(seed: int = expected) -> bool:
                return isinstance(app.focused, GenerationCard) and _seed_of(app.focused) == seed

            await wait_until(pilot, moved, what=f"card {expected} focused")
            focused = app.focused

            def in_view(widget: Any = focused) -> bool:
                return _on_screen(screen, widget)

            await wait_until(pilot, in_view, what="the focused card scrolled into view")
        assert not any(slot.generation.params["seed"] in (58, 57) for slot in thread.slots())

        # scrolled away to the top of the window, ctrl+up comes back to the newest card
        thread.scroll_to(y=2, animate=False, immediate=True)
        await pilot.pause()
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard)
                         and _seed_of(app.focused) == 59, what="the newest card again")
        newest = app.focused
        await wait_until(pilot, lambda: _on_screen(screen, newest), what="it in view")
