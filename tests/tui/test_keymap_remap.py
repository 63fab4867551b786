"""A user's ``[keymap]`` wins over the composer's own editing keys, in the keys, the footer
and the command palette (issue 12, bug 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until

LONG = 30.0
"""Seconds a step may take on a loaded machine (a bound, never asserted)."""


def footer_keys(app: Any) -> dict[str, str]:
    """What the footer shows: description → key as displayed."""
    from textual.widgets._footer import FooterKey

    return {str(key.description): key.key for key in app.screen.query(FooterKey)}


async def test_remapped_model_key_works_from_the_composer(make_app: Any,
                                                          config_file: Path) -> None:
    from chatimg.tui.screens.model_picker import ModelPicker

    config_file.write_text('[keymap]\n"composer.model" = "ctrl+k"\n\n' + config_file.read_text())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.composer.prompt
        assert prompt.has_focus  # the default focus
        prompt.load_text("a red fox")
        prompt.move_cursor((0, 2))
        await wait_until(pilot, lambda: footer_keys(app).get("Model") == "ctrl+k",
                         timeout=LONG, what="the footer shows Model on ctrl+k")
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker),
                         timeout=LONG, what="the picker opened by ctrl+k")
        assert prompt.text == "a red fox"  # not "delete to the end of the line"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, timeout=LONG, what="picker closed")
        # Keys the user did not remap keep their editing meaning in the composer.
        prompt.focus()
        prompt.load_text("one two")
        prompt.move_cursor((0, 3))
        await pilot.press("ctrl+e")
        assert prompt.cursor_location == (0, 7)


async def test_palette_lists_every_action_with_the_users_keys(
        make_app: Any, config_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.command import CommandPalette

    from chatimg.tui.commands import ActionCommands, ConversationCommands
    from chatimg.tui.widgets.card import CARD_ACTIONS

    monkeypatch.chdir(tmp_path)  # /export without a path writes to the current folder
    config_file.write_text('[keymap]\n"composer.model" = "ctrl+k"\n"card.pick" = "x"\n'
                           '"sidebar.toggle" = "f6"\n\n' + config_file.read_text())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"poster"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1
                         and screen.thread.cards()[0].status == "succeeded",
                         timeout=LONG, what="a card")
        card = screen.thread.cards()[0]
        card.focus()
        await wait_until(pilot, lambda: footer_keys(app).get("Pick for compare") == "x",
                         timeout=LONG, what="the footer shows the remapped card key")
        hints: dict[str, str] = {}
        for provider_class in (ActionCommands, ConversationCommands):
            provider = provider_class(app.screen)
            hints.update({title: help_text for title, _call, help_text in provider.commands()})
        assert hints["composer: Choose model"] == "ctrl+k"
        assert hints["card: Pick for compare"] == "x"
        assert hints["sidebar: Collapse or expand"] == "f6"
        assert hints["card: Regenerate (same seed)"] == "r"
        assert hints["composer: Search prompt history"].startswith("ctrl+f")
        for _action, _key, _binding_id, title in CARD_ACTIONS:
            assert title in hints
        for title in ("conversation: Export as a bundle", "conversation: Compare picked images",
                      "card: Edit prompt and resend as a branch", "app: Quit",
                      "app: Change theme", "generation: Cancel running"):
            assert title in hints
        # The palette runs them: export writes the bundle.
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette),
                         timeout=LONG, what="palette")
        await pilot.press(*"export as")
        await wait_until(pilot, lambda: "Export as a bundle" in str(
            app.screen.query_one("CommandList").get_option_at_index(0).prompt),
            timeout=LONG, what="export listed")
        await pilot.press("enter")
        bundle = tmp_path / f"{screen.conversation_id}.zip"
        await wait_until(pilot, lambda: bundle.is_file(), timeout=LONG, what="the bundle")
        # And the remapped sidebar key works.
        await wait_until(pilot, lambda: app.screen is screen, timeout=LONG, what="palette closed")
        await pilot.press("f6")
        await wait_until(pilot, lambda: not screen.sidebar.display,
                         timeout=LONG, what="collapsed by f6")
