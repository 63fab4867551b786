"""Issue 12, acceptance 6: cancelling after k of n images stores the k and says "k of n"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatimg.engines.base import CancelToken
from chatimg.spec import GenerationSpec
from chatimg.studio import GenerationEvent

STEPS = 2  # tests/engines/conftest.py runs the tiny pipeline for 2 steps per image


async def _cancel_after(studio: Any, done: int, count: int) -> Any:
    """Generate ``count`` images and cancel on the first step of image ``done + 1``."""
    cancel = CancelToken()
    totals: list[int] = []

    def on_event(event: GenerationEvent) -> None:
        report = event.progress
        if event.kind == "progress" and report is not None and report.total:
            totals.append(report.total)
            if report.step == done * STEPS + 1:
                cancel.cancel()

    outcome = await studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=40, count=count),
                                    on_event=on_event, cancel=cancel, validate=False)
    assert set(totals) == {STEPS * count}  # progress spans every image of the job
    (generation,) = outcome.generations
    return generation


async def test_cancel_after_three_of_eight_keeps_three(tiny_studio: Any) -> None:
    generation = await _cancel_after(tiny_studio, done=3, count=8)

    stored = tiny_studio.get_generation(generation.id)
    assert stored.status == "cancelled"
    assert stored.error == "cancelled — 3 of 8"
    assert [asset.seed for asset in stored.assets] == [40, 41, 42]
    assert all(Path(asset.path).is_file() for asset in stored.assets)
    assert len({asset.sha256 for asset in stored.assets}) == 3
    assert stored.receipt_data["engine"]["seeds"] == [40, 41, 42]
    # the thread (what the card and `chatimg show` read) has the three images
    thread = tiny_studio.load_thread(tiny_studio.repo.conversation_of_generation(generation.id))
    (message,) = thread.messages
    assert len(message.generations[0].assets) == 3


async def test_kept_images_are_the_ones_an_uncancelled_run_makes(tiny_studio: Any) -> None:
    partial = await _cancel_after(tiny_studio, done=2, count=4)
    full = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=40, count=4),
                                      validate=False)
    (complete,) = full.generations
    assert complete.status == "succeeded"
    assert [a.sha256 for a in partial.assets] == [a.sha256 for a in complete.assets[:2]]


async def test_cancel_during_the_first_image_keeps_nothing(tiny_studio: Any) -> None:
    generation = await _cancel_after(tiny_studio, done=0, count=3)
    assert generation.status == "cancelled"
    assert generation.assets == ()
    assert generation.error == "cancelled"
