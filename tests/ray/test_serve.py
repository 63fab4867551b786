"""Acceptance 1, 2, 3 and 6 of the scale issue, on a real local Ray with a Serve app."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatimg.spec import GenerationSpec
from tests.ray.conftest import RAY_TESTS, TOKEN, ServedApp

pytestmark = RAY_TESTS

WAIT = 120.0
#: Receipt parts that measure time or where the run happened, not what was made.
VARYING = {"ray", "cache", "load_seconds", "fetch_seconds", "run_seconds"}


def pixels(generation: Any) -> bytes:
    from PIL import Image

    with Image.open(generation.assets[0].path) as image:
        return image.tobytes()


async def test_ray_engine_matches_the_local_engine_byte_for_byte(ray_studio: Any) -> None:
    spec = GenerationSpec.build(seed=1234, steps=2, width=64, height=64, guidance=5.0)
    local = (await ray_studio.generate("a red fox", ["local-a"], spec)).generations[0]
    served = (await ray_studio.generate("a red fox", ["ray-a"], spec)).generations[0]
    assert local.status == served.status == "succeeded", (local.error, served.error)
    assert pixels(local) == pixels(served)
    mine, theirs = local.receipt, served.receipt
    assert theirs.engine["ray"]["deployment"] == "family-diffusers"
    assert {k: v for k, v in mine.engine.items() if k not in VARYING} == \
        {k: v for k, v in theirs.engine.items() if k not in VARYING}
    assert mine.run_spec == theirs.run_spec and mine.options == theirs.options
    assert mine.model.version == theirs.model.version
    assert [i.seed for i in mine.images] == [i.seed for i in theirs.images] == [1234]


async def test_switching_models_keeps_both_loaded_on_the_replica(ray_studio: Any) -> None:
    spec = GenerationSpec.build(seed=3)
    first = await ray_studio.generate("a lake", ["ray-a"], spec)
    conversation = first.message.conversation_id
    other = await ray_studio.generate("a lake", ["ray-b"], spec, conversation_id=conversation)
    back = await ray_studio.generate("a lake", ["ray-a"], spec, conversation_id=conversation)
    runs = [o.generations[0] for o in (first, other, back)]
    assert all(g.status == "succeeded" for g in runs), [g.error for g in runs]
    a1, b, a2 = (g.receipt.engine for g in runs)
    assert a1["ray"]["replica"] == b["ray"]["replica"] == a2["ray"]["replica"]
    # Back on tiny-a: the replica did not load it again (weights cache hit, one load).
    assert a2["cache"] == "hit" and a2["load_seconds"] == a1["load_seconds"]
    assert a2["ray"]["model_loads"] == a1["ray"]["model_loads"] == 1
    assert b["ray"]["model_loads"] == 1
    assert pixels(runs[0]) == pixels(runs[2]) != pixels(runs[1])


async def test_a_killed_replica_is_retried_into_one_generation(
        ray_app: ServedApp, ray_studio: Any, home: Path) -> None:
    import ray

    gate = ray_app.gate
    before = len(ray.get(gate.seen.remote()))
    ray.get(gate.close.remote())
    try:
        task = asyncio.create_task(ray_studio.generate(
            "a storm", ["ray-a"], GenerationSpec.build(seed=9)))
        deadline = time.monotonic() + WAIT
        while len(seen := ray.get(gate.seen.remote())) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(seen) == before + 1, "the run never reached a replica"
        victim = ray.get_actor(seen[-1], namespace="serve")
        ray.kill(victim, no_restart=True)
        while time.monotonic() < deadline:  # dead before the gate opens: it cannot finish
            try:
                await asyncio.to_thread(ray.get, victim.__ray_ready__.remote(), timeout=5)
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                break
            await asyncio.sleep(0.1)
    finally:
        ray.get(gate.open.remote())
    outcome = await asyncio.wait_for(task, WAIT)
    [generation] = outcome.generations
    assert generation.status == "succeeded", generation.error
    assert generation.receipt.engine["ray"]["replica"] != seen[-1]
    assert ray.get(gate.seen.remote())[before + 1:], "the retry never reached a replica"
    thread = ray_studio.load_thread(outcome.message.conversation_id)
    assert [len(m.generations) for m in thread.messages if m.generations] == [1]
    assert len(generation.assets) == 1
    assert len(list((home / "data").rglob("*.png"))) == 1


def test_the_app_listens_on_loopback_only_and_needs_the_token(ray_app: ServedApp) -> None:
    import psutil

    listening = {c.laddr.ip for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == ray_app.port}
    assert listening == {"127.0.0.1"}
    outside = _non_loopback_address()
    if outside is not None:
        with pytest.raises(OSError), socket.create_connection((outside, ray_app.port), 2):
            pass
    models = ray_app.url + "/models"
    assert httpx.get(models, timeout=30).status_code == 401
    assert httpx.get(models, headers={"Authorization": "Bearer wrong-token-0123456789"},
                     timeout=30).status_code == 401
    refused = httpx.post(ray_app.url + "/generate", json={"model": "tiny-a"}, timeout=30)
    assert refused.status_code == 401
    listed = httpx.get(models, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert listed.status_code == 200
    assert set(listed.json()["models"]) == {"tiny-a", "tiny-b"}
    assert listed.json()["models"]["tiny-a"]["capabilities"]["seed"] is True


def _non_loopback_address() -> str | None:
    """An address of this machine other than loopback (no packet leaves: UDP connect)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_several_families_are_reached_through_the_gateway(
        ray_app: ServedApp, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ray import serve

    from chatimg.config import Settings, load_settings
    from chatimg.rayserve.app import build_app
    from chatimg.studio import Studio
    from tests.ray.conftest import SIZE

    served = Settings.model_validate({
        "models": {name: {"engine": "diffusers", "source": str(folder), **SIZE}
                   for name, folder in ray_app.folders.items()},
        "diffusers": {"threads": 1},
        "ray": {"num_cpus": 0, "families": {"one": ["tiny-a"], "two": ["tiny-b"]}},
    })
    await asyncio.to_thread(serve.run, build_app(served, TOKEN), name="chatimg-families",
                            route_prefix="/families")
    url = f"http://127.0.0.1:{ray_app.port}/families"
    try:
        assert httpx.get(url + "/models", timeout=30).status_code == 401
        monkeypatch.setenv("CHATIMG_RAY_TOKEN", TOKEN)
        settings = load_settings(
            models={"far-b": {"engine": "ray", "url": url, "model": "tiny-b", **SIZE},
                    "far-x": {"engine": "ray", "url": url, "model": "tiny-x", **SIZE}},
            validation={"enabled": []}, network={"read_timeout": 60.0, "max_retries": 1})
        studio = Studio.open(settings)
        try:
            made = (await studio.generate("a hill", ["far-b"],
                                          GenerationSpec.build(seed=8))).generations[0]
            missing = (await studio.generate("a hill", ["far-x"],
                                             GenerationSpec.build(seed=8))).generations[0]
        finally:
            await studio.aclose()
        assert made.status == "succeeded", made.error
        assert made.receipt is not None
        assert made.receipt.engine["ray"]["deployment"] == "family-two"
        assert missing.status == "failed"
        assert missing.error is not None and "'tiny-x' is not served here" in missing.error
    finally:
        await asyncio.to_thread(serve.delete, "chatimg-families")
