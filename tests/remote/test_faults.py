"""Faults: rate limits, server errors, timeouts, dropped connections, bad bodies, bad images,
expired links, refused keys and cancel. Each ends in a stored generation with a clear reason,
nothing hangs, and no key leaks anywhere."""

from __future__ import annotations

import asyncio
import base64
import threading
import time

import pytest

from chatimg.engines.base import CancelToken
from chatimg.spec import GenerationSpec
from tests.remote.conftest import KEYS, assert_no_secret
from tests.remote.fakeserver import SECRET, FakeServer, Recorded, Reply, png
from tests.remote.test_ideogram import ideogram_reply

GEN = "/v1/images/generations"


def ok_openai() -> Reply:
    return Reply(200, {"created": 1, "data": [{"b64_json": base64.b64encode(png()).decode()}]})


async def run(studio, model: str = "gpt-image-2", **params):
    outcome = await asyncio.wait_for(
        studio.generate("a test prompt", [model], GenerationSpec.build(**params)), 20)
    return outcome.generations[0]


@pytest.mark.parametrize("headers", [{"Retry-After": "0"}, {"retry-after-ms": "10"}, {}],
                         ids=["retry-after", "retry-after-ms", "no-header"])
async def test_429_then_success(remote_env, make_studio, home, caplog, headers) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(429, {"error": {"message": "Rate limit reached",
                                                    "type": "requests"}}, headers), ok_openai())
    studio = await make_studio()
    generation = await run(studio)
    assert generation.status == "succeeded", generation.error
    assert len(server.hits("POST", GEN)) == 2
    assert_no_secret(home, caplog)


async def test_429_with_long_retry_after_fails_fast(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(429, {"error": {"message": "slow down"}},
                                    {"Retry-After": "3600"}))
    studio = await make_studio()
    started = time.monotonic()
    generation = await run(studio)
    assert time.monotonic() - started < 5
    assert generation.status == "failed"
    assert "429" in generation.error and "slow down" in generation.error
    assert "asked to wait 3600 s" in generation.error
    assert len(server.hits("POST", GEN)) == 1


async def test_ideogram_inflight_429_retries_then_succeeds(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/generate",
                 Reply(429, {"error": "Too many images in flight", "reject_reason":
                             "inflight_limit"}),
                 ideogram_reply(server, [{}]))
    studio = await make_studio()
    generation = await run(studio, "ideogram-v2-turbo")
    assert generation.status == "succeeded", generation.error


async def test_500_then_success_and_persistent_500(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(500, {"error": {"message": "internal"}}), ok_openai())
    studio = await make_studio()
    assert (await run(studio)).status == "succeeded"
    server.route("POST", GEN, Reply(503, "<html><body>Service Unavailable</body></html>",
                                    {"Content-Type": "text/html"}))
    failed = await run(studio)
    assert failed.status == "failed"
    assert "answered 503: Service Unavailable" in failed.error
    assert "attempts)" in failed.error and len(server.hits("POST", GEN)) >= 3


async def test_timeout(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(200, b"{}", delay=5))
    studio = await make_studio(network={"read_timeout": 0.3, "max_retries": 1})
    started = time.monotonic()
    generation = await run(studio)
    assert time.monotonic() - started < 3
    assert generation.status == "failed"
    assert "did not answer in time (read timeout)" in generation.error


async def test_dropped_connection(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(drop=True), ok_openai())
    studio = await make_studio()
    assert (await run(studio)).status == "succeeded"
    server.route("POST", GEN, Reply(drop=True))
    failed = await run(studio)
    assert failed.status == "failed" and "connection failed" in failed.error


async def test_unreachable_server(make_studio, monkeypatch) -> None:
    closed = FakeServer()
    url = closed.url
    closed.httpd.server_close()
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["OPENAI_API_KEY"])
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    studio = await make_studio()
    failed = await run(studio)
    assert failed.status == "failed" and "connection failed" in failed.error


@pytest.mark.parametrize("body", [b"{not json", b'{"data": "nope"}', b'{"data": [42]}',
                                  b'{"data": [{"b64_json": "%%%not base64"}]}', b"[]"],
                         ids=["malformed", "data-not-list", "item-not-object", "bad-base64",
                              "top-level-list"])
async def test_bad_bodies(remote_env, make_studio, body) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(200, body, {"Content-Type": "application/json"}))
    studio = await make_studio()
    generation = await run(studio)
    assert generation.status == "failed"
    assert "gpt-image-2" in generation.error
    assert any(word in generation.error for word in ("malformed JSON", "without any images",
                                                     "not an object", "not valid base64"))


async def test_expired_image_url(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/generate", Reply(200, {"created": "2026-11-26T10:00:00Z", "data": [
        {"url": f"{server.url}/api/images/ephemeral/gone.png?exp=1", "prompt": "p",
         "resolution": "1024x1024", "is_image_safe": True, "seed": 1}]}))
    server.route("GET", "/api/images/ephemeral/gone.png", Reply(404, "expired"))
    studio = await make_studio()
    generation = await run(studio, "ideogram-v2-turbo")
    assert generation.status == "failed"
    assert "image link expired or is missing (HTTP 404)" in generation.error


