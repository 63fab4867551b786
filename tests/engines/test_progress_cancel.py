"""Acceptance 3: progress every step; cancel stops within one step and marks ``cancelled``."""

from __future__ import annotations

from typing import Any

from chatimg.engines.base import CancelToken
from chatimg.studio import GenerationEvent, GenerationSpec


async def test_progress_reports_every_step(tiny_studio: Any) -> None:
    steps: list[tuple[int, int, str]] = []

    def on_event(event: GenerationEvent) -> None:
        if event.kind == "progress" and event.progress is not None:
            steps.append((event.progress.step, event.progress.total, event.progress.message))

    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=1, steps=4),
                                         on_event=on_event, validate=False)
    assert outcome.generations[0].status == "succeeded"
    # a cold model first says it is loading (the UI shows it during the import stall)
    assert steps[0] == (0, 0, "loading model")
    assert [(s, t) for s, t, _ in steps[1:]] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    steps.clear()
    await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=2, steps=2),
                               on_event=on_event, validate=False)
    assert [(s, t) for s, t, _ in steps] == [(1, 2), (2, 2)]  # cached: no loading report


async def test_cancel_stops_within_one_step(tiny_studio: Any) -> None:
    cancel = CancelToken()
    steps: list[int] = []

    def on_event(event: GenerationEvent) -> None:
        if event.kind == "progress" and event.progress is not None and event.progress.total:
            steps.append(event.progress.step)
            if event.progress.step == 2:
                cancel.cancel()

    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=1, steps=8),
                                         on_event=on_event, cancel=cancel, validate=False)
    (generation,) = outcome.generations
    assert generation.status == "cancelled"
    assert steps == [1, 2]
    assert generation.assets == ()
    assert tiny_studio.get_generation(generation.id).status == "cancelled"


async def test_cancel_before_start_runs_nothing(tiny_studio: Any) -> None:
    cancel = CancelToken()
    cancel.cancel()
    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=1),
                                         cancel=cancel, validate=False)
    assert outcome.generations[0].status == "cancelled"


async def test_model_still_works_after_a_cancel(tiny_studio: Any) -> None:
    cancel = CancelToken()

    def on_event(event: GenerationEvent) -> None:
        if event.kind == "progress":
            cancel.cancel()

    await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=1, steps=3),
                               on_event=on_event, cancel=cancel, validate=False)
    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=1),
                                         validate=False)
    assert outcome.generations[0].status == "succeeded"
