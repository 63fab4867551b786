"""Deleting a conversation while its work still runs (issue 12, bug 1): the work is dropped
quietly; no database error appears and nothing is put back into the composer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


@pytest.mark.parametrize("when", ["checks running", "before the first generation"])
async def test_deleting_a_conversation_while_its_work_runs_is_quiet(
        make_app: Any, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    import chatimg.validate
    from chatimg.generation import GenerationRun
    from chatimg.tui.screens.dialogs import ConfirmScreen

    entered, release = threading.Event(), threading.Event()
    if when == "checks running":
        real_validate = chatimg.validate.validate_images

        def gated_checks(*args: Any, **kwargs: Any) -> Any:
            entered.set()
            release.wait(30)  # the checks (a thread) "run" until the conversation is gone
            return real_validate(*args, **kwargs)

        monkeypatch.setattr(chatimg.validate, "validate_images", gated_checks)
    else:
        real_run = GenerationRun.run

        async def gated_run(self: GenerationRun, *args: Any, **kwargs: Any) -> Any:
            entered.set()  # the message is stored; no generation is yet
            for _ in range(3000):
                if release.is_set():
                    break
                await asyncio.sleep(0.01)
            return await real_run(self, *args, **kwargs)

        monkeypatch.setattr(GenerationRun, "run", gated_run)
    app = make_app()
    notes: list[str] = []
    original = app.notify

    def notify(message: str, **kw: Any) -> None:
        notes.append(message)
        original(message, **kw)

    app.notify = notify
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await type_and_send(pilot, 'a "SALE" poster')
            await wait_until(pilot, entered.is_set, what=when)
            assert screen.running == 1
            await pilot.press("f8")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                             what="confirm")
            await pilot.press("y")
            await wait_until(pilot, lambda: app.studio.list_conversations() == [],
                             what="deleted")
            screen.composer.prompt.focus()
            await pilot.press(*"next idea")
            release.set()
            await wait_until(pilot, lambda: screen.running == 0, what="the send to end")
            await wait_until(pilot, lambda: not any(
                worker.is_running for worker in screen.workers), what="workers done")
            await pilot.pause()
            assert screen.composer.prompt.text == "next idea"
            assert not screen.composer.hint_text.startswith("✗"), screen.composer.hint_text
            assert not [note for note in notes if "error" in note or "failed" in note], notes
            assert screen.conversation_id is None
            assert screen.thread.cards() == []
            assert app.studio.list_conversations() == []
    finally:
        release.set()
