"""A user's ``[keymap]`` wins over the composer's own editing keys, in the keys, the footer
and the command palette (issue 12, bug 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.conftest import SIZE, ready, wait_until


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
                         what="the footer shows Model on ctrl+k")
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker),
                         what="the picker opened by ctrl+k")
        assert prompt.text == "a red fox"  # not "delete to the end of the line"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="picker closed")
        # Keys the user did not remap keep their editing meaning in the composer.
        prompt.focus()
        prompt.load_text("one two")
        prompt.move_cursor((0, 3))
        await pilot.press("ctrl+e")
        assert prompt.cursor_location == (0, 7)
