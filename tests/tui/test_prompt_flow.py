"""Issue 12's keyboard flow around the composer: prompt history (Up/Down and the searchable
list, across conversations and restarts), "edit and resend" as a branch, and composer settings
that survive a restart (bug 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until

LONG = 30.0
"""Seconds a step may take on a loaded machine (a bound, never asserted)."""


def _store_prompts(conversations: dict[str, list[str]]) -> None:
    """Messages in separate conversations, in the order given (the last is the newest)."""
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        for title, prompts in conversations.items():
            conversation = studio.create_conversation(title, "layout")
            for prompt in prompts:
                studio.add_message(conversation.id, prompt, model="layout")
    finally:
        studio.close()


async def _history_loaded(pilot: Any, count: int) -> Any:
    screen = await ready(pilot)
    await wait_until(pilot, lambda: len(screen.history.entries) >= count,
                     timeout=LONG, what="history")
    return screen


async def test_up_and_down_walk_prompts_of_every_conversation(make_app: Any) -> None:
    _store_prompts({"posters": ["red fox poster", "blue whale poster"],
                    "logos": ["a cat logo"]})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _history_loaded(pilot, 3)
        prompt = screen.composer.prompt
        assert prompt.has_focus and prompt.text == ""
        seen = []
        for _ in range(4):  # one more than there are: it stays on the oldest
            await pilot.press("up")
            seen.append(prompt.text)
        assert seen == ["a cat logo", "blue whale poster", "red fox poster", "red fox poster"]
        await pilot.press("down")
        assert prompt.text == "blue whale poster"
        await pilot.press("down", "down")
        assert prompt.text == ""  # past the newest: what was typed before (nothing)
        await pilot.press("d", "r", "a", "f", "t")
        await pilot.press("up")
        assert prompt.text == "a cat logo"
        await pilot.press("down")
        assert prompt.text == "draft"  # the draft comes back
        # A multi-line prompt: Up moves between its lines until the first one.
        prompt.load_text("line one\nline two")
        prompt.move_cursor((1, 3))
        await pilot.press("up")
        assert prompt.text == "line one\nline two" and prompt.cursor_location[0] == 0
        prompt.load_text("")
        await type_and_send(pilot, '"fresh"')
        await wait_until(pilot, lambda: screen.running == 0 and len(screen.thread.cards()) == 1,
                         timeout=LONG, what="sent")
        await pilot.press("up")
        assert prompt.text == '"fresh"'  # what was just sent comes first
    again = make_app()  # restart: the history comes from the stored messages
    async with again.run_test(size=SIZE) as pilot:
        screen = await _history_loaded(pilot, 4)
        await pilot.press("up")
        assert screen.composer.prompt.text == '"fresh"'
        await pilot.press("up")
        assert screen.composer.prompt.text == "a cat logo"


async def test_searchable_history_puts_the_chosen_prompt_in_the_composer(
        make_app: Any) -> None:
    from chatimg.tui.screens.history_search import HistorySearch

    _store_prompts({"posters": ["red fox poster", "blue whale poster", "red car ad"]})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _history_loaded(pilot, 3)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, HistorySearch),
                         timeout=LONG, what="history")
        search = app.screen
        assert search.found == ["red car ad", "blue whale poster", "red fox poster"]
        await pilot.press("r", "e", "d", "space", "f")
        await wait_until(pilot, lambda: search.found == ["red fox poster"],
                         timeout=LONG, what="filtered")
        await pilot.press("backspace", "backspace")
        await wait_until(pilot, lambda: len(search.found) == 2, timeout=LONG, what="two red ones")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is screen, timeout=LONG, what="closed")
        assert screen.composer.prompt.text == "red fox poster"
        assert screen.composer.prompt.has_focus
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, HistorySearch),
                         timeout=LONG, what="again")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, timeout=LONG, what="closed with esc")
        assert screen.composer.prompt.text == "red fox poster"  # nothing changed


async def test_edit_and_resend_makes_a_branch_of_the_edited_message(make_app: Any) -> None:
    from chatimg.tui.widgets.message_block import MessageBlock

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        for command in ("/seed 5", "/n 2", "/size 64x64"):
            await type_and_send(pilot, command)
        await type_and_send(pilot, '"first"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1
                         and screen.thread.cards()[0].status == "succeeded",
                         timeout=LONG, what="first")
        for command in ("/n 1", "/seed random", "/size 80x80"):
            await type_and_send(pilot, command)
        await type_and_send(pilot, '"second"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2
                         and screen.thread.cards()[1].status == "succeeded",
                         timeout=LONG, what="second")
        first_card = screen.thread.cards()[0]
        first_card.focus()
        await pilot.press("b")
        composer = screen.composer
        await wait_until(pilot, lambda: composer.prompt.text == '"first"',
                         timeout=LONG, what="prompt back")
        assert composer.prompt.has_focus
        assert "editing — branch from #1" in composer.hint_text
        # The edited message's settings came with it.
        assert (screen.options.count, screen.options.seed, screen.options.width) == (2, 5, 64)
        assert screen.options.seed_locked
        await pilot.press("end", "X", "enter")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 3
                         and all(c.status == "succeeded" for c in screen.thread.cards()),
                         timeout=LONG, what="the branch's cards")
        assert "editing" not in composer.hint_text
        thread = app.studio.load_thread(screen.conversation_id)
        first, second, branch = thread.messages
        assert branch.parent_id == first.id and branch.text == '"first"X'
        assert second.parent_id is None
        assert branch.generations[0].params["seed"] == 5
        assert branch.generations[0].spec.count == 2
        blocks = list(screen.thread.query(MessageBlock))
        assert blocks[-1].branch is not None and blocks[-1].branch.startswith("↳ branch of #1")
        # Esc leaves the editing state: the settings from before it come back.
        screen.options.set_count(3)
        screen.thread.cards()[1].focus()
        await pilot.press("b")
        await wait_until(pilot, lambda: composer.prompt.text == '"second"',
                         timeout=LONG, what="editing #2")
        assert screen.options.count == 1
        await pilot.press("escape")
        assert composer.prompt.text == "" and "stopped editing" in composer.hint_text
        assert screen.options.count == 3 and screen.editing is None
    # After a restart the thread still shows the branch.
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: len(screen.thread.query(MessageBlock)) == 3,
                         timeout=LONG, what="thread")
        labels = [block.branch for block in screen.thread.query(MessageBlock)]
        assert labels[:2] == [None, None] and labels[2] == '↳ branch of #1 “"first"”'


async def test_composer_settings_survive_a_restart(make_app: Any, home: Path) -> None:
    from chatimg import paths

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"poster"')
        await wait_until(pilot, lambda: screen.running == 0 and len(screen.thread.cards()) == 1,
                         timeout=LONG, what="sent")
        for command in ("/size 96x64", "/n 3", "/seed 42", "/steps 7", "/negative blur"):
            await type_and_send(pilot, command)
            await wait_until(pilot, lambda: screen.composer.prompt.text == "",
                             timeout=LONG, what=command)
        screen.action_cycle_preset()  # Balanced → Quality
        await pilot.press("ctrl+q")
    saved = json.loads(paths.state_file().read_text())["composer"]
    assert saved["preset"] == "Quality"
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        options = screen.options
        assert (options.width, options.height, options.count) == (96, 64, 3)
        assert (options.seed, options.seed_locked, options.steps) == (42, True, 7)
        assert options.negative == "blur" and options.preset == "Quality"
        assert str(screen.composer.query_one("#preset-chip").label) == "Quality"
        await type_and_send(pilot, '"again"')
        await wait_until(pilot, lambda: screen.running == 0 and len(screen.thread.cards()) == 2,
                         timeout=LONG, what="sent after the restart")
        generation = screen.thread.cards()[1].generation
        assert generation is not None and generation.spec.width == 96
        assert generation.spec.seed == 42 and generation.spec.count == 3


def test_saved_settings_that_no_longer_fit_are_left_at_their_defaults() -> None:
    from chatimg.tui.options import ComposerOptions

    saved = {"model": "gone-model", "fanout": ["layout", "gone"], "preset": "Ultra",
             "seed_locked": True, "spec": {"width": -5, "count": 2, "prompt": "x"}}
    options = ComposerOptions.from_state(saved, "layout", ["layout"])
    assert options.model == "layout" and options.fanout == () and options.preset == "Balanced"
    assert options.count == 2 and options.width is None and options.spec.prompt == ""
    assert not options.seed_locked  # there is no seed to lock
    assert ComposerOptions.from_state("junk", "layout").model == "layout"


async def test_leaving_the_conversation_stops_editing_and_keeps_what_was_typed(
        make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"first"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1
                         and screen.thread.cards()[0].status == "succeeded",
                         timeout=LONG, what="first")
        first_conversation = screen.conversation_id
        screen.thread.cards()[0].focus()
        await pilot.press("b")
        await wait_until(pilot, lambda: screen.editing is not None, timeout=LONG, what="editing")
        await pilot.press("end", "Y")
        await pilot.press("ctrl+n")  # a new conversation: a branch cannot cross over
        await wait_until(pilot, lambda: screen.conversation_id is None, timeout=LONG, what="new")
        assert screen.editing is None and not screen.composer.has_class("-editing")
        assert screen.composer.prompt.text == '"first"Y'  # edited text is kept
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.running == 0 and screen.conversation_id
                         not in (None, first_conversation),
                         timeout=LONG, what="sent in a new conversation")
        thread = app.studio.load_thread(screen.conversation_id)
        assert [m.parent_id for m in thread.messages] == [None]


async def test_a_branch_sent_after_the_unavailable_model_warning_stays_a_branch(
        make_app: Any) -> None:
    from chatimg.tui.screens.dialogs import ConfirmScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/size 64x64")
        await type_and_send(pilot, '"first"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1
                         and screen.thread.cards()[0].status == "succeeded",
                         timeout=LONG, what="first")
        screen.thread.cards()[0].focus()
        await pilot.press("b")
        await wait_until(pilot, lambda: screen.composer.prompt.text == '"first"',
                         timeout=LONG, what="editing")
        # While editing, the fan-out grows by a model that cannot run here (no key).
        screen.options.set_fanout(("layout", "ideogram-v3"))
        screen.options_changed()
        await pilot.press("end", "X", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                         timeout=LONG, what="warning")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2
                         and screen.thread.cards()[1].status == "succeeded",
                         timeout=LONG, what="the branch")
        first, branch = app.studio.load_thread(screen.conversation_id).messages
        assert branch.parent_id == first.id and branch.text == '"first"X'
        assert "editing" not in screen.composer.hint_text
        assert screen.history.entries[0] == '"first"X'  # newest first
