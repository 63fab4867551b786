"""A fake remote engine for routing tests, speaking a tiny JSON-over-HTTP wire format.

``POST {base_url}/generate`` with ``{"prompt", "seed", "width", "height"}`` answers
``{"image": <base64 PNG>}``; the test's ``httpx.MockTransport`` decides what the "server" does
from the URL path: ``/broken`` → HTTP 500, ``/busy`` → HTTP 429, ``/slow`` → a read timeout,
``/filtered`` → the image withheld by a safety filter, ``/black`` → a black image,
``/misspell`` → a poster of the prompt's quoted text with its last letter wrong (the mistake a
model makes), else a layout render of the prompt.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

import httpx

from chatimg.engines.base import (
    CancelToken,
    Capabilities,
    Engine,
    EngineOptions,
    EngineRequest,
    GeneratedImage,
    GenerationResult,
    ModelInfo,
    ProgressCallback,
)
from chatimg.errors import EngineRequestError

KIND = "fakeremote"
TARGET = "tests.routing.fakes:FakeRemoteEngine"


class FakeRemoteEngine(Engine):
    """A remote-style engine (async, httpx) with capabilities taken from its config table."""

    kind = KIND

    class Options(EngineOptions):
        """What a fake model's table may say about it."""

        img2img: bool = False
        inpaint: bool = False
        version: str = "fake-v1"

    @property
    def info(self) -> ModelInfo:
        options = self.options
        assert isinstance(options, FakeRemoteEngine.Options)
        return ModelInfo(
            name=self.name, engine=self.kind, model_id=self.entry.model or "fake-1",
            version=options.version,
            capabilities=Capabilities(
                txt2img=True, img2img=options.img2img, inpaint=options.inpaint, seed=True,
                deterministic=False,
            ),
            cost_per_image=self.entry.cost_per_image,
            defaults={"width": 64, "height": 64},
        )

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        spec = request.spec
        body = {"prompt": spec.prompt, "seed": spec.seed, "width": spec.width,
                "height": spec.height}
        try:
            response = await self.context.http().post(f"{self.entry.base_url}/generate",
                                                      json=body)
        except httpx.TimeoutException:
            raise EngineRequestError(f"{self.name}: timed out", reason="timeout",
                                     retryable=True) from None
        if response.status_code == 429:
            raise EngineRequestError(f"{self.name}: rate limited (429) after retries",
                                     status=429, reason="rate_limited", retryable=True)
        if response.json().get("filtered"):
            return GenerationResult(images=[GeneratedImage(safety_filtered=True)])
        if response.status_code >= 500:
            raise EngineRequestError(
                f"{self.name}: server error {response.status_code}", status=response.status_code,
                reason="server_error", retryable=True,
            )
        data = base64.b64decode(response.json()["image"])
        return GenerationResult(images=[GeneratedImage(data=data, seed=request.spec.seed)])


def fake_server(request: httpx.Request) -> httpx.Response:
    """The MockTransport handler: what the fake provider answers."""
    from PIL import Image

    from chatimg.engines.layout import render

    path = request.url.path
    if path.startswith("/broken"):
        return httpx.Response(500, json={"error": "internal"})
    if path.startswith("/busy"):
        return httpx.Response(429, json={"error": "slow down"})
    if path.startswith("/slow"):
        raise httpx.ReadTimeout("read timed out", request=request)
    if path.startswith("/filtered"):
        return httpx.Response(200, json={"filtered": True})
    body = json.loads(request.content)
    size = (body.get("width") or 64, body.get("height") or 64)
    if path.startswith("/black"):
        image = Image.new("RGB", size, (0, 0, 0))
    elif path.startswith("/misspell"):
        from chatimg.typeset import render_poster

        wrong = re.sub(r'([A-Z])"', lambda m: chr((ord(m[1]) - 64) % 26 + 65) + '"',
                       body["prompt"], count=1)
        image = render_poster(wrong, *size, body.get("seed") or 0).image
    else:
        image = render(body["prompt"], body.get("seed") or 0, *size)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return httpx.Response(200, json={"image": base64.b64encode(buffer.getvalue()).decode()})


def install(monkeypatch: Any, studio: Any) -> None:
    """Register the fake kind and point the studio's HTTP client at the fake server."""
    from chatimg.engines import registry

    monkeypatch.setitem(registry.BUILTIN_KINDS, KIND, TARGET)
    studio.context.http_client_factory = lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(fake_server)
    )
