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


def _age_the_heap() -> list[list[int]]:
    """Allocate enough long-lived containers to make the young generations collect often."""
    return [[n] for n in range(20_000)]


def test_full_collections_wait_for_a_pause_in_input() -> None:
    from chatimg.collector import IdleCollections

    now = [100.0]
    schedule = IdleCollections(idle_after=0.75, longest_wait=30.0, clock=lambda: now[0])
    saved = gc.get_threshold()
    gc.set_threshold(50, 1, 3)
    try:
        schedule.start()
        assert gc.get_threshold()[2] > 1_000_000  # Python no longer starts them itself
        kept = _age_the_heap()
        assert gc.get_count()[2] >= 3  # one is due
        schedule.note_activity()
        now[0] += 0.5
        assert not schedule.tick()  # typing: it waits
        now[0] += 0.5
        assert schedule.tick() and schedule.collections == 1  # a second without input
        assert gc.get_count()[2] == 0
        assert not schedule.tick()  # nothing due now
        kept += _age_the_heap()
        for _ in range(70):  # input every half second: it still runs within 30 s
            now[0] += 0.5
            schedule.note_activity()
            if schedule.tick():
                break
        assert schedule.collections == 2
        assert 29.0 <= now[0] - 101.0 <= 31.0 + 0.5
        kept += _age_the_heap()
        gc.disable()  # a burst pauses collection: the schedule waits for it too
        now[0] += 5
        assert not schedule.tick()
        gc.enable()
        assert schedule.tick() and schedule.collections == 3
        schedule.stop()
        assert gc.get_threshold() == (50, 1, 3)
        del kept
    finally:
        gc.enable()
        gc.set_threshold(*saved)


def test_nested_schedules_restore_pythons_own_after_the_last() -> None:
    from chatimg.collector import IdleCollections

    schedule = IdleCollections()
    saved = gc.get_threshold()
    schedule.start()
    schedule.start()
    schedule.stop()
    assert gc.get_threshold()[2] > 1_000_000
    schedule.stop()
    schedule.stop()  # one too many: ignored
    assert gc.get_threshold() == saved
