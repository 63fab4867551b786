"""Snapshot of the compare screen: three models fanned out from one prompt.

Deterministic: fixed seed and terminal size, pinned latencies and check scores, the half-cell
image renderer, and no timestamps or ids on screen.
"""

from __future__ import annotations

import asyncio
from typing import Any

from chatimg.studio import Studio
from tests.compare.conftest import MODELS, CompareApp, add_check, fan_out


def test_compare_three_models_snapshot(cstudio: Studio, snap_compare: Any) -> None:
    outcome = asyncio.run(fan_out(cstudio, MODELS, seed=5))
    for generation, score in zip(outcome.generations, (0.91, 0.88, 0.3), strict=True):
        add_check(cstudio, generation, score)
    app = CompareApp(cstudio, [g.id for g in outcome.generations])

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=settle)
