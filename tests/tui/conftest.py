"""Fixtures for TUI tests: an app on a fresh Studio, half-cell images, polling helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tiny_diffusers import tiny_sd_path  # noqa: F401  (session fixture)

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _halfcell_images() -> None:
    """Images are drawn with half cells in tests (no terminal probing)."""
    from chatimg.tui.widgets.image import configure_images

    configure_images("halfcell")


@pytest.fixture(autouse=True)
def _no_gpu_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first-run GPU check answers "no GPU" at once (no torch import in a child process)."""

    async def no_gpu() -> bool:
        return False

    monkeypatch.setattr("chatimg.tui.screens.pull.probe_accelerator", no_gpu)


@pytest.fixture(autouse=True)
def _fast_checks(config_file: Path) -> Path:
    """Only the cheap validators (no OCR model) run after generations in TUI tests."""
    config_file.write_text('[validation]\nenabled = ["blank", "size"]\n\n', encoding="utf-8")
    return config_file


@pytest.fixture
def make_app(home: Path) -> Iterator[Callable[..., Any]]:
    """Build a ``ChatImgApp`` on a fresh ``Studio`` (call again to "restart")."""
    from chatimg.studio import Studio
    from chatimg.tui.app import ChatImgApp

    opened: list[Studio] = []

    def build(**kwargs: Any) -> ChatImgApp:
        studio = Studio.open()
        opened.append(studio)
        return ChatImgApp(studio, **kwargs)

    yield build
    for studio in opened:
        studio.close()


async def wait_until(pilot: Any, predicate: Callable[[], bool], timeout: float = 10.0,
                     what: str = "condition") -> None:
    """Poll ``predicate`` between UI frames until it is true (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
        await asyncio.sleep(0)


async def ready(pilot: Any) -> Any:
    """Wait until the main screen has loaded its sidebar and thread; return the screen."""
    app = pilot.app
    await wait_until(pilot, lambda: app.main_screen.is_mounted, what="main screen")
    screen = app.main_screen
    await wait_until(pilot, lambda: screen.thread_loaded and screen.sidebar.loaded_once,
                     what="thread and sidebar")
    await wait_until(pilot, lambda: bool(screen.listings), what="model listings")
    return screen


async def type_and_send(pilot: Any, text: str) -> None:
    """Type into the composer and press Enter."""
    screen = pilot.app.main_screen
    screen.composer.prompt.focus()
    screen.composer.prompt.load_text(text)
    await pilot.press("enter")


def images_loaded(screen: Any) -> bool:
    """Whether every card image in the thread's view is stored and drawn (one drawn from the
    engine's picture while its file is written does not count; one scrolled out of view
    loads when it comes into view)."""
    from chatimg.tui.widgets.image import CardImage

    return all(image.loaded and image.asset is not None for image in screen.query(CardImage)
               if on_screen(screen, image))


def on_screen(screen: Any, widget: Any) -> bool:
    """Whether ``widget`` shows in the thread's view."""
    return bool(widget.region.height) and screen.thread.region.overlaps(widget.region)
