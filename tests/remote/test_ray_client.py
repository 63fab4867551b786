"""The ``ray`` engine kind against a loopback server speaking chatimg's Serve wire format
(no Ray needed): progress, token, retry when a replica is lost, errors that are not retried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatimg.engines.base import GeneratedImage, GenerationResult
from chatimg.engines.ray_wire import WIRE_VERSION, encode_error, encode_result
from chatimg.errors import InvalidRequestError
from chatimg.spec import GenerationSpec
from tests.remote.conftest import StudioFactory, assert_no_secret
from tests.remote.fakeserver import SECRET, FakeServer, Reply, png

TOKEN = SECRET + "-ray"
NDJSON = {"Content-Type": "application/x-ndjson"}


def lines(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


def result_event(seed: int = 5) -> dict[str, Any]:
    result = GenerationResult(images=[GeneratedImage(data=png(colour=(9, 99, 199)), seed=seed)],
                              model_version="abc123", receipt={"pipeline": "Tiny"},
                              options={"threads": 1})
    served = {"replica": "SERVE_REPLICA::chatimg#family-diffusers#x", "model_loads": 1,
              "deployment": "family-diffusers"}
    return {"result": encode_result(result, served),
            "served": {"model_id": "/models/tiny", "version": "abc123", "defaults": {},
                       "capabilities": {"txt2img": True, "seed": True, "max_count": 2}}}


@pytest.fixture
async def farm(server: FakeServer, make_studio: StudioFactory,
               monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CHATIMG_RAY_TOKEN", TOKEN)
    return await make_studio(network={"max_retry_seconds": 5.0}, models={"farm": {
        "engine": "ray", "url": server.url + "/chatimg", "model": "tiny-a", "steps": 2}})


async def test_a_run_streams_progress_and_stores_the_result(
        server: FakeServer, farm: Any, home: Path, caplog: pytest.LogCaptureFixture) -> None:
    server.route("POST", "/chatimg/generate", Reply(200, lines(
        {"alive": True}, {"progress": [1, 2, "sampling"]}, {"progress": [2, 2, "sampling"]},
        result_event()), NDJSON))
    seen: list[Any] = []
    outcome = await farm.generate("a fox", ["farm"], GenerationSpec.build(seed=5),
                                  on_event=lambda event: seen.append(event.progress))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    assert generation.receipt.engine["ray"]["model_loads"] == 1
    assert generation.model_version == "abc123" and generation.assets[0].seed == 5
    assert [(p.step, p.total) for p in seen if p is not None and p.total] == [(1, 2), (2, 2)]
    [sent] = server.hits("POST", "/chatimg/generate")
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["serve_multiplexed_model_id"] == "tiny-a"
    body = sent.json()
    assert body["wire"] == WIRE_VERSION and body["model"] == "tiny-a"
    assert body["spec"]["seed"] == 5 and body["spec"]["steps"] == 2
    # After a run the engine knows what the server said the model can do.
    assert farm.engine("farm").info.capabilities.max_count == 2
    assert_no_secret(home, caplog)  # the token travels in the header only


async def test_a_lost_replica_is_retried_into_one_generation(server: FakeServer,
                                                              farm: Any) -> None:
    server.route("POST", "/chatimg/generate",
                 Reply(200, lines({"progress": [1, 2, "sampling"]}), NDJSON),  # stream cut
                 Reply(200, lines({"error": encode_error(RuntimeError("ActorDiedError"),
                                                         retryable=True)}), NDJSON),
                 Reply(200, lines(result_event()), NDJSON))
    outcome = await farm.generate("a fox", ["farm"], GenerationSpec.build(seed=5))
    assert len(server.hits("POST", "/chatimg/generate")) == 3
    assert [g.status for g in outcome.generations] == ["succeeded"]
    assert len(outcome.generations[0].assets) == 1


async def test_refusals_and_request_errors_are_not_retried(server: FakeServer,
                                                            farm: Any) -> None:
    server.route("POST", "/chatimg/generate", Reply(200, lines({"error": encode_error(
        InvalidRequestError("width must be 8 to 2048 pixels, not 4096"))}), NDJSON))
    failed = (await farm.generate("x", ["farm"])).generations[0]
    assert failed.status == "failed" and "width must be 8 to 2048" in (failed.error or "")
    assert len(server.hits("POST", "/chatimg/generate")) == 1

    server.requests.clear()
    server.route("POST", "/chatimg/generate", Reply(401, {"error": {"message": "no"}}))
    refused = (await farm.generate("x", ["farm"])).generations[0]
    assert refused.status == "failed" and "401" in (refused.error or "")
    assert "CHATIMG_RAY_TOKEN" in (refused.error or "")
    assert len(server.hits("POST", "/chatimg/generate")) == 1


async def test_the_model_list_and_a_missing_token(server: FakeServer, farm: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server.route("GET", "/chatimg/models", Reply(200, {"models": {"tiny-a": {}}}))
    assert await farm.engine("farm").served_models() == {"tiny-a": {}}
    monkeypatch.delenv("CHATIMG_RAY_TOKEN")
    engine = farm.engine("farm")
    assert not engine.availability().available
    assert "CHATIMG_RAY_TOKEN" in (engine.availability().reason or "")
