"""Acceptance 6: snapshots of the main screen (empty, thread, error card), the model picker and
the help screen, in a dark and a light theme.

Deterministic on purpose: fixed seeds, fixed latencies written to the store, a fixed terminal
size, half-cell images (no terminal probing) and an empty Hugging Face cache.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import images_loaded, ready, wait_until
from tests.tui.engines import register_test_engines

THEMES = ("chatimg-dark", "chatimg-light")
SIZE = (110, 36)


@pytest.fixture(autouse=True)
def _stable_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    # The sidebar's "how long ago" reads the same however long the run took.
    monkeypatch.setattr("chatimg.tui.widgets.sidebar.relative_time", lambda then, now: "now")


def _seed_thread(prompts: list[tuple[str, str]], *, theme: str) -> None:
    """Store messages (prompt, model) with seed 7 and fixed latencies; open them on start."""
    from chatimg.spec import GenerationSpec
    from chatimg.studio import Studio
    from chatimg.tui.state import UiState, save_state

    studio = Studio.open()
    try:
        conversation = studio.create_conversation("Poster ideas", prompts[0][1])
        for prompt, model in prompts:
            outcome = asyncio.run(studio.generate(
                prompt, [model], GenerationSpec.build(seed=7, width=256, height=256),
                conversation_id=conversation.id))
            for generation in outcome.generations:
                studio.repo.update_generation(generation.id, latency_ms=42.0)
        studio.create_conversation("Logo sketches", "layout")
        save_state(UiState(conversation_id=conversation.id, theme=theme))
    finally:
        studio.close()


def _app() -> Any:
    from chatimg.studio import Studio
    from chatimg.tui.app import ChatImgApp

    return ChatImgApp(Studio.open())


def _set_theme(theme: str) -> None:
    from chatimg.tui.state import UiState, save_state

    save_state(UiState(theme=theme))


async def _no_blink(pilot: Any) -> None:
    """Stop cursors blinking so the screenshot does not depend on timing."""
    for widget in pilot.app.screen.query("*"):
        if hasattr(widget, "cursor_blink"):
            widget.cursor_blink = False
    await pilot.pause()


async def _settle(pilot: Any) -> None:
    screen = await ready(pilot)
    await wait_until(pilot, lambda: images_loaded(screen), what="thumbnails")
    await wait_until(pilot, lambda: screen.running == 0, what="idle")
    await wait_until(pilot, lambda: screen.thread.scroll_y == screen.thread.max_scroll_y,
                     what="scrolled to the end")
    await _no_blink(pilot)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
def test_main_empty(snap_compare: Any, theme: str) -> None:
    _set_theme(theme)
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_settle)


@pytest.mark.parametrize("theme", THEMES)
def test_main_with_thread(snap_compare: Any, theme: str, monkeypatch: pytest.MonkeyPatch,
                          config_file: Path) -> None:
    register_test_engines(monkeypatch, config_file, "second")
    _seed_thread([('a "HELLO" poster, blue', "layout"), ('"BYE" in red', "second")],
                 theme=theme)
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_settle)


@pytest.mark.parametrize("theme", THEMES)
def test_main_with_error_card(snap_compare: Any, theme: str, monkeypatch: pytest.MonkeyPatch,
                              config_file: Path) -> None:
    register_test_engines(monkeypatch, config_file, "failing")
    _seed_thread([("a lighthouse at dusk", "failing")], theme=theme)
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_settle)


@pytest.mark.parametrize("theme", THEMES)
def test_model_picker(snap_compare: Any, theme: str) -> None:
    _set_theme(theme)

    async def open_picker(pilot: Any) -> None:
        from chatimg.tui.screens.model_picker import ModelPicker

        await _settle(pilot)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker),
                         what="picker")
        # filter to the foundation's diffusers entries so new catalog models do not churn this
        await pilot.press(*"diffusers")
        await _no_blink(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=open_picker)


@pytest.mark.parametrize("theme", THEMES)
def test_help_screen(snap_compare: Any, theme: str) -> None:
    _set_theme(theme)

    async def open_help(pilot: Any) -> None:
        from chatimg.tui.screens.help import HelpScreen

        await _settle(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
        await _no_blink(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=open_help)
