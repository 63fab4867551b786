"""Acceptance 4 (cancel a slow generation; typing works meanwhile) and 5 (bad input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until
from tests.tui.engines import register_test_engines


async def test_cancel_slow_generation_while_typing(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    register_test_engines(monkeypatch, config_file, "slow")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/model slow")
        await type_and_send(pilot, '"slowly"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="card")
        card = screen.thread.cards()[0]
        await wait_until(pilot, lambda: card.progress is not None and card.progress.step >= 2,
                         what="step progress")
        assert "denoising" in str(card._detail.render())
        # the composer keeps working while the engine runs
        screen.composer.prompt.focus()
        await pilot.press(*"next idea")
        assert screen.composer.prompt.text == "next idea"
        assert card.status == "running"
        step_at_cancel = card.progress.step
        await pilot.press("escape")
        await wait_until(pilot, lambda: card.status == "cancelled", timeout=10.0,
                         what="cancelled")
        # the engine stopped at its next step check, far from its 600 steps
        assert card.progress is None or card.progress.step <= step_at_cancel + 20
        assert "cancelled" in str(card._meta.render())
        assert "retry" in str(card._detail.render())
        assert screen.composer.prompt.text == "next idea"
        await wait_until(pilot, lambda: screen.running == 0, what="worker done")
        stored = app.studio.get_generation(card.generation_id)
        assert stored.status == "cancelled"


@pytest.mark.parametrize(("text", "needle"), [
    ("/seed abc", "seed must be a whole number"),
    ("/size 7x7", "16 to 4096"),
    ("/model nope", "unknown model 'nope'"),
])
async def test_bad_input_shows_inline_error_and_keeps_text(make_app: Any, text: str,
                                                           needle: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, text)
        await wait_until(pilot, lambda: needle in screen.composer.hint_text, what="inline error")
        assert screen.composer.prompt.text == text
        assert screen.composer.query_one("#composer-hint").has_class("-error")
        assert screen.thread.cards() == []
        # still alive: a good prompt after the error works
        await type_and_send(pilot, '"ok"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="card")


async def test_failed_send_restores_prompt(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.errors import StoreError

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise StoreError("database is locked", "try again")

        monkeypatch.setattr(app.studio, "generate", broken)
        await type_and_send(pilot, "a lighthouse")
        await wait_until(pilot, lambda: "database is locked" in screen.composer.hint_text,
                         what="error")
        assert screen.composer.prompt.text == "a lighthouse"
        assert not screen.thread.query("MessageBlock")


async def test_failure_card_says_why_and_retries(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    register_test_engines(monkeypatch, config_file, "failing")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/model failing")
        await type_and_send(pilot, "a cat")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="card")
        card = screen.thread.cards()[0]
        await wait_until(pilot, lambda: card.status == "failed", what="failure")
        detail = str(card._detail.render())
        assert "the server said no (HTTP 503)" in detail and "r retry" in detail
        card.focus()
        await pilot.press("r")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2, what="retry card")
        retry = screen.thread.cards()[1]
        await wait_until(pilot, lambda: retry.status == "failed", what="retry ran")
        stored = app.studio.load_thread(screen.conversation_id)
        assert stored.messages[1].parent_id == stored.messages[0].id
