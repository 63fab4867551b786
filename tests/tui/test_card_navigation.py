"""Issue 12, acceptance 4 (navigation): from the composer, one key to the newest card,
Up/Down (and j/k) through cards and the images of a grid, each scrolled into view, Enter opens
the viewer, Esc comes back to the same image, one key back to the composer; keys remap."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import ready, type_and_send, wait_until


def _visible(screen: Any, widget: Any) -> bool:
    """The widget lies wholly inside the thread's visible region."""
    view, region = screen.thread.region, widget.region
    return bool(region.height) and view.y <= region.y and region.bottom <= view.bottom


async def _three_messages(pilot: Any, screen: Any) -> list[Any]:
    """Cards: one image, a grid of four, one image (newest last)."""
    await type_and_send(pilot, "/size 256x256")
    for count, prompt in ((1, '"FIRST"'), (4, '"GRID"'), (1, '"LAST"')):
        await type_and_send(pilot, f"/n {count}")
        await type_and_send(pilot, prompt)
        await wait_until(pilot, lambda: screen.running == 0 and all(
            card.status == "succeeded" and card.grid is not None
            for card in screen.thread.cards()), what=f"card for {prompt}")
    cards: list[Any] = screen.thread.cards()
    assert [card.image_count for card in cards] == [1, 4, 1]
    return cards


async def test_keyboard_round_trip_from_the_composer(make_app: Any) -> None:
    from chatimg.tui.screens.viewer import ViewerScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:  # small: cards do not all fit
        screen = await ready(pilot)
        first, grid, last = await _three_messages(pilot, screen)
        assert app.focused is screen.composer.prompt

        async def at(card: Any, image: int) -> None:
            await wait_until(pilot, lambda: app.focused is card and card.selected == image,
                             what=f"image {image + 1} of {card.generation_id[-4:]}")
            tile = card.grid.on_screen(image) if card.grid is not None else card
            await wait_until(pilot, lambda: _visible(screen, tile), what="scrolled into view")
            assert (screen.selected_id, screen.selected_image) == (card.generation_id, image)

        await pilot.press("ctrl+up")  # one key: the newest card
        await at(last, 0)
        await pilot.press("up")  # into the grid's bottom row
        await at(grid, 2)
        await pilot.press("right")
        await at(grid, 3)
        await pilot.press("k")  # up a row inside the grid
        await at(grid, 1)
        await pilot.press("up")  # past the top row: the card above
        await at(first, 0)
        await pilot.press("up")  # the first card stays
        await at(first, 0)
        await pilot.press("down")  # into the grid's top row
        await at(grid, 0)
        await pilot.press("j")
        await at(grid, 2)
        await pilot.press("enter")  # the viewer on that image
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), what="viewer")
        viewer = app.screen
        assert (viewer.current.generation.id, viewer.current.image) == (grid.generation_id, 2)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="back")
        await at(grid, 2)
        await pilot.press("down")  # below the last row: the next card
        await at(last, 0)
        await pilot.press("ctrl+e")  # one key back to the composer
        await wait_until(pilot, lambda: app.focused is screen.composer.prompt, what="composer")
        # the newest-card key works again from the composer, after the walk
        await pilot.press("ctrl+up")
        await at(last, 0)


async def test_viewer_steps_return_to_the_image_shown_last(make_app: Any) -> None:
    """``n`` in the viewer moves on; Esc lands on the card and image shown last."""
    from chatimg.tui.screens.viewer import ViewerScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        first, grid, last = await _three_messages(pilot, screen)
        first.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), what="viewer")
        for _ in range(3):  # first card's image, then grid images 1, 2, 3
            await pilot.press("n")
        viewer = app.screen
        await wait_until(pilot, lambda: viewer.index == 3, what="three steps")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen and app.focused is grid
                         and grid.selected == 2, what="the grid's third image")
        del last


async def test_navigation_keys_follow_the_keymap(make_app: Any, config_file: Any) -> None:
    from chatimg.tui.screens.viewer import ViewerScreen

    with config_file.open("a", encoding="utf-8") as handle:
        handle.write('\n[keymap]\n"thread.newest_card" = "f5"\n"card.view" = "o"\n'
                     '"card.open" = "O"\n"card.down" = "n"\n"card.up" = "b"\n')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        first, grid, last = await _three_messages(pilot, screen)
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.focused is last, what="newest card by f5")
        await pilot.press("b")
        await wait_until(pilot, lambda: app.focused is grid and grid.selected == 2,
                         what="up remapped")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.focused is last, what="down remapped")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), what="viewer")
        rows = {row[3]: row[1] for row in app.help_rows()}
        assert rows["thread.newest_card"] == "f5" and rows["card.view"] == "o"
        del first
