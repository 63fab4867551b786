"""Text the palette and the help screen show is shown as written (issue 12, bugs 2 and 3)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, wait_until
from tests.tui.screen_text import screen_text


async def test_palette_shows_install_hint_with_its_brackets(
        make_app: Any, monkeypatch: pytest.MonkeyPatch, config_file: Path,
        tiny_sd_path: Path) -> None:
    """A diffusers model on a machine without torch: the palette says how to install it,
    ``[local]`` included (it was eaten as Rich markup)."""
    import importlib.util

    from textual.command import CommandPalette

    from tests.tiny_diffusers import write_tiny_model_config

    write_tiny_model_config(config_file, tiny_sd_path)
    real_find_spec = importlib.util.find_spec

    def no_torch(name: str, package: str | None = None) -> Any:
        return None if name == "torch" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", no_torch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        tiny = next(listing for listing in screen.listings if listing.name == "tiny")
        assert not tiny.available and "'chatimg[local]'" in (tiny.reason or "")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"model: Use tiny")
        await wait_until(pilot, lambda: "not installed" in screen_text(app),
                         what="the tiny model's row")
        shown = screen_text(app)
        assert "pip install 'chatimg[local]'" in shown, shown


async def test_help_hint_for_the_keymap_is_valid_toml(make_app: Any) -> None:
    """F1's remap example parses as TOML and remaps ``card.regenerate`` (a dotted id must be
    quoted, as the README says)."""
    from chatimg.tui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.pause()
        app.screen.query_one("#help-body").scroll_end(animate=False)  # the hint is last
        await wait_until(pilot, lambda: "Remap keys" in screen_text(app), what="hint shown")
        lines = [line.strip(" │▏▕|") for line in screen_text(app).splitlines()]
        hint = next((line for line in lines if "Remap keys" in line), None)
        assert hint is not None
        example = hint.split(":", 1)[1].strip()
        table, _, binding = example.partition("]")
        parsed = tomllib.loads(f"{table}]\n{binding.strip()}\n")
        assert parsed == {"keymap": {"card.regenerate": "g"}}
