"""What a run writes before its engine starts: one generation row, already running, with the
seed chosen for it (so a run killed in the engine comes back interrupted and can be made
again); a request that fails its checks is stored queued, then failed, without running."""

from __future__ import annotations

from typing import Any

import pytest

from chatimg.engines.layout import LayoutEngine
from chatimg.spec import GenerationSpec
from chatimg.studio import Studio


async def test_a_run_is_one_running_row_with_its_seed_before_the_engine_starts(
        studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = LayoutEngine.generate_blocking

    def generate_blocking(self: LayoutEngine, request: Any, *args: Any) -> Any:
        (conversation,) = studio.list_conversations()
        (message,) = studio.load_thread(conversation.id).messages
        seen.extend(message.generations)  # as stored while the engine runs
        return original(self, request, *args)

    monkeypatch.setattr(LayoutEngine, "generate_blocking", generate_blocking)
    events: list[str] = []
    outcome = await studio.generate('"ROWS"', ["layout"], GenerationSpec.build(),
                                    validate=False, on_event=lambda e: events.append(e.kind))
    (during,) = seen
    (generation,) = outcome.generations
    assert during.id == generation.id and during.status == "running"
    assert during.params["seed"] == generation.params["seed"] is not None
    assert during.started_at is not None and during.started_at == during.queued_at
    assert generation.status == "succeeded"
    assert events[:2] == ["queued", "started"] and events[-1] == "finished"


async def test_a_request_that_fails_its_checks_is_stored_failed_without_running(
        studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[bool] = []
    monkeypatch.setattr(LayoutEngine, "generate_blocking",
                        lambda *args: ran.append(True))
    events: list[str] = []
    outcome = await studio.generate('"BIG"', ["layout"],
                                    GenerationSpec.build(width=64, height=64, count=64),
                                    validate=False, on_event=lambda e: events.append(e.kind))
    (generation,) = outcome.generations
    assert generation.status == "failed" and generation.error
    assert generation.started_at is None
    assert ran == [] and events == ["queued", "finished"]
