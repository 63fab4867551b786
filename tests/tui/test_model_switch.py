"""Acceptance 2: switch model mid-conversation by chip, by /model and by the palette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until
from tests.tui.engines import register_test_engines


async def _send_and_wait(pilot: Any, screen: Any, text: str, count: int) -> Any:
    await type_and_send(pilot, text)
    await wait_until(pilot, lambda: len(screen.thread.cards()) == count, what=f"{count} cards")
    card = screen.thread.cards()[-1]
    await wait_until(pilot, lambda: card.status == "succeeded", what="success")
    return card


async def test_switch_model_three_ways(make_app: Any, monkeypatch: pytest.MonkeyPatch,
                                       config_file: Path) -> None:
    from textual.widgets import OptionList

    from chatimg.tui.screens.model_picker import ModelPicker

    register_test_engines(monkeypatch, config_file, "second", "third")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        first = await _send_and_wait(pilot, screen, '"one" /seed', 1)
        assert first.generation.resolved_model == "layout"

        # 1. the chip opens the picker; search and pick
        await pilot.click("#model-chip")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), what="picker")
        await pilot.press(*"second")
        picker_options = app.screen.query_one(OptionList)
        assert picker_options.option_count == 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, what="picker closed")
        assert "second" in str(screen.composer.query_one("#model-chip").label)
        second = await _send_and_wait(pilot, screen, '"two"', 2)
        assert second.generation.resolved_model == "second"

        # 2. /model
        await type_and_send(pilot, "/model third")
        await wait_until(pilot, lambda: screen.options.model == "third", what="/model")
        assert screen.composer.prompt.text == ""
        third = await _send_and_wait(pilot, screen, '"three"', 3)
        assert third.generation.resolved_model == "third"

        # 3. the command palette
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen is not screen, what="palette")
        await pilot.press(*"Use layout")
        await wait_until(pilot, lambda: "layout" in str(app.screen.query_one(
            "CommandList").get_option_at_index(0).prompt) if app.screen.query(
            "CommandList") and app.screen.query_one("CommandList").option_count else False,
            what="palette hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.options.model == "layout", what="palette pick")
        fourth = await _send_and_wait(pilot, screen, '"four"', 4)
        assert fourth.generation.resolved_model == "layout"

        # every card shows its model; the thread marks each switch
        badges = [str(card._meta.render()) for card in screen.thread.cards()]
        for badge, model in zip(badges, ["layout", "second", "third", "layout"], strict=True):
            assert model in badge
        switches = [str(w.render()) for w in screen.thread.query(".switch")]
        assert switches == ["── model: layout → second ──", "── model: second → third ──",
                            "── model: third → layout ──"]
        stored = app.studio.load_thread(screen.conversation_id)
        assert [m.model for m in stored.messages] == ["layout", "second", "third", "layout"]

    # the switch markers come back after a restart
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert len(screen.thread.query(".switch")) == 3
