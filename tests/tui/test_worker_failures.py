"""An exception in any kind of worker (sidebar load, generation, validation, card action, compare
load) reaches the app's one failure handler: a one-line notification, the traceback in the log
file, and the app keeps working."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


def _record_notifications(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    notes: list[str] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        notes.append(message)
        original(message, **kwargs)

    monkeypatch.setattr(app, "notify", notify)
    return notes


async def _reported(pilot: Any, notes: list[str], title: str, boom: str) -> None:
    """A one-line notice ``TITLE failed: RuntimeError: BOOM (traceback in LOG)``, and the
    traceback with ``BOOM`` in that log file."""
    from chatimg import paths

    expected = f"{title} failed: RuntimeError: {boom}"
    await wait_until(pilot, lambda: any(expected in note for note in notes),
                     what=f"notice {expected!r}")
    note = next(note for note in notes if expected in note)
    assert "\n" not in note and str(paths.log_file()) in note
    log = paths.log_file().read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and f"RuntimeError: {boom}" in log


def _boom(message: str) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(message)

    return fail


async def _still_works(pilot: Any, screen: Any, prompt: str = '"STILL HERE"') -> None:
    before = len(screen.thread.cards())
    await type_and_send(pilot, prompt)
    await wait_until(pilot, lambda: len(screen.thread.cards()) == before + 1 and
                     screen.thread.cards()[-1].status == "succeeded", what="a new card")


async def _one_card(pilot: Any, screen: Any, prompt: str) -> Any:
    before = len(screen.thread.cards())
    await type_and_send(pilot, prompt)
    await wait_until(pilot, lambda: len(screen.thread.cards()) == before + 1 and
                     screen.thread.cards()[-1].status == "succeeded" and screen.running == 0,
                     what="card")
    return screen.thread.cards()[-1]


async def test_sidebar_load_failure(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    notes = _record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        working = app.studio.list_conversations
        monkeypatch.setattr(app.studio, "list_conversations", _boom("sidebar boom"))
        screen.query_one("#filter").focus()
        await pilot.press("x")
        await _reported(pilot, notes, "loading conversations", "sidebar boom")
        monkeypatch.setattr(app.studio, "list_conversations", working)
        await pilot.press("backspace")
        await _still_works(pilot, screen)
        await wait_until(pilot, lambda: len(screen.sidebar.conversations) == 1, what="listed")


async def test_generation_failure_restores_the_prompt(make_app: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    notes = _record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        working = app.studio.generate
        monkeypatch.setattr(app.studio, "generate", _boom("engine boom"))
        await type_and_send(pilot, "a lighthouse")
        await _reported(pilot, notes, "generation", "engine boom")
        await wait_until(pilot, lambda: screen.running == 0, what="send over")
        assert screen.composer.prompt.text == "a lighthouse"
        assert not screen.thread.query("MessageBlock")
        monkeypatch.setattr(app.studio, "generate", working)
        await _still_works(pilot, screen)


async def test_validation_failure_keeps_the_image(make_app: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import chatimg.validate

    app = make_app()
    notes = _record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        working = chatimg.validate.validate_images
        monkeypatch.setattr(chatimg.validate, "validate_images", _boom("validator boom"))
        await type_and_send(pilot, '"CHECK ME"')
        await _reported(pilot, notes, "generation", "validator boom")
        (card,) = screen.thread.cards()
        await wait_until(pilot, lambda: card.status == "succeeded", what="image kept")
        assert app.studio.get_generation(card.generation_id).status == "succeeded"
        monkeypatch.setattr(chatimg.validate, "validate_images", working)
        await _still_works(pilot, screen)


async def test_card_action_failure(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    notes = _record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        card = await _one_card(pilot, screen, '"RERUN ME"')
        # `r` (same seed) is an action every model has, so it reaches the Studio
        monkeypatch.setattr(app.studio, "rerun", _boom("rerun boom"))
        card.focus()
        await pilot.press("r")
        await _reported(pilot, notes, "card action", "rerun boom")
        await wait_until(pilot, lambda: screen.running == 0, what="action over")
        assert len(screen.thread.query("MessageBlock")) == 1  # the pending block went away
        await _still_works(pilot, screen)


async def test_compare_load_failure(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import Static

    from chatimg.tui.screens.compare import CompareScreen

    app = make_app()
    notes = _record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        for prompt in ('"ONE"', '"TWO"'):
            card = await _one_card(pilot, screen, prompt)
            card.focus()
            await pilot.press("p")
        await wait_until(pilot, lambda: len(screen.picked) == 2, what="two picks")
        monkeypatch.setattr(app.studio, "get_generations", _boom("compare boom"))
        await type_and_send(pilot, "/compare")
        await _reported(pilot, notes, "loading the comparison", "compare boom")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await wait_until(pilot, lambda: "could not load" in str(
            compare.query_one("#compare-shared", Static).render()), what="said in place")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="back")
        await _still_works(pilot, screen)

