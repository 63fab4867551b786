"""Finished generations written straight through the repository, with no engine run: for the
tests and benchmarks that need many stored ``layout`` generations quickly."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatimg.store.assets import StoredFile
    from chatimg.studio import Studio


def add_finished_layout(studio: Studio, conversation_id: str, prompt: str, stored: StoredFile,
                        seed: int, latency_ms: float = 5.0) -> str:
    """A message with one succeeded ``layout`` generation of the stored image; its id."""
    from chatimg.store.tables import utcnow

    message = studio.repo.add_message(conversation_id, prompt, model="layout",
                                      params={"models": ["layout"]})
    generation = studio.repo.create_generation(
        message.id, "layout", {"seed": seed}, resolved_model="layout", engine_kind="layout",
        status="running")
    studio.repo.finish_generation(
        generation.id, [(stored, seed, None)], status="succeeded", finished_at=utcnow(),
        latency_ms=latency_ms, cost_usd=0.0, cost_estimated=True,
        receipt={"request": {"seed": seed}})
    return generation.id
