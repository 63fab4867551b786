"""Frames paced from the last one drawn, not from a fixed grid.

A Textual screen draws its pending changes from a timer that runs at most ``MAX_FPS`` (60)
times a second and is paused between changes. Its ticks stay on a fixed grid from when the
timer first started, and after a pause it skips to the grid point *after* the next one: a
change that comes right after a frame (a thread's content, mounted ~10 ms after the frame
that highlighted it in the sidebar) waited 17-33 ms for its frame, where one period after
the last frame is all the rate limit asks for. Opening a thread spent a third of its time
there.

``PacedScreen`` draws with ``FrameTimer``: a change is drawn at once when a period has passed
since the last frame, and one period after that frame otherwise. Frames are still at most
``MAX_FPS`` a second. ``PacedScreen.hold_frames`` keeps the changes of something that takes a
few milliseconds (a thread's open: the sidebar's highlight at once, the content once it is
read and mounted) for one frame, at most a period later, where they would otherwise take two,
the second a period after the first.

(It replaces the screen's private update timer; its ticks call the same ``_on_timer_update``
as Textual's. ``tests/tui/test_frames.py`` checks the pacing and the hold.)
"""

from __future__ import annotations

from asyncio import Event, sleep
from time import monotonic
from typing import Any

from textual.screen import UPDATE_PERIOD, Screen, ScreenResultType
from textual.timer import EventTargetGone, Timer

HOLD = UPDATE_PERIOD
"""How long ``PacedScreen.hold_frames`` keeps changes off the screen at most (seconds): one
frame's period, so that nothing waits longer than it would for the next frame."""


class FrameTimer(Timer):
    """A repeating timer that, once resumed, ticks at once when its interval has passed since
    the last frame, and when it has otherwise (never sooner, never a period later); it does
    not tick while ``drawable`` is clear."""

    last_frame = float("-inf")
    """When its screen last drew a frame (``monotonic``), set by the screen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drawable = Event()
        self.drawable.set()

    async def _run(self) -> None:
        interval, count = self._interval, 0
        while self._repeat is None or count < self._repeat:
            await self._active.wait()
            await self.drawable.wait()
            now = monotonic()
            wait = self.last_frame + interval - now
            if wait > 0:
                await sleep(wait)
                continue  # (paused or held meanwhile: see again)
            count += 1
            try:
                await self._tick(next_timer=now, count=count)
            except EventTargetGone:
                break
            if self._active.is_set():  # (a tick that did not pause it: the app is exiting)
                await sleep(interval)


class PacedScreen(Screen[ScreenResultType]):
    """A screen whose frames are paced from the last one drawn (see the module)."""

    _frame_timer: FrameTimer | None = None
    _hold: Timer | None = None

    @property
    def _update_timer(self) -> FrameTimer:
        if self._frame_timer is None:  # (as Screen makes its timer with set_interval)
            timer = FrameTimer(self, UPDATE_PERIOD, name="screen_update",
                               callback=self._on_timer_update, pause=True)
            timer._start()
            self._timers.add(timer)
            self._frame_timer = timer
        return self._frame_timer

    def _on_timer_update(self) -> None:
        if self._frame_timer is not None and self.is_current and not self.app._batch_count:
            # (what Textual's update does nothing without: a tick in a batch is no frame)
            self._frame_timer.last_frame = monotonic()
        super()._on_timer_update()

    def hold_frames(self) -> None:
        """Draw what changes from now on in one frame, once ``release_frames`` is called or
        ``HOLD`` seconds have passed (a hold under way goes on as it is). This screen draws
        nothing meanwhile; the rest of the app, its messages and its other screens go on.

        (Not ``App.batch_update``: a screen in a batch runs its ``call_after_refresh``
        callbacks when it goes idle, before the frame they are meant to follow.)"""
        if self._hold is None:
            self._update_timer.drawable.clear()
            self._hold = self.set_timer(HOLD, self.release_frames, name="frames held")

    def release_frames(self) -> None:
        """End ``hold_frames``: what changed meanwhile is drawn in the next frame."""
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.stop()
            self._update_timer.drawable.set()
