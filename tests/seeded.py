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


def seed_layout_thread(count: int, title: str = "long thread") -> str:
    """A conversation of ``count`` messages, each with one finished generation of the same
    stored 128x128 image, that the app opens on its next start; its id."""
    from chatimg.engines.layout import render
    from chatimg.imaging import encode_png
    from chatimg.studio import Studio
    from chatimg.tui.state import UiState, save_state

    studio = Studio.open()
    try:
        conversation = studio.create_conversation(title, "layout")
        stored = studio.assets.put(encode_png(render('"LONG"', 1, 128, 128)))
        for index in range(count):
            add_finished_layout(studio, conversation.id, f'"poster {index}"', stored, index)
        save_state(UiState(conversation_id=conversation.id))
        return conversation.id
    finally:
        studio.close()
