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
        screen.continue_from({"generation_id": "x", "model": "layout", "seed": 5,
                              "params": {"steps": 3, "width": 64, "height": 64}})
        assert (screen.options.seed, screen.options.seed_locked) == (5, True)
        assert (screen.options.steps, screen.options.width) == (3, 64)
        assert "continuing" in screen.composer.hint_text


async def test_compare_a_fanned_out_message_and_the_winner_shows_after_restart(
        make_app: Any, config_file: Path) -> None:
    from chatimg.tui.screens.compare import CompareScreen

    with config_file.open("a", encoding="utf-8") as handle:
        handle.write('\n[models.layout-b]\nengine = "layout"\nwidth = 256\nheight = 256\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/fanout layout layout-b")
        await type_and_send(pilot, '"A OR B"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2 and all(
            c.status == "succeeded" for c in screen.thread.cards()), what="two cards")
        await type_and_send(pilot, "/compare")  # nothing picked: the fanned-out message
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        compare = app.screen
        await pilot.press("w")  # the focused (first) pane wins
        await wait_until(pilot, lambda: bool(app.studio.load_thread(
            screen.conversation_id).picks), what="pick stored")
        winner = app.studio.load_thread(screen.conversation_id).picks[0].winner_id
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen and compare is not app.screen,
                         what="back")
        await wait_until(pilot, lambda: any(
            c.generation_id == winner and c.wins == 1 for c in screen.thread.cards()),
            what="winner mark on the card")
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2, what="restored thread")
        card = next(c for c in screen.thread.cards() if c.generation_id == winner)
        assert card.wins == 1
        assert "compare winner" in str(card._detail.render())
