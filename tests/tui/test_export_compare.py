"""``/export`` writes a bundle and ``/compare`` opens the compare screen on the picked cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


async def test_export_and_compare(make_app: Any, tmp_path: Path) -> None:
    from chatimg.tui.screens.compare import CompareScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        for text in ('"ONE"', '"TWO"'):
            await type_and_send(pilot, text)
            await wait_until(pilot, lambda: screen.running == 0 and all(
                c.status == "succeeded" for c in screen.thread.cards()), what="cards")
        target = tmp_path / "thread.zip"
        await type_and_send(pilot, f"/export {target}")
        await wait_until(pilot, target.is_file, what="bundle written")
        for card in screen.thread.cards():
            card.focus()
            await pilot.press("p")
        await wait_until(pilot, lambda: len(screen.picked) == 2, what="two picks")
        await type_and_send(pilot, "/compare")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="back")
        # "continue from this one" on the compare screen loads model, seed and params
        from chatimg.tui.screens import actions

        actions.continue_from(screen, {"generation_id": "x", "model": "layout", "seed": 5,
                                       "params": {"steps": 3, "width": 64, "height": 64}})
        assert (screen.options.seed, screen.options.seed_locked) == (5, True)
        assert (screen.options.steps, screen.options.width) == (3, 64)
        assert "continuing" in screen.composer.hint_text
