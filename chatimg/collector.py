"""Cyclic garbage collection held off during short bursts of allocation.

An export or the opening of a thread makes tens of thousands of short-lived objects (rows,
dicts, widgets, strips) with no cycles among them. Collections that run meanwhile free nothing,
and by promoting what is still in use they bring on full collections of the whole process: a
stall of 15-50 ms in the middle of the burst. ``COLLECTOR`` switches collection off while at
least one burst runs and back on when the last one ends, and only if it was on when the first
began. Objects are still freed by reference counting meanwhile; cycles wait for the next
collection.
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
