"""Full garbage collections run while the person is idle, not in the frame of a key."""

from __future__ import annotations

import gc
from typing import Any

from tests.tui.conftest import SIZE, ready, wait_until


async def test_the_app_runs_full_collections_when_idle_and_hands_them_back(
        make_app: Any) -> None:
    from chatimg.collector import IDLE_COLLECTIONS

    saved = gc.get_threshold()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert gc.get_threshold()[2] > 1_000_000  # not started by Python mid-frame
        before = IDLE_COLLECTIONS.collections
        kept = [[n] for n in range(200_000)]  # ages the heap: a full collection is due
        await wait_until(pilot, lambda: gc.get_count()[2] == 0
                         and IDLE_COLLECTIONS.collections > before, timeout=30,
                         what="a full collection once input stopped")
        del kept
    assert gc.get_threshold() == saved
