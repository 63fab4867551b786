"""Pure pieces of the remote engines: size enums, retry headers, error text, workflows, masks,
the in-flight limit, and an injected ``httpx.MockTransport`` client."""

from __future__ import annotations

import asyncio
import io
import json
import time
from email.utils import formatdate

import httpx
import pytest

from chatimg.engines.comfyui import fill_workflow
from chatimg.engines.http import InFlightLimit, retry_after_seconds
from chatimg.engines.ideogram import size_fields
from chatimg.engines.masks import convert_mask
from chatimg.engines.provider_errors import provider_text
from chatimg.errors import InvalidRequestError
from tests.remote.fakeserver import png


@pytest.mark.parametrize(("model", "size", "expected"), [
    ("V_2", (1024, 1024), {"resolution": "RESOLUTION_1024_1024"}),
    ("V_2_TURBO", (1000, 1000), {"aspect_ratio": "ASPECT_1_1"}),
    ("V_2A", (1024, 1024), {"aspect_ratio": "ASPECT_1_1"}),
    ("V_1", (1920, 1080), {"aspect_ratio": "ASPECT_16_9"}),
    ("V_2A_TURBO", (600, 1800), {"aspect_ratio": "ASPECT_1_3"}),
    ("V_3", (1280, 800), {"resolution": "1280x800"}),
    ("V_3", (1000, 800), {"aspect_ratio": "5x4"}),
    ("V_3", (None, None), {}),
])
def test_ideogram_size_mapping(model, size, expected) -> None:
    assert size_fields(model, *size) == expected


def test_retry_after_forms() -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after_seconds(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "x", "retry-after": "1"})) == 1.0
    later = formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after_seconds(httpx.Headers({"retry-after": later})) <= 31
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({"retry-after": "-5"})) is None
    assert retry_after_seconds(httpx.Headers()) is None


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"error": "Prompt failed safety check"}', "Prompt failed safety check"),
    (b'{"error": "busy", "reject_reason": "inflight_limit"}', "busy: inflight_limit"),
    (b'{"error": {"message": "Bad size", "type": "invalid_request_error", "code": "x1"}}',
     "Bad size x1"),
    (b'{"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}}',
     "Quota RESOURCE_EXHAUSTED 429"),
    (b'{"detail": "Not authenticated"}', "Not authenticated"),
    (b'{"detail": [{"msg": "field required"}]}', "field required"),
    (b"<html><h1>502 Bad Gateway</h1></html>", "502 Bad Gateway"),
    (b"\xff\xfe\x00binary\x07junk", "binary junk"),
    (json.dumps({"error": {"type": "prompt_outputs_failed_validation",
                           "message": "Prompt outputs failed validation", "details": ""},
                 "node_errors": {"4": {"class_type": "CheckpointLoaderSimple", "errors": [
                     {"type": "value_not_in_list", "message": "Value not in list",
                      "details": "ckpt_name: 'x.safetensors' not in []"}]}}}).encode(),
     "Prompt outputs failed validation: CheckpointLoaderSimple: Value not in list "
     "ckpt_name: 'x.safetensors' not in []"),
    (b"[" * 100000 + b"]" * 100000, "[" * 300 + "…"),  # too deep for json: shown raw, cut
])
def test_provider_text(body, expected) -> None:
    assert provider_text(body) == expected


def test_fill_workflow_keeps_types() -> None:
    graph = {"1": {"inputs": {"seed": "{{seed}}", "cfg": "{{ cfg }}", "text": "{{prompt}}",
                              "label": "run {{seed}} of {{prompt}}", "link": ["2", 0]}}}
    filled, used = fill_workflow(graph, {"seed": 5, "cfg": 7.5, "prompt": "a cat"})
    assert filled == {"1": {"inputs": {"seed": 5, "cfg": 7.5, "text": "a cat",
                                       "label": "run 5 of a cat", "link": ["2", 0]}}}
    assert used == {"seed", "cfg", "prompt"}
    with pytest.raises(InvalidRequestError, match="checkpoint"):
        fill_workflow({"x": "{{checkpoint}}"}, {"checkpoint": None})


def test_shipped_workflow_is_api_format() -> None:
    from importlib import resources

    text = resources.files("chatimg.engines").joinpath("workflows", "sd_txt2img.json").read_text()
    graph = json.loads(text)
    kinds = sorted(node["class_type"] for node in graph.values())
    assert kinds == sorted(["CheckpointLoaderSimple", "CLIPTextEncode", "CLIPTextEncode",
                            "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage"])


def test_mask_conventions() -> None:
    from PIL import Image

    mask = Image.new("L", (16, 16), 0)
    mask.paste(255, (0, 0, 8, 16))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    source = png(32, 32)
    white = Image.open(io.BytesIO(convert_mask(buffer.getvalue(), source, "white")))
    black = Image.open(io.BytesIO(convert_mask(buffer.getvalue(), source, "black")))
    clear = Image.open(io.BytesIO(convert_mask(buffer.getvalue(), source, "transparent")))
    assert white.size == black.size == clear.size == (32, 32)
    assert (white.getpixel((2, 2)), white.getpixel((30, 2))) == (255, 0)
    assert (black.getpixel((2, 2)), black.getpixel((30, 2))) == (0, 255)
    assert (clear.getpixel((2, 2))[3], clear.getpixel((30, 2))[3]) == (0, 255)


async def test_in_flight_limit_is_weighted() -> None:
    limit = InFlightLimit(4)
    assert await limit.acquire(3) == 3
    waiter = asyncio.create_task(limit.acquire(2))
    await asyncio.sleep(0)
    assert not waiter.done()
    limit.release(3)
    assert await asyncio.wait_for(waiter, 1) == 2
    limit.release(2)
    assert await asyncio.wait_for(limit.acquire(99), 1) == 4  # clamped to the capacity
    assert limit.used == 4


async def test_injected_mock_transport(monkeypatch) -> None:
    """Engines use whatever client the context's factory makes (hidden-server style)."""
    import base64

    from chatimg.config import load_settings
    from chatimg.engines.base import CancelToken, EngineContext
    from chatimg.engines.catalog import Catalog
    from chatimg.spec import GenerationSpec

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"b64_json": base64.b64encode(png()).decode(),
                                                   "revised_prompt": "r"}]})

    monkeypatch.setenv("OPENAI_API_KEY", "sk-mock-123456")
    context = EngineContext(load_settings(), http_client_factory=lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(handler)))
    catalog = Catalog.from_settings(context)
    engine = catalog.engine("gpt-image-2")
    result = await engine.generate(engine.request(GenerationSpec(prompt="p")), lambda p: None, CancelToken())
    await catalog.aclose()
    assert result.images[0].revised_prompt == "r"
    assert str(seen[0].url) == "https://api.openai.com/v1/images/generations"
    assert seen[0].headers["authorization"] == "Bearer sk-mock-123456"
