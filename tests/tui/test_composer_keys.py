"""Composer keys: Enter sends, Shift+Enter / Ctrl+J add a line, Tab completes commands."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import SIZE, ready, wait_until


async def test_newline_keys_and_completion(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.composer.prompt
        prompt.focus()
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert prompt.text == "a\nb\nc"
        prompt.load_text("")
        await pilot.press("/", "m", "o")
        await wait_until(pilot, lambda: "/model" in screen.composer.hint_text, what="hint")
        await pilot.press("tab")
        assert prompt.text == "/model "
        await pilot.press("l", "a", "tab")
        assert prompt.text == "/model layout"
        await pilot.press("enter")
        await wait_until(pilot, lambda: prompt.text == "", what="command accepted")
        assert "model → layout" in screen.composer.hint_text
