"""Issue 12, acceptance 6 in the app: Escape part-way through /n 8 keeps and shows what finished."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.tiny_diffusers import write_tiny_model_config
from tests.tui.conftest import SIZE, ready, type_and_send, wait_until

STEPS = 3


@pytest.mark.slow
async def test_escape_after_three_images_keeps_them(make_app: Any, config_file: Path,
                                                   tiny_sd_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.engines.diffusers_engine import DiffusersEngine
    from chatimg.tui.widgets.image import CardImage

    # Hold the fourth pipeline call until the test has pressed Escape, so the cancel lands
    # while image 4 runs however fast or slow the machine is.
    at_fourth = threading.Event()
    release = threading.Event()
    calls = [0]
    original = DiffusersEngine._run_pipe

    def gated(self: Any, pipe: Any, kwargs: dict[str, Any], request: Any, count: int) -> Any:
        calls[0] += 1
        if calls[0] == 4:
            at_fourth.set()
            release.wait(timeout=60)
        return original(self, pipe, kwargs, request, count)

    monkeypatch.setattr(DiffusersEngine, "_run_pipe", gated)

    with config_file.open("a", encoding="utf-8") as handle:
        handle.write("\n[diffusers]\nthreads = 1\n\n")
    write_tiny_model_config(config_file, tiny_sd_path, name="tiny", steps=STEPS, width=64,
                            height=64, guidance=5.0)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/model tiny")
        await wait_until(pilot, lambda: screen.options.model == "tiny", what="/model")
        await type_and_send(pilot, "/n 8")
        await wait_until(pilot, lambda: screen.options.count == 8, what="/n 8")
        await type_and_send(pilot, "a cat")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="card")
        card = screen.thread.cards()[0]
        await wait_until(pilot, at_fourth.is_set, timeout=300, what="image 4 started")
        assert card.status == "running", (card.status, card.generation)
        assert card.progress is not None and card.progress.total == 8 * STEPS
        assert card.progress.step == 3 * STEPS  # three images done
        # and already on the card (not stored before the run ends), in a grid of 8 slots
        await wait_until(pilot, lambda: card.grid is not None and len(card.grid.tiles) == 8
                         and all(tile.image.picture is not None
                                 for tile in card.grid.tiles[:3]), what="three images shown")
        shown = card.grid.tiles[:3]
        assert all(tile.image.picture is None for tile in card.grid.tiles[3:])
        assert all(tile.image.asset is None for tile in card.grid.tiles)
        await pilot.press("escape")
        await wait_until(pilot, lambda: any(token.cancelled for token in screen.tokens),
                         timeout=30, what="cancel asked")
        release.set()
        await wait_until(pilot, lambda: card.status == "cancelled", timeout=30, what="cancel")
        stored = app.studio.get_generation(card.generation_id)
        kept = len(stored.assets)
        assert kept == 3
        assert stored.error == f"cancelled — {kept} of 8"
        assert f"cancelled — {kept} of 8" in str(card._detail.render())
        await wait_until(pilot, lambda: bool(card.query(CardImage)), what="image shown")
        assert card.query_one(CardImage).asset.sha256 == stored.assets[0].sha256
        # the grid kept the three shown images in place and let the empty slots go
        assert card.grid.tiles == shown
        assert [tile.image.asset.sha256 for tile in shown] == [a.sha256 for a in stored.assets]
        await wait_until(pilot, lambda: len(card.query(CardImage)) == 3, what="slots gone")
