"""The collector pause: collection off while any burst runs, back as it was after the last."""

from __future__ import annotations

import gc
import threading

from chatimg.collector import CollectorPause


def test_bursts_nest_and_overlap_and_collection_comes_back_after_the_last() -> None:
    pause = CollectorPause()
    assert gc.isenabled()
    first = pause.hold()
    with pause.paused():
        assert not gc.isenabled()
        second = pause.hold()
    assert not gc.isenabled()
    first()
    first()  # a second call changes nothing: the other burst still runs
    assert not gc.isenabled() and pause.holding == 1
    second()
    assert gc.isenabled() and pause.holding == 0


def test_collection_switched_off_before_stays_off() -> None:
    pause = CollectorPause()
    gc.disable()
    try:
        with pause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failed_burst_still_ends_its_pause() -> None:
    pause = CollectorPause()
    try:
        with pause.paused():
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.isenabled() and pause.holding == 0


def test_bursts_on_many_threads_end_with_collection_on() -> None:
    pause = CollectorPause()
    start = threading.Barrier(8)
    states: list[bool] = []

    def burst() -> None:
        start.wait(timeout=10)
        for _ in range(200):
            with pause.paused():
                states.append(gc.isenabled())

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(states) == 1600 and not any(states)
    assert gc.isenabled() and pause.holding == 0
