"""Acceptance 3: ``/fanout layout tiny`` runs both models and shows two cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tiny_diffusers import write_tiny_model_config
from tests.tui.conftest import SIZE, images_loaded, ready, type_and_send, wait_until


async def test_fanout_to_layout_and_tiny_diffusers(make_app: Any, config_file: Path,
                                                   tiny_sd_path: Path) -> None:
    write_tiny_model_config(config_file, tiny_sd_path, name="tiny", steps=2, width=64,
                            height=64)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/fanout layout tiny")
        await wait_until(pilot, lambda: screen.options.models == ["layout", "tiny"],
                         what="fan-out set")
        assert "layout + tiny" in str(screen.composer.query_one("#model-chip").label)
        await type_and_send(pilot, 'a "TINY" robot')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2, what="two cards")
        cards = screen.thread.cards()
        await wait_until(pilot, lambda: all(c.status not in ("queued", "running")
                                            for c in cards), timeout=90, what="both finished")
        by_model = {card.generation.resolved_model: card for card in cards}
        assert set(by_model) == {"layout", "tiny"}
        for card in cards:
            assert card.status == "succeeded", card.generation.error
        await wait_until(pilot, lambda: images_loaded(screen), what="thumbnails")
        assert by_model["tiny"].generation.assets[0].width == 64
        message = app.studio.load_thread(screen.conversation_id).messages[0]
        assert message.params["models"] == ["layout", "tiny"]
        assert len(message.generations) == 2
