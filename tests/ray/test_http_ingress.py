"""The Serve app's HTTP side without Ray: token, routes, bad bodies, the NDJSON stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from chatimg.engines.base import GeneratedImage, GenerationResult
from chatimg.rayserve.app import token_digest

pytest.importorskip("starlette")

TOKEN = "ingress-test-token-0123456789"
INFOS = {"tiny-a": {"model_id": "tiny-a", "capabilities": {}}}


def request(method: str, path: str, body: bytes = b"", token: str | None = TOKEN) -> Any:
    from starlette.requests import Request

    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": method, "path": path, "headers": headers,
                    "query_string": b""}, receive)


async def events(model: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    yield {"progress": [1, 2, ""]}
    yield {"result": {"model": model}}


async def call(method: str, path: str, body: bytes = b"", token: str | None = TOKEN
               ) -> tuple[int, Any]:
    from chatimg.rayserve.deployments import answer

    response = await answer(request(method, path, body, token), token_digest(TOKEN), INFOS,
                            events)
    if hasattr(response, "body_iterator"):
        lines = [json.loads(chunk) async for chunk in response.body_iterator]
        return response.status_code, lines
    return response.status_code, json.loads(response.body)


async def test_the_ingress_checks_the_token_and_routes() -> None:
    assert (await call("GET", "/chatimg/models", token=None))[0] == 401
    assert (await call("GET", "/chatimg/models", token="wrong-token-0123456789"))[0] == 401
    status, listed = await call("GET", "/chatimg/models")
    assert status == 200 and listed == {"models": INFOS}
    assert (await call("GET", "/chatimg/elsewhere"))[0] == 404
    assert (await call("POST", "/chatimg/generate", b"{not json"))[0] == 400
    status, refused = await call("POST", "/chatimg/generate", b'{"model": "tiny-z"}')
    assert status == 404 and "'tiny-z' is not served here" in refused["error"]["message"]
    status, lines = await call("POST", "/chatimg/generate", b'{"model": "tiny-a"}')
    assert status == 200
    assert lines == [{"progress": [1, 2, ""]}, {"result": {"model": "tiny-a"}}]


def test_a_result_for_a_handle_carries_png_bytes_and_where_it_ran() -> None:
    from chatimg.rayserve.deployments import encoded

    picture = Image.new("RGB", (4, 4), (1, 2, 3))
    result = GenerationResult(images=[GeneratedImage(image=picture, seed=3)],
                              receipt={"pipeline": "tiny"})
    sent = encoded(result, {"replica": "r1"})
    assert sent.images[0].image is None and sent.images[0].data is not None
    assert sent.images[0].data.startswith(b"\x89PNG")
    assert sent.receipt == {"pipeline": "tiny", "ray": {"replica": "r1"}}
