"""Fixtures for remote-engine tests: a fake server, keys and base URLs, and a Studio factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.remote.fakeserver import SECRET, FakeServer

#: Keys per provider; every one contains SECRET so one grep finds any leak.
KEYS = {
    "IDEOGRAM_API_KEY": SECRET + "-ideo",
    "GEMINI_API_KEY": SECRET + "-gem",
    "OPENAI_API_KEY": SECRET + "-oai",
    "A1111_AUTH": "artist:" + SECRET + "-a1111",
}

#: Tiny waits so retries finish fast.
FAST_NETWORK = {"connect_timeout": 2.0, "read_timeout": 2.0, "max_retries": 2,
                "max_retry_seconds": 0.3, "max_in_flight": 4}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def remote_env(server: FakeServer, monkeypatch: pytest.MonkeyPatch,
               caplog: pytest.LogCaptureFixture) -> FakeServer:
    """Keys set and every provider's base URL pointing at the fake server; logs captured."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IDEOGRAM_BASE_URL", server.url)
    monkeypatch.setenv("GEMINI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("COMFYUI_URL", server.url)
    monkeypatch.setenv("A1111_URL", server.url)
    caplog.set_level(logging.DEBUG)
    return server


StudioFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def make_studio(home: Path) -> AsyncIterator[StudioFactory]:
    """Build a Studio with network overrides and extra ``[models]`` entries."""
    from chatimg.config import load_settings
    from chatimg.studio import Studio

    made: list[Any] = []

    async def factory(network: dict[str, Any] | None = None,
                      models: dict[str, Any] | None = None) -> Any:
        settings = load_settings(network={**FAST_NETWORK, **(network or {})},
                                 models=models or {}, validation={"enabled": []})
        studio = Studio.open(settings)
        made.append(studio)
        return studio

    yield factory
    for studio in made:
        await studio.aclose()


def assert_no_secret(home: Path, caplog: pytest.LogCaptureFixture, *texts: str | None) -> None:
    """No key appears in any file under the home (database, assets), the logs, or ``texts``."""
    needle = SECRET.encode()
    for path in home.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), f"key leaked into {path}"
    assert SECRET not in caplog.text, "key leaked into the logs"
    for text in texts:
        assert text is None or SECRET not in text, f"key leaked into {text!r}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Nothing in the remote tests may hang: each test gets 60 s at most."""
    for item in items:
        if "tests/remote/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.timeout(60))
