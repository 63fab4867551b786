"""Themes (built-in + user files, broken file reported once, persisted), keymap, help, card
actions (receipt, copy seed, pick, viewer failure), lazy windows, import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatimg.compare import ImageRef
from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


def test_builtin_themes_load() -> None:
    from chatimg.tui.themes import load_themes

    loaded = load_themes()
    assert loaded.problems == []
    assert len(loaded.themes) >= 5
    assert {"chatimg-dark", "chatimg-light"} <= set(loaded.themes)
    assert any(not theme.dark for theme in loaded.themes.values())


async def test_user_theme_broken_file_and_persistence(make_app: Any, home: Path,
                                                      config_file: Path) -> None:
    from chatimg import paths

    themes = paths.user_themes_dir()
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\ndark = false\n')
    (themes / "broken.toml").write_text("name = [unterminated\n")
    (themes / "badcolour.toml").write_text('name = "bad"\nprimary = "not-a-colour"\n')
    config_file.write_text('theme = "nope"\n' + config_file.read_text())
    app = make_app()
    notes: list[str] = []
    original = app.notify

    def notify(message: str, **kw: Any) -> None:
        notes.append(message)
        original(message, **kw)

    app.notify = notify
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.theme == "chatimg-dark"  # default used
        assert "mine" in app.available_themes and "bad" not in app.available_themes
        problems = [n for n in notes if "broken.toml" in n]
        assert len(problems) == 1  # reported once, together
        assert "badcolour.toml" in problems[0] and "'nope' not found" in problems[0]
        await type_and_send(pilot, "/theme mine")
        await wait_until(pilot, lambda: app.theme == "mine", what="theme switched")
    assert json.loads(paths.state_file().read_text())["theme"] == "mine"
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert again.theme == "mine"


async def test_keymap_applies_and_help_lists_it(make_app: Any, config_file: Path) -> None:
    from chatimg.tui.screens.help import HelpScreen
    from chatimg.tui.screens.model_picker import ModelPicker

    config_file.write_text('[keymap]\n"composer.model" = "f5"\n"app.help" = "f2"\n\n'
                           + config_file.read_text())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), what="picker via f5")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="closed")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help via f2")
        rows = {row[3]: row[1] for row in app.screen.rows}
        assert rows["composer.model"] == "f5" and rows["app.help"] == "f2"
        assert rows["card.regenerate"] == "r"


async def test_card_actions(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.tui import viewer
    from chatimg.tui.screens.dialogs import ReceiptScreen

    app = make_app()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    monkeypatch.setattr(viewer, "viewer_command", lambda path: ["false", path])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/seed 1234")
        await type_and_send(pilot, '"seeded"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1
                         and screen.thread.cards()[0].status == "succeeded", what="card")
        card = screen.thread.cards()[0]
        card.focus()
        await pilot.press("c")
        await wait_until(pilot, lambda: copied == ["1234"], what="seed copied")
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), what="receipt")
        receipt = json.loads(app.screen.text)
        assert receipt["receipt"]["request"]["seed"] == 1234
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="receipt closed")
        card.focus()
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.picked == [ImageRef(card.generation_id)],
                         what="picked")
        assert card.has_class("-picked")
        await type_and_send(pilot, "/compare")
        await wait_until(pilot, lambda: "at least two" in screen.composer.hint_text,
                         what="compare needs two")
        card.focus()
        await pilot.press("R")  # new seed
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2
                         and screen.thread.cards()[1].status == "succeeded", what="reseeded")
        assert screen.thread.cards()[1].generation.params["seed"] != 1234
        card.focus()
        await pilot.press("o")
        await wait_until(pilot, lambda: any("could not open" in n.message
                                            for n in app._notifications), what="viewer error")


async def test_long_thread_is_windowed(make_app: Any) -> None:
    from chatimg.spec import GenerationSpec
    from chatimg.studio import Studio
    from chatimg.tui.state import UiState, save_state
    from chatimg.tui.widgets.message_block import MessageBlock
    from chatimg.tui.widgets.thread import WINDOW

    studio = Studio.open()
    conversation = studio.create_conversation("long", "layout")
    for index in range(WINDOW + 5):
        await studio.generate(f'"{index}"', ["layout"], GenerationSpec.build(width=32, height=32),
                              conversation_id=conversation.id, validate=False)
    studio.close()
    save_state(UiState(conversation_id=conversation.id))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        # the newest messages that fill the view are read and mounted, not the whole thread
        read = len(thread.messages)
        assert 0 < read < WINDOW + 5 and thread.unloaded == WINDOW + 5 - read
        assert 0 < len(thread.query(MessageBlock)) <= read
        await wait_until(pilot, lambda: thread.max_scroll_y > 0
                         and thread.scroll_y == thread.max_scroll_y, what="at end")
        for _ in range(WINDOW + 5):  # reaching the top mounts (and then loads) more
            if len(thread.query(MessageBlock)) == WINDOW + 5:
                break
            count = len(thread.query(MessageBlock))
            thread.scroll_home(animate=False, immediate=True)

            def more(before: int = count) -> bool:  # and the view kept where it was
                return len(thread.query(MessageBlock)) > before and not thread._mounting_earlier

            await wait_until(pilot, more, what="earlier messages")
        assert len(thread.query(MessageBlock)) == WINDOW + 5
        first = screen.thread.query(MessageBlock).first()
        assert first.text == '"0"'
        await wait_until(pilot, lambda: not screen.thread.query("#earlier"), what="no button")


def test_app_import_does_not_load_torch() -> None:
    code = ("import sys, chatimg.tui.app; "
            "print([m for m in ('torch', 'diffusers', 'transformers', 'onnxruntime') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


async def test_deleting_a_card_asks_then_removes_the_generation(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"first"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1
                         and screen.thread.cards()[0].status == "succeeded", what="one card")
        await type_and_send(pilot, '"second"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2
                         and all(c.status == "succeeded" for c in screen.thread.cards()),
                         what="two cards")
        doomed, kept = screen.thread.cards()
        doomed_id = doomed.generation_id
        doomed.focus()
        await pilot.press("delete")
        await pilot.press("n")  # changed my mind
        await wait_until(pilot, lambda: app.screen is screen, what="dialog closed")
        assert len(screen.thread.cards()) == 2
        doomed.focus()
        await pilot.press("delete")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="card removed")
        thread = app.studio.load_thread(screen.conversation_id)
        remaining = [g.id for m in thread.messages for g in m.generations]
        assert remaining == [kept.generation_id] and doomed_id not in remaining


@pytest.mark.parametrize("dark", [True, False])
async def test_a_saved_theme_colours_the_first_frame(make_app: Any, dark: bool) -> None:
    """The theme chosen last time is the one the app starts with, its colours on the screen
    and the thread, and its mode class set (a dark theme is applied before any stylesheet is
    parsed; a light one also remaps ANSI colours)."""
    from textual.color import Color

    from chatimg import paths
    from chatimg.tui.state import UiState, save_state

    themes = paths.user_themes_dir()
    themes.mkdir(parents=True)
    (themes / "saved.toml").write_text(
        f'name = "saved"\nprimary = "#3060c0"\nbackground = "#102030"\ndark = {str(dark).lower()}\n')
    save_state(UiState(theme="saved"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert app.theme == "saved"
        assert app.has_class("-theme-saved")
        assert app.has_class("-dark-mode") is dark and app.has_class("-light-mode") is not dark
        assert screen.thread.styles.background == Color.parse("#102030")
        assert app.current_theme.dark is dark
