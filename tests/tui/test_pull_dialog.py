"""Downloading from the app: the picker marks downloadable models with their size, picking one
offers to pull it with progress (cancellable), and the first run with a GPU offers SD-Turbo once."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.widgets import Input, OptionList

from tests.fakehub import FakeHub, serve_hub
from tests.hub.conftest import REPO, UNET, tiny_repo_files
from tests.tui.conftest import SIZE, ready, wait_until


@pytest.fixture
def hub(tiny_sd_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        config_file: Path) -> Iterator[FakeHub]:
    """The hub stand-in with the tiny pipeline; the app's child processes go online to it."""
    with serve_hub() as server:
        server.repo(REPO).add_commit(tiny_repo_files(tiny_sd_path))
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        for name in ("HF_HUB_OFFLINE", "HF_HUB_CACHE", "HF_TOKEN", "HUGGINGFACE_HUB_CACHE",
                     "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            monkeypatch.delenv(name, raising=False)
        config_file.write_text(
            config_file.read_text(encoding="utf-8")
            + f'[models.tiny-hub]\nengine = "diffusers"\nsource = "{REPO}"\nsteps = 2\n'
            'width = 64\nheight = 64\ndownload_gb = 0.1\nlicence = "test-licence"\n',
            encoding="utf-8")
        yield server


async def _open_picker_on(pilot: Any, screen: Any, query: str) -> Any:
    from chatimg.tui.screens.model_picker import ModelPicker

    screen.composer.prompt.focus()
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker), what="picker")
    picker = pilot.app.screen
    picker.query_one("#model-search", Input).value = query
    await wait_until(pilot, lambda: picker.query_one(OptionList).option_count == 1,
                     what="one match")
    return picker


async def test_picker_pulls_a_downloadable_model_with_progress(
        make_app: Any, hub: FakeHub, tmp_path: Path) -> None:
    from chatimg.tui.screens.pull import PullScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = await _open_picker_on(pilot, screen, "tiny-hub")
        row = str(picker.query_one(OptionList).get_option_at_index(0).prompt)
        assert "⇣ download 0.1 GB" in row
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PullScreen), what="pull dialog")
        dialog = app.screen
        assert "test-licence" in str(dialog.query_one("#pull-details").render())
        seen: list[str] = []
        await pilot.press("y")
        def status() -> bool:
            with contextlib.suppress(NoMatches):
                seen.append(str(dialog.query_one("#pull-status").render()))
            return screen.options.model == "tiny-hub"

        await wait_until(pilot, status, timeout=240, what="pulled and picked")
        assert app.screen is screen
        assert any("files" in text and "/" in text for text in seen)  # bytes and files shown
        assert len(hub.gets(UNET)) == 1
        assert app.studio.catalog.listing("tiny-hub").download_gb is None  # now here


async def test_cancelling_a_pull_stops_it_and_keeps_the_picker(
        make_app: Any, hub: FakeHub, tmp_path: Path) -> None:
    from chatimg.tui.screens.model_picker import ModelPicker
    from chatimg.tui.screens.pull import PullScreen

    release = threading.Event()
    hub.stall[UNET] = release
    app = make_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await _open_picker_on(pilot, screen, "tiny-hub")
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, PullScreen), what="dialog")
            dialog = app.screen
            await pilot.press("y")
            await wait_until(pilot, lambda: hub.stalled.is_set(), timeout=240,
                             what="download under way")
            process = dialog.process
            assert process is not None
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker),
                             what="back in the picker")
            await wait_until(pilot, lambda: process.returncode is not None, timeout=30,
                             what="download process ended")
            assert screen.options.model != "tiny-hub"
            row = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
            assert "⇣ download" in row  # still to download
    finally:
        release.set()


async def test_first_run_with_a_gpu_offers_sd_turbo_once(
        make_app: Any, hub: FakeHub, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.tui.screens.pull import PullScreen
    from chatimg.tui.state import load_state

    async def gpu() -> bool:
        return True

    monkeypatch.setattr("chatimg.tui.screens.pull.probe_accelerator", gpu)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, PullScreen), what="offer")
        assert app.screen.model == "sd-turbo"
        assert "about 2.6 GB" in str(app.screen.query_one("#pull-details").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is app.main_screen, what="declined")
    assert load_state(app.state_path).starter_offered

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for _ in range(20):
            await pilot.pause(0.02)
        assert not isinstance(again.screen, PullScreen)
