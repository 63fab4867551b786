"""Sidebar: newest first, filter as you type, new / rename / delete (with confirmation)."""

from __future__ import annotations

from functools import partial
from typing import Any

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


async def _seed(titles_and_prompts: list[tuple[str, str]]) -> list[str]:
    from chatimg.studio import Studio

    studio = Studio.open()
    ids = []
    try:
        for title, prompt in titles_and_prompts:
            conversation = studio.create_conversation(title, "layout")
            ids.append(conversation.id)
            if prompt:
                await studio.generate(prompt, ["layout"], conversation_id=conversation.id,
                                      validate=False)
    finally:
        studio.close()
    return ids


def _titles(screen: Any) -> list[str]:
    return [c.title for c in screen.sidebar.conversations]


async def test_filter_rename_delete(make_app: Any) -> None:
    from chatimg.tui.screens.dialogs import AskScreen, ConfirmScreen

    await _seed([("Cats", "a tabby cat"), ("Dogs", "a corgi in the snow"), ("Birds", "")])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert _titles(screen)[0] in ("Dogs", "Birds")  # newest activity first
        assert set(_titles(screen)) == {"Cats", "Dogs", "Birds"}

        await pilot.press("ctrl+l")
        await pilot.press(*"corgi")  # prompt text, not only titles
        await wait_until(pilot, lambda: _titles(screen) == ["Dogs"], what="filtered")
        await pilot.press("enter", "enter")  # to the list, open the highlighted one
        await wait_until(pilot, lambda: screen.thread_loaded and screen.conversation_id
                         == screen.sidebar.conversations[0].id, what="opened")
        assert "a corgi in the snow" in str(screen.thread.query_one(".prompt").render())

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen), what="rename dialog")
        app.screen.query_one("Input").value = "Corgis"
        await pilot.press("enter")
        await wait_until(pilot, lambda: _titles(screen) == ["Corgis"], what="renamed")

        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")  # says no: nothing happens
        await wait_until(pilot, lambda: app.screen is screen, what="closed")
        assert _titles(screen) == ["Corgis"]
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: _titles(screen) == [], what="deleted")
        assert screen.conversation_id is None
        assert len(app.studio.list_conversations()) == 2

        screen.sidebar.query_one("#filter").value = ""
        await wait_until(pilot, lambda: len(_titles(screen)) == 2, what="unfiltered")
        await pilot.press("ctrl+n")
        await type_and_send(pilot, "a brand new idea")
        await wait_until(pilot, lambda: "a brand new idea" in _titles(screen), what="new conv")


def _cards_settled(screen: Any, count: int) -> bool:
    return len(screen.thread.cards()) == count and screen.running == 0


async def test_rename_command_and_restore_scroll(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        for index in range(4):
            await type_and_send(pilot, f'"card {index}"')
            await wait_until(pilot, partial(_cards_settled, screen, index + 1), what="card")
        await type_and_send(pilot, "/rename Four cards")
        await wait_until(pilot, lambda: _titles(screen) == ["Four cards"], what="renamed")
        assert screen.composer.prompt.text == ""
        screen.thread.scroll_to(y=7, animate=False, immediate=True)
        await pilot.pause()
        conversation_id = screen.conversation_id
        await pilot.press("ctrl+q")  # quitting saves the open conversation and position
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.conversation_id == conversation_id
        await wait_until(pilot, lambda: screen.thread.scroll_y == 7, what="scroll restored")



async def test_a_conversation_opened_just_before_closing_is_the_one_reopened(
        make_app: Any) -> None:
    """Opening saves the UI state once the open settles; closing the app first (not by
    ctrl+q, which saves anyway) still saves it."""
    await _seed([("Cats", "a tabby cat"), ("Dogs", "a corgi in the snow")])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        cats = next(c.id for c in screen.sidebar.conversations if c.title == "Cats")
        screen.open_conversation(cats)
        await wait_until(pilot, lambda: screen.thread_loaded and screen.conversation_id == cats,
                         what="opened")
        app.exit()  # at once: the save scheduled by the open has not run yet
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.conversation_id == cats