@pytest.mark.parametrize("how", ["url", "b64"])
async def test_truncated_image(remote_env, make_studio, how) -> None:
    server = remote_env
    cut = png(256, 256)[:-40]
    if how == "url":
        server.route("GET", "/files/cut.png", Reply(200, cut, {"Content-Type": "image/png"}))
        item = {"url": f"{server.url}/files/cut.png"}
    else:
        item = {"b64_json": base64.b64encode(cut).decode()}
    server.route("POST", GEN, Reply(200, {"created": 1, "data": [item]}))
    studio = await make_studio()
    generation = await run(studio)
    assert generation.status == "failed"
    assert "truncated" in generation.error or "unreadable" in generation.error


async def test_401_with_key_echoed_back(remote_env, make_studio, home, caplog) -> None:
    server = remote_env
    server.route("POST", "/generate", Reply(401, {
        "error": f"Invalid Api-Key {KEYS['IDEOGRAM_API_KEY']}"}))
    studio = await make_studio()
    generation = await run(studio, "ideogram-v2-turbo")
    assert generation.status == "failed"
    assert "401" in generation.error and "set IDEOGRAM_API_KEY" in generation.error
    assert len(server.hits("POST", "/generate")) == 1
    assert_no_secret(home, caplog, generation.error)


async def test_hostile_text_is_scrubbed_from_receipts(remote_env, make_studio, home,
                                                      caplog) -> None:
    server = remote_env
    server.route("POST", "/generate", ideogram_reply(server, [
        {"prompt": f"revised with {KEYS['IDEOGRAM_API_KEY']} inside"}]))
    studio = await make_studio()
    generation = await run(studio, "ideogram-v2-turbo")
    assert generation.status == "succeeded", generation.error
    assert "***" in generation.assets[0].revised_prompt
    assert_no_secret(home, caplog)


async def test_missing_key_is_a_clear_failure(server, make_studio, monkeypatch) -> None:
    monkeypatch.setenv("IDEOGRAM_BASE_URL", server.url)
    studio = await make_studio()
    generation = await run(studio, "ideogram-v2")
    assert generation.status == "failed"
    assert "needs IDEOGRAM_API_KEY" in generation.error
    assert not server.requests


async def test_cancel_closes_the_request(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", GEN, Reply(200, b"{}", delay=10))
    studio = await make_studio(network={"read_timeout": 30})
    cancel = CancelToken()
    task = asyncio.create_task(studio.generate("x", ["gpt-image-2"], cancel=cancel))
    while not server.hits("POST", GEN):
        await asyncio.sleep(0.01)
    started = time.monotonic()
    cancel.cancel()
    outcome = await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 2
    assert outcome.generations[0].status == "cancelled"


async def test_ideogram_inflight_limit_counts_images(remote_env, make_studio) -> None:
    server = remote_env
    reply = ideogram_reply(server, [{}, {}])
    lock = threading.Lock()
    seen = {"now": 0, "most": 0}

    def generate(record: Recorded) -> Reply:
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        time.sleep(0.2)  # the fake server's own latency (a server thread, not the test)
        with lock:
            seen["now"] -= 1
        return reply

    server.route("POST", "/generate", generate)
    studio = await make_studio(network={"max_in_flight": 2})
    outcome = await asyncio.wait_for(studio.generate(
        "x", ["ideogram-v2-turbo", "ideogram-v2"], GenerationSpec.build(count=2)), 20)
    assert [g.status for g in outcome.generations] == ["succeeded", "succeeded"]
    assert seen["most"] == 1  # two 2-image requests never overlap under a limit of 2
    assert SECRET not in str(outcome)


async def test_key_echoed_in_every_field_never_stored(remote_env, make_studio, home,
                                                      caplog) -> None:
    server = remote_env
    key = KEYS["GEMINI_API_KEY"]
    server.route("POST", "/v1beta/models/gemini-2.5-flash-image:generateContent", Reply(200, {
        "candidates": [{"content": {"parts": [
            {"text": f"your key is {key}"},
            {"inlineData": {"mimeType": "image/png",
                            "data": base64.b64encode(png()).decode()}}]},
            "finishReason": f"STOP {key}"}],
        "usageMetadata": {"note": key}, "modelVersion": f"v-{key}"}))
    studio = await make_studio()
    generation = await run(studio, "gemini-2.5-flash-image")
    assert generation.status == "succeeded", generation.error
    assert SECRET not in str(generation)
    assert_no_secret(home, caplog)


async def test_redirects_never_carry_the_key(remote_env, make_studio, home, caplog) -> None:
    server = remote_env
    other = FakeServer().start()
    try:
        other.route("POST", "/steal", Reply(200, {"data": []}))
        server.route("POST", "/generate", Reply(307, b"", {"Location": f"{other.url}/steal"}))
        studio = await make_studio()
        generation = await run(studio, "ideogram-v2-turbo")
        assert generation.status == "failed" and "redirect" in generation.error
        assert not other.requests
        # result downloads (no key) do follow redirects
        other.route("GET", "/real.png", Reply(200, png(), {"Content-Type": "image/png"}))
        server.route("GET", "/moved.png", Reply(302, b"", {"Location": f"{other.url}/real.png"}))
        server.route("POST", GEN, Reply(200, {"data": [{"url": f"{server.url}/moved.png"}]}))
        assert (await run(studio)).status == "succeeded"
        assert all("authorization" not in r.headers for r in other.requests)
    finally:
        other.stop()
    assert_no_secret(home, caplog)
