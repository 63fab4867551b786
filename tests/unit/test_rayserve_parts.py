"""The parts of the Serve app that need no Ray: token checks, what is served, heartbeats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatimg.config import Settings
from chatimg.engines.base import GeneratedImage, GenerationResult
from chatimg.engines.ray_wire import (
    decode_error,
    decode_request,
    decode_result,
    encode_error,
    encode_request,
    encode_result,
)
from chatimg.errors import (
    CancelledError,
    ConfigError,
    EngineRequestError,
    EngineUnavailableError,
    InvalidRequestError,
)
from chatimg.rayserve.app import check_token, served_models, token_digest, with_heartbeats
from chatimg.rayserve.server import require_token


def settings(**values: Any) -> Settings:
    return Settings.model_validate(values)


def test_only_the_right_bearer_token_passes() -> None:
    digest = token_digest("s3cret-token-0123456789")
    assert check_token("Bearer s3cret-token-0123456789", digest)
    assert check_token("bearer s3cret-token-0123456789 ", digest)
    for header in (None, "", "Bearer", "Bearer wrong", "Basic s3cret-token-0123456789",
                   "s3cret-token-0123456789"):
        assert not check_token(header, digest), header
    assert "s3cret" not in digest


def test_the_server_refuses_to_run_without_a_long_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATIMG_RAY_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="needs a token"):
        require_token(settings())
    with pytest.raises(ConfigError, match="16 characters"):
        require_token(settings(keys={"ray": "short"}))
    monkeypatch.setenv("CHATIMG_RAY_TOKEN", "from-the-environment-0123")
    assert require_token(settings(keys={"ray": "from-the-config-file-0123"})) == \
        "from-the-environment-0123"


def test_served_models_and_their_families() -> None:
    models = {"a": {"engine": "diffusers", "source": "x"},
              "b": {"engine": "diffusers", "source": "y"},
              "c": {"engine": "layout"}}
    assert served_models(settings(models=models)) == {"a": "diffusers", "b": "diffusers"}
    grouped = settings(models=models, ray={"families": {"sdxl": ["b"]}})
    assert served_models(grouped) == {"a": "diffusers", "b": "sdxl"}
    assert served_models(settings(models=models, ray={"models": ["a"]})) == {"a": "diffusers"}
    with pytest.raises(ConfigError, match="'c', which is not a diffusers model"):
        served_models(settings(models=models, ray={"models": ["c"]}))
    with pytest.raises(ConfigError, match="no diffusers model to serve"):
        served_models(settings(models={"c": {"engine": "layout"}}))


def test_requests_results_and_errors_survive_the_wire() -> None:
    body = encode_request("tiny", {"prompt": "x", "seed": 3}, source_image=b"\x89PNG",
                          options={"threads": 2}, version="v1")
    assert decode_request(body) == ("tiny", {"prompt": "x", "seed": 3}, b"\x89PNG", None,
                                    {"threads": 2}, "v1")
    for bad in ({}, {"wire": 99}, {**body, "model": 3}, {**body, "source_image": "***"}):
        with pytest.raises(InvalidRequestError):
            decode_request(bad)
    result = GenerationResult(images=[GeneratedImage(data=b"img", seed=4, info={"i": 1})],
                              model_version="v1", receipt={"device": "cpu"})
    back = decode_result(encode_result(result, {"replica": "r1"}))
    assert back.images[0].data == b"img" and back.images[0].seed == 4
    assert back.receipt == {"device": "cpu", "ray": {"replica": "r1"}}
    with pytest.raises(EngineRequestError, match="cannot read"):
        decode_result({"images": [{"data": 5}]})
    for error in (InvalidRequestError("bad", "fix"), EngineUnavailableError("gone"),
                  CancelledError("stop"), EngineRequestError("boom", retryable=True)):
        again = decode_error(encode_error(error))
        assert type(again) is type(error) and again.message == error.message
    lost = decode_error(encode_error(RuntimeError("actor died"), retryable=True))
    assert isinstance(lost, EngineRequestError) and lost.retryable
    assert isinstance(decode_error("nonsense"), EngineRequestError)


async def test_heartbeats_fill_the_silences() -> None:
    release = asyncio.Event()

    async def slow() -> AsyncIterator[int]:
        yield 1
        await release.wait()
        yield 2

    seen: list[Any] = []
    async for event in with_heartbeats(slow(), every=0.01):
        seen.append(event)
        if event == {"alive": True}:
            release.set()
    assert seen[0] == 1 and seen[-1] == 2 and {"alive": True} in seen
