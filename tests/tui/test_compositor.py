"""Moving between cards and scrolling redraw what changed, not the whole screen."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tests.seeded import seed_layout_thread
from tests.tui.conftest import SIZE, ready, wait_until


@contextlib.asynccontextmanager
async def _cards_on_screen(make_app: Any) -> AsyncIterator[tuple[Any, Any, Any]]:
    """An app showing a thread of eight generations' cards: ``(app, pilot, main screen)``."""
    seed_layout_thread(8)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: bool(screen.thread.cards()), what="the cards")
        await pilot.pause()
        yield app, pilot, screen


class _Frames:
    """Records, for each frame the main screen draws, whether it is the whole screen and the
    regions it redraws."""

    def __init__(self, screen: Any) -> None:
        self.compositor = screen._compositor
        self.full = 0
        self.regions: list[Any] = []
        self._render_update = self.compositor.render_update
        self.compositor.render_update = self._drawn

    def _drawn(self, *args: Any, **kwargs: Any) -> Any:
        compositor = self.compositor
        self.full += compositor.size.region in compositor._dirty_regions
        self.regions.extend(compositor._dirty_regions)
        return self._render_update(*args, **kwargs)

    def covers(self, region: Any) -> bool:
        """Whether every cell of ``region`` was redrawn."""
        return all(any(drawn.contains(x, y) for drawn in self.regions)
                   for y in range(region.y, region.bottom) for x in range(region.x, region.right))

    def stop(self) -> None:
        self.compositor.render_update = self._render_update


async def test_moving_between_cards_redraws_the_two_cards_not_the_screen(make_app: Any) -> None:
    from chatimg.tui.widgets.card import GenerationCard

    seed_layout_thread(8)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard), what="a card")
        await pilot.pause()
        for key in ("up", "up", "up", "down", "down"):  # (building cards above, then back)
            left = app.focused

            def moved(left: Any = left) -> bool:
                return app.focused is not left

            frames = _Frames(screen)
            try:
                await pilot.press(key)
                await wait_until(pilot, moved, what=f"focus to move on {key}")
                await pilot.pause()
            finally:
                frames.stop()
            arrived = app.focused
            assert isinstance(arrived, GenerationCard)
            assert frames.full == 0, key
            # the card left and the card reached look different now: both were redrawn
            visible = screen.thread.region
            for card in (left, arrived):
                shown = card.region.intersection(visible)
                if shown.area:
                    assert frames.covers(shown), (key, card.generation_id)


async def test_scrolling_after_the_thread_changed_redraws_only_the_thread(make_app: Any) -> None:
    """A scroll laid out right after a layout (a card built, a thread opened) is compared
    with what the screen shows: the sidebar and composer are not drawn again."""
    seed_layout_thread(8)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        await pilot.pause()
        for _ in range(3):
            thread.refresh(layout=True)  # (a layout, as a mount makes)
            await pilot.pause()
            frames = _Frames(screen)
            try:
                thread.scroll_relative(y=-5, animate=False, immediate=True)
                await pilot.pause()
            finally:
                frames.stop()
            assert frames.full == 0
            assert frames.regions
            assert not any(region.overlaps(screen.sidebar.region) for region in frames.regions)


async def test_a_redraw_of_the_prompt_renders_only_what_shows_around_it(make_app: Any) -> None:
    """The prompt's cursor blinks twice a second: its frame renders the prompt alone; not the
    thread, the sidebar or the key hints beside and below it, nor the screen and containers
    under it."""
    async with _cards_on_screen(make_app) as (_app, pilot, screen):
        prompt = screen.composer.prompt
        footer = screen.query_one("KeyHints")
        rendered: list[str] = []
        rows: list[int] = []  # (the lines the screen under them rendered)
        for name, widget in (("prompt", prompt), ("thread", screen.thread),
                             ("sidebar", screen.sidebar), ("hints", footer), ("screen", screen)):

            def counting(crop: Any, widget: Any = widget, name: str = name) -> Any:
                rendered.append(name)
                if name == "screen":
                    rows.append(crop.height)
                return type(widget).render_lines(widget, crop)

            widget.render_lines = counting
        prompt.refresh()  # (as its cursor blink does)
        await wait_until(pilot, lambda: "prompt" in rendered, what="the prompt drawn")
        await pilot.pause()
        # (the screen under it, covered there, is not rendered: not even in the prompt's rows)
        assert set(rendered) == {"prompt"} and rows == []


async def test_a_full_frame_renders_no_covered_row_and_draws_what_textual_draws(
        make_app: Any, monkeypatch: Any) -> None:
    """A full frame (the first one, a resize) renders each widget only from its first to its
    last row with a visible cell: the screen and the containers under the sidebar, the thread
    and the composer are covered whole and not rendered. The frame is the one Textual's own
    compositor draws, cell for cell and style for style."""
    from functools import partial

    from textual._compositor import Compositor
    from textual.strip import Strip
    from textual.widget import Widget

    async with _cards_on_screen(make_app) as (_app, _pilot, screen):
        compositor = screen._compositor
        rendered: dict[str, int] = {}
        render_lines = Widget.render_lines

        def counting(widget: Widget, crop: Any) -> Any:
            name = f"{type(widget).__name__}#{widget.id}"
            rendered[name] = rendered.get(name, 0) + crop.height
            return render_lines(widget, crop)

        monkeypatch.setattr(Widget, "render_lines", counting)

        def frame(update: Any) -> list[list[tuple[str, Any]]]:
            return [[(segment.text, segment.style) for segment in Strip.join(list(line))]
                    for line in update.strips]

        ours = frame(compositor.render_update(full=True))
        ours_rendered = dict(rendered)
        rendered.clear()
        compositor._get_renders = partial(Compositor._get_renders, compositor)  # Textual's
        try:
            theirs = frame(compositor.render_update(full=True))
        finally:
            del compositor._get_renders
        assert ours == theirs
        assert len(ours) == SIZE[1]
        for covered in ("MainScreen#None", "Horizontal#body", "Vertical#main"):
            assert covered in rendered and covered not in ours_rendered
        assert ours_rendered["ThreadView#thread"] == rendered["ThreadView#thread"]
        assert sum(ours_rendered.values()) < 0.8 * sum(rendered.values())


async def test_every_partial_frame_writes_every_cell_of_the_regions_it_redraws(
        make_app: Any) -> None:
    """Skipping the covered rows of a widget leaves no cell of a redrawn region unwritten:
    every part of every span a partial frame redraws has its strip (a cell left out would
    keep what was there before) over moves between cards, a scroll, typing and the
    focus going back to the prompt."""
    from textual._compositor import ChopsUpdate

    from chatimg.tui.widgets.card import GenerationCard

    async with _cards_on_screen(make_app) as (app, pilot, _screen):
        updates: list[ChopsUpdate] = []
        display = app._display

        def recording(shown: Any, update: Any) -> None:
            if isinstance(update, ChopsUpdate):
                updates.append(update)
            display(shown, update)

        app._display = recording  # type: ignore[method-assign]
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard), what="a card")
        for key in ("up", "up", "down", "pageup", "end", "ctrl+e"):
            await pilot.press(key)
            await pilot.pause()
        await pilot.press(*"a fox")
        await pilot.pause()
        assert len(updates) >= 6
        for update in updates:
            for y, start, end in update.spans:
                for (x, strip), stop in zip(update.chops[y].items(), update.chop_ends[y],
                                            strict=False):  # (as Textual writes them)
                    if x < end and stop > start:
                        assert strip is not None, (y, x, stop)
