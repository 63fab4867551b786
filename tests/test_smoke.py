"""A first end-to-end check: generate with the layout engine and read the thread back."""

from __future__ import annotations

import asyncio

from chatimg.studio import Studio


def test_layout_generation_is_stored_and_listed(studio: Studio) -> None:
    outcome = asyncio.run(studio.generate('poster that says "HI"', ["layout"]))
    thread = studio.load_thread(outcome.message.conversation_id)
    (message,) = thread.messages
    (generation,) = message.generations
    assert generation.status == "succeeded"
    assert generation.assets[0].width == 512
