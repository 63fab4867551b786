"""Frames are paced from the last one drawn, and an open's changes are drawn in one frame."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.screen import UPDATE_PERIOD
from textual.widgets import Static

from chatimg.tui import frames
from chatimg.tui.frames import PacedScreen
from tests.seeded import seed_layout_thread
from tests.tui.conftest import SIZE, ready, wait_until


class _Clock:
    """A ``monotonic`` that moves only when told to, or by what ``sleep`` is asked to wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class _Probe(PacedScreen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[float] = []  # (the clock at each update drawn)
        self.drawn = ""  # (the text the last update drew)

    def compose(self) -> ComposeResult:
        yield Static("first", id="text")

    def _on_timer_update(self) -> None:
        super()._on_timer_update()
        self.frames.append(self._update_timer.last_frame)
        self.drawn = str(self.query_one("#text", Static).content)


class _ProbeApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(_Probe())


async def _drawn(screen: _Probe, count: int) -> None:
    """Wait, with the app left alone (no Pilot pauses: they draw), for ``count`` frames."""
    deadline = time.monotonic() + 10
    while len(screen.frames) < count:
        assert time.monotonic() < deadline, "timed out waiting for a frame"
        await asyncio.sleep(0.002)


async def _probe(pilot: Any) -> _Probe:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, _Probe)
    await pilot.pause()
    screen.frames.clear()
    return screen


async def test_a_change_right_after_a_frame_is_drawn_one_period_after_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(frames, "monotonic", clock.monotonic)
    monkeypatch.setattr(frames, "sleep", clock.sleep)
    async with _ProbeApp().run_test(size=(40, 5)) as pilot:
        screen = await _probe(pilot)
        text = screen.query_one("#text", Static)
        text.update("second")
        await _drawn(screen, 1)
        last = screen.frames[-1]
        clock.sleeps.clear()
        clock.now += 0.005  # a change 5 ms after a frame: drawn a period after that frame
        text.update("third")
        await _drawn(screen, 2)
        assert clock.sleeps == [pytest.approx(UPDATE_PERIOD - 0.005)]
        assert screen.frames[-1] == pytest.approx(last + UPDATE_PERIOD)
        assert screen.drawn == "third"
        clock.sleeps.clear()
        clock.now += 1.0  # a change long after the last frame: drawn at once
        text.update("fourth")
        await _drawn(screen, 3)
        assert clock.sleeps == []
        assert screen.drawn == "fourth"


async def test_held_frames_are_drawn_together_on_release_or_after_the_hold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "HOLD", 30.0)
    async with _ProbeApp().run_test(size=(40, 5)) as pilot:
        screen = await _probe(pilot)
        text = screen.query_one("#text", Static)
        screen.hold_frames()
        text.update("second")
        await asyncio.sleep(0.1)  # (six periods: nothing is drawn while held)
        assert screen.frames == []
        assert screen.drawn != "second"
        screen.release_frames()
        await _drawn(screen, 1)
        assert screen.drawn == "second"
        monkeypatch.setattr(frames, "HOLD", 0.05)  # not released: drawn once the hold ends
        screen.hold_frames()
        text.update("third")
        await _drawn(screen, 2)
        assert screen.drawn == "third"


async def test_opening_a_thread_draws_its_highlight_and_its_cards_in_one_frame(
        make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The open's first frame shows the conversation highlighted in the sidebar and its
    cards: no frame with the highlight alone before the thread (here the store takes 50 ms
    to read it, and the hold lasts until the thread is mounted)."""
    monkeypatch.setattr(frames, "HOLD", 30.0)
    opened = seed_layout_thread(3)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        load_thread = screen.studio.load_thread

        def slow_read(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.05)  # (in the worker's thread, as a store across a network)
            return load_thread(*args, **kwargs)

        monkeypatch.setattr(screen.studio, "load_thread", slow_read)
        screen.open_conversation(None)
        await wait_until(pilot, lambda: screen.thread_loaded and not screen.thread.cards(),
                         what="a new conversation")
        await pilot.pause()
        written: list[tuple[str | None, bool]] = []  # (highlighted id, cards shown) per frame
        display = app._display

        def displayed(*args: Any, **kwargs: Any) -> Any:
            written.append((screen.sidebar.highlighted_id, bool(screen.thread.cards())))
            return display(*args, **kwargs)

        monkeypatch.setattr(app, "_display", displayed)
        screen.open_conversation(opened)
        deadline = time.monotonic() + 10
        while not (written and screen.thread_loaded):  # (the app left alone: no Pilot pauses)
            assert time.monotonic() < deadline, "timed out waiting for the thread's frame"
            await asyncio.sleep(0.002)
        assert time.monotonic() < deadline - 9  # (drawn once mounted: not after the hold)
        assert written[0] == (opened, True)
        assert screen._hold is None
