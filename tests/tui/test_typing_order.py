"""Keys that arrive together are applied in the order they were typed.

The keys are posted to the app in one burst, with no wait between them: what a fast typist, a
held Backspace or a busy moment (a generation, a collection) delivers. Textual runs a focused
widget's own bindings only once the key has bubbled up to the app, after the characters typed
later; these tests fail that way without ``KeysInOrder``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual import events

from tests.tui.conftest import SIZE, ready, wait_until


def _burst(app: Any, keys: list[str]) -> None:
    """Post ``keys`` (names, or single characters) to the app without waiting."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key("space" if key == " " else key, key))
        else:
            app.post_message(events.Key(key, None))


async def _settled(pilot: Any, read: Any) -> Any:
    """``read()`` once it has stopped changing (the burst has been handled)."""
    last = read()
    for _ in range(100):
        await asyncio.sleep(0.05)
        now = read()
        if now == last:
            return now
        last = now
    return last


async def test_a_burst_of_keys_edits_the_filter_in_the_order_typed(make_app: Any) -> None:
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        studio.repo.create_conversation("one generation", "layout")
        studio.repo.create_conversation("long thread", "layout")
    finally:
        studio.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+l", *"long")
        field = screen.query_one("#filter")
        await wait_until(pilot, lambda: field.value == "long", what="the filter typed")
        _burst(app, ["backspace"] * 4 + list("one gen"))
        assert await _settled(pilot, lambda: field.value) == "one gen"
        # the keys moving the cursor and deleting keep their place among the characters too
        _burst(app, ["home", "delete", "delete", "delete", *"two", "end", "backspace", "t"])
        assert await _settled(pilot, lambda: field.value) == "two get"


async def test_a_prompt_typed_with_corrections_and_sent_at_once_is_sent_as_typed(
        make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.composer.prompt
        prompt.focus()
        await wait_until(pilot, lambda: app.focused is prompt, what="the prompt focused")
        _burst(app, [*'a postr "SAEL"', "left", "backspace", "backspace", "backspace",
                     *"ALE", "end", "left", *" x", "backspace", "backspace", "home",
                     "right", "right", *"big ", "enter"])
        await wait_until(pilot, lambda: bool(screen.thread.query("MessageBlock")),
                         what="the prompt sent")
        block = screen.thread.query("MessageBlock").last()
        assert block.text == 'a big postr "SALE"'
        assert await _settled(pilot, lambda: prompt.text) == ""


async def test_keys_typed_right_after_a_key_that_moves_the_focus_reach_the_new_field(
        make_app: Any) -> None:
    """Ctrl+L then a filter, Ctrl+N then a prompt, in one burst each: the text lands where
    the key sent the focus (``Widget.focus`` queued the move behind the keys already typed)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt, field = screen.composer.prompt, screen.query_one("#filter")
        prompt.focus()
        await wait_until(pilot, lambda: app.focused is prompt, what="the prompt focused")
        _burst(app, ["ctrl+l", *"long"])
        assert await _settled(pilot, lambda: field.value) == "long"
        assert prompt.text == "" and app.focused is field
        _burst(app, ["ctrl+n", *"a poster"])
        assert await _settled(pilot, lambda: prompt.text) == "a poster"
        assert field.value == "long" and app.focused is prompt
