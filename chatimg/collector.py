"""Cyclic garbage collection held off during short bursts of allocation, and full
collections moved to idle moments.

An export or the opening of a thread makes tens of thousands of short-lived objects (rows,
dicts, widgets, strips) with no cycles among them. Collections that run meanwhile free nothing,
and by promoting what is still in use they bring on full collections of the whole process: a
stall of 15-50 ms in the middle of the burst. ``COLLECTOR`` switches collection off while at
least one burst runs and back on when the last one ends, and only if it was on when the first
began. Objects are still freed by reference counting meanwhile; cycles wait for the next
collection. ``IDLE_COLLECTIONS`` is the TUI's schedule for the oldest generation.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator


class CollectorPause:
    """Counts the bursts running (from any thread) and keeps collection off while any does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._resume = False

    @property
    def holding(self) -> int:
        """How many bursts are running now."""
        return self._running

    def hold(self) -> Callable[[], None]:
        """Collection off until the function returned is called (once is enough: later calls
        do nothing), for a burst that does not fit a ``with`` block."""
        with self._lock:
            if not self._running:
                self._resume = gc.isenabled()
                gc.disable()
            self._running += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._running -= 1
                if not self._running and self._resume:
                    gc.enable()

        return release

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Collection off for the ``with`` block (nested and concurrent blocks are fine)."""
        release = self.hold()
        try:
            yield
        finally:
            release()


COLLECTOR = CollectorPause()
"""The process's one pause: every burst goes through it, so they nest and overlap safely."""


#: A threshold the oldest generation never reaches: its collections are left to ``tick``.
_NEVER = 1 << 30


class IdleCollections:
    """Full collections moved to moments when the person is not using the app.

    A full collection walks every object the process keeps outside ``gc.freeze``: with a long
    thread scrolled through, about 100 ms on this machine, and Python starts one whenever the
    young generations have been collected ten times, in the middle of a key's frame as often
    as not. While ``start``-ed, the oldest generation is only collected by ``tick`` (called
    a few times a second): once it is due (as often as Python would have made it), as soon
    as no input (or awaited work) came for ``idle_after`` seconds, or after ``longest_wait``
    seconds of constant input at the latest, so garbage in cycles never waits for long. The
    young generations are collected as before.

    Args:
        idle_after: Seconds without input that count as idle.
        longest_wait: Seconds a due collection waits at most.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(self, idle_after: float = 0.75, longest_wait: float = 30.0,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.idle_after = idle_after
        self.longest_wait = longest_wait
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._users = 0
        self._threshold: tuple[int, int, int] = gc.get_threshold()
        self._last_activity = self._clock()
        self._due_since: float | None = None
        self.collections = 0
        """Full collections ``tick`` ran (for tests and benchmarks)."""

    def start(self) -> None:
        """Leave the oldest generation to ``tick`` (nested starts need as many stops)."""
        with self._lock:
            if not self._users:
                self._threshold = gc.get_threshold()
                young, middle, _ = self._threshold
                gc.set_threshold(young, middle, _NEVER)
            self._users += 1

    def stop(self) -> None:
        """Back to Python's own schedule once the last user stops."""
        with self._lock:
            if not self._users:
                return
            self._users -= 1
            if not self._users:
                gc.set_threshold(*self._threshold)

    def note_activity(self) -> None:
        """The person pressed a key, clicked or scrolled, or the app began work they wait
        for (opening a thread): not idle."""
        self._last_activity = self._clock()

    def tick(self) -> bool:
        """Run the full collection if it is due and the moment is right; whether it ran."""
        if not self._users or not gc.isenabled():  # paused for a burst: after it
            return False
        if gc.get_count()[2] < max(1, self._threshold[2]):
            self._due_since = None
            return False
        now = self._clock()
        if self._due_since is None:
            self._due_since = now
        if now - self._last_activity < self.idle_after and \
                now - self._due_since < self.longest_wait:
            return False
        gc.collect()
        self._due_since = None
        self.collections += 1
        return True


IDLE_COLLECTIONS = IdleCollections()
"""The process's one schedule of full collections (the TUI starts it while it runs)."""
