"""The sidebar collapses with Ctrl+B (remembered across restarts) and its rows say how long
ago each conversation changed, kept current by a timer."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, wait_until

LONG = 30.0
"""Seconds a step may take on a loaded machine (a bound, never asserted)."""


def test_relative_time_reads_like_a_person_would_say_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.tui.widgets.sidebar import relative_time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
        assert relative_time(now - timedelta(seconds=20), now) == "now"
        assert relative_time(now - timedelta(minutes=2), now) == "2m"
        assert relative_time(now - timedelta(hours=3), now) == "3h"
        assert relative_time(now - timedelta(hours=20), now) == "yesterday"
        assert relative_time(now - timedelta(days=4), now) == "4d"
        assert relative_time(now - timedelta(days=30), now) == "31 Oct"
        assert relative_time(datetime(2025, 3, 2, 9, 0), now) == "Mar 2025"  # naive = UTC
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


async def test_rows_show_relative_time_and_a_timer_keeps_it_current(
        make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.studio import Studio
    from chatimg.tui.widgets.sidebar import Sidebar, relative_time

    monkeypatch.setattr(Sidebar, "refresh_seconds", 0.05)
    studio = Studio.open()
    now = datetime.now(UTC)
    three_days = now - timedelta(days=3)
    recent = studio.repo.create_conversation("recent posters", "layout",
                                             created_at=now - timedelta(minutes=2))
    old = studio.repo.create_conversation("a very long title that cannot fit in the sidebar",
                                          "layout", created_at=three_days)
    studio.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        sidebar = screen.sidebar
        assert sidebar.row_text(recent.id) == "recent posters  2m"
        long_row = sidebar.row_text(old.id)
        assert long_row.endswith("…  3d")  # the title is cut, the time always shows
        later = now + timedelta(minutes=30)
        sidebar.clock = lambda: later
        await wait_until(pilot, lambda: sidebar.row_text(recent.id).endswith("  32m"),
                         timeout=LONG, what="the timer updated the row")
        # (still "3d", or "4d" when the half hour crossed midnight)
        assert sidebar.row_text(old.id) == long_row.removesuffix("3d") + relative_time(
            three_days, later)


async def test_ctrl_b_collapses_the_sidebar_and_it_stays_so(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        width = screen.thread.size.width
        assert screen.sidebar.display
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: screen.thread.size.width > width + 20,
                         timeout=LONG, what="the thread took the room")
        assert not screen.sidebar.display and screen.composer.prompt.has_focus
        await pilot.press("ctrl+q")
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert not screen.sidebar.display  # remembered
        await pilot.press("ctrl+l")  # the filter key brings it back, focused
        await wait_until(pilot, lambda: screen.sidebar.display, timeout=LONG, what="shown again")
        assert screen.query_one("#filter").has_focus
        await pilot.press("ctrl+b")  # collapsing with focus inside moves focus out
        await wait_until(pilot, lambda: not screen.sidebar.display, timeout=LONG, what="collapsed")
        assert screen.composer.prompt.has_focus
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: screen.sidebar.display, timeout=LONG, what="expanded")


def _seed_posters(count: int) -> None:
    """``count`` empty conversations, "posters 0" onwards."""
    from chatimg.studio import Studio

    studio = Studio.open()
    for index in range(count):
        studio.repo.create_conversation(f"posters {index}", "layout")
    studio.close()


async def test_moving_the_highlight_redraws_the_row_it_leaves_and_the_row_it_reaches(
        make_app: Any) -> None:
    """Only the two rows change (the list redraws just them), and what is drawn follows every
    move: one row highlighted, the one the keys moved to."""
    _seed_posters(6)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        rows = screen.sidebar.query_one("#conversations")
        rows.focus()
        rows.highlighted = 0
        await pilot.pause()

        def highlighted_rows() -> list[int]:
            """Rows drawn in a background none of the others has (from what is on screen)."""
            update = app.screen._compositor.render_update(full=True)
            backgrounds = []
            for line in update.strips[rows.region.y:rows.region.y + rows.option_count]:
                segments = [segment for strip in line for segment in strip]
                x, colours = 0, set()
                for segment in segments:  # the segments inside the list's columns
                    if rows.region.x <= x < rows.region.right and segment.style is not None:
                        colours.add(segment.style.bgcolor)
                    x += segment.cell_length
                backgrounds.append(frozenset(colours))
            return [row for row, colours in enumerate(backgrounds)
                    if backgrounds.count(colours) == 1]

        assert highlighted_rows() == [0]
        drawn: list[int] = []
        render_line = rows.render_line

        def counted(y: int) -> Any:
            drawn.append(y)
            return render_line(y)

        rows.render_line = counted
        for key, expected in (("down", 1), ("down", 2), ("up", 1), ("end", 5), ("home", 0)):
            before = rows.highlighted
            drawn.clear()
            await pilot.press(key)
            await pilot.pause()
            assert rows.highlighted == expected
            assert sorted(set(drawn)) == sorted({before, expected}), key
            assert highlighted_rows() == [expected], key


async def test_the_list_scrollbar_follows_the_rows_and_a_layout_elsewhere_leaves_it_alone(
        make_app: Any) -> None:
    """The conversation list's scrollbar fits the rows shown (filtered or not) and where the
    list is scrolled; laying out the rest of the screen (opening a thread) does not redraw it."""
    _seed_posters(60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        rows = screen.sidebar.query_one("#conversations")
        bar = rows.vertical_scrollbar
        await wait_until(pilot, lambda: rows.option_count == 60, what="the rows")
        await pilot.pause()
        assert rows.show_vertical_scrollbar and bar.window_virtual_size == 60
        assert bar.window_size == rows.scrollable_content_region.height

        screen.sidebar.query_one("#filter").value = "posters 1"  # 1, 10-19
        await wait_until(pilot, lambda: rows.option_count == 11, what="filtered")
        await pilot.pause()
        assert not rows.show_vertical_scrollbar  # they fit

        screen.sidebar.query_one("#filter").value = ""
        await wait_until(pilot, lambda: rows.option_count == 60, what="unfiltered")
        await pilot.pause()
        assert rows.show_vertical_scrollbar and bar.window_virtual_size == 60
        rows.focus()
        await pilot.press("end")
        await pilot.pause()
        assert rows.scroll_y == rows.max_scroll_y > 0 and bar.position == rows.scroll_y
        screen.sidebar.query_one("#filter").value = "posters 5"  # 5, 50-59: back to the top
        await wait_until(pilot, lambda: rows.option_count == 11, what="filtered at the end")
        await pilot.pause()
        assert rows.scroll_y == 0
        screen.sidebar.query_one("#filter").value = ""
        await wait_until(pilot, lambda: rows.option_count == 60, what="unfiltered again")
        await pilot.pause()

        refreshed: list[object] = []
        refresh = bar.refresh

        def counted(*args: Any, **kwargs: Any) -> Any:
            refreshed.append(args)
            return refresh(*args, **kwargs)

        bar.refresh = counted
        screen.open_conversation(None)
        await wait_until(pilot, lambda: screen.thread_loaded, what="the thread")
        await pilot.pause()
        assert refreshed == []
