"""The composer after slash commands: the status line says how an export ended, and a failed
command can be replaced by typing (issue 12, bugs 5 and 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


async def test_status_line_says_exported_when_the_export_ends(make_app: Any,
                                                              tmp_path: Path) -> None:
    app = make_app()
    notes: list[str] = []
    original = app.notify

    def notify(message: str, **kw: Any) -> None:
        notes.append(message)
        original(message, **kw)

    app.notify = notify
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"ONE"')
        await wait_until(pilot, lambda: screen.running == 0 and any(
            c.status == "succeeded" for c in screen.thread.cards()), what="a card")
        target = tmp_path / "thread.zip"
        await type_and_send(pilot, f"/export {target}")
        await wait_until(pilot, lambda: any(n.startswith("exported") for n in notes),
                         what="the exported toast")
        await wait_until(pilot, lambda: not screen.composer.hint_text.startswith("exporting"),
                         timeout=5, what="the status line to move on from 'exporting'")
        assert screen.composer.hint_text == f"exported to {target}"
        assert target.is_file()


async def test_a_failed_export_says_so_on_the_status_line(make_app: Any, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"ONE"')
        await wait_until(pilot, lambda: screen.running == 0 and any(
            c.status == "succeeded" for c in screen.thread.cards()), what="a card")
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        await type_and_send(pilot, f"/export {blocker / 'thread.zip'}")
        await wait_until(pilot, lambda: screen.composer.hint_text.startswith("✗ export failed"),
                         what="the failure on the status line")


async def test_typing_after_a_failed_command_replaces_it(make_app: Any) -> None:
    """``/describe`` with no image fails; the command stays (to fix it) but is selected, so
    typing the next command replaces it instead of making ``/describe/edit``."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/describe")
        await wait_until(pilot, lambda: screen.composer.hint_text.startswith("✗"),
                         what="the error")
        assert "select a card with an image" in screen.composer.hint_text
        assert screen.composer.prompt.text == "/describe"  # kept, to be fixed or replaced
        assert screen.composer.prompt.has_focus
        await pilot.press(*"/nope")
        assert screen.composer.prompt.text == "/nope"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "unknown command" in screen.composer.hint_text,
                         what="the second error")
        assert "/nope" in screen.composer.hint_text and "describe" not in \
            screen.composer.hint_text
        # a parse error leaves it selected too; moving the cursor keeps it for editing
        await pilot.press("end", *" x")
        assert screen.composer.prompt.text == "/nope x"
