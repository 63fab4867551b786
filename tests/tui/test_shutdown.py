"""The Studio owns engine shutdown: when the app stops, the shared HTTP client it opened on the
app's loop is closed there (not left for the garbage collector)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.tui.conftest import SIZE, ready


async def test_leaving_the_app_closes_the_shared_http_client(
    make_app: Callable[..., Any],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        client = app.studio.context.http()  # what remote engines share
        assert not client.is_closed
    assert client.is_closed
