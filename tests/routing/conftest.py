"""Fixtures: a Studio opened on a config file the test writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.routing import fakes


@pytest.fixture
def make_studio(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Write ``config.toml`` (text), then open a migrated Studio with the fake engine installed."""
    from chatimg.config import load_settings
    from chatimg.studio import Studio

    opened: list[Any] = []

    def build(config: str = "") -> Any:
        config_file.write_text(config, encoding="utf-8")
        studio = Studio.open(load_settings(config_file))
        fakes.install(monkeypatch, studio)
        opened.append(studio)
        return studio

    yield build
    for studio in opened:
        studio.close()
