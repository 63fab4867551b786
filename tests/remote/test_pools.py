"""Pools of ComfyUI and AUTOMATIC1111 servers: failover when one dies mid-job, load spread."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chatimg.spec import GenerationSpec
from tests.remote.conftest import StudioFactory
from tests.remote.fakeserver import FakeServer, Recorded, Reply, png

WAIT_LIMIT = 30.0


class FakeComfy:
    """One ComfyUI server: numbered prompt ids, jobs held until ``gate`` opens, optional death.

    Its images are one colour per server, so a stored image says which server made it.
    """

    def __init__(self, name: str, colour: tuple[int, int, int], *, dies: bool = False,
                 gate: threading.Event | None = None) -> None:
        self.name = name
        self.colour = colour
        self.image = png(colour=colour)
        self.dies = dies
        self.gate = gate
        self.server = FakeServer().start()
        self.url = self.server.url
        self.running: set[str] = set()
        self.most_running = 0
        self.lock = threading.Lock()
        self.dead = False
        self.server.route("GET", "/system_stats", Reply(200, {"system": {"os": "posix"},
                                                             "devices": []}))
        self.server.route("POST", "/prompt", self._prompt)
        self.server.route("GET", "/view", Reply(200, self.image, {"Content-Type": "image/png"}))
        self.server.route("POST", "/interrupt", Reply(200, b""))
        self.server.route("POST", "/queue", Reply(200, b""))

    @property
    def prompts(self) -> list[Recorded]:
        return self.server.hits("POST", "/prompt")

    def _prompt(self, record: Recorded) -> Reply:
        with self.lock:
            prompt_id = f"{self.name}-{len(self.prompts)}"
            self.running.add(prompt_id)
            self.most_running = max(self.most_running, len(self.running))
        self.server.route("GET", f"/history/{prompt_id}",
                          lambda r: self._history(prompt_id))
        return Reply(200, {"prompt_id": prompt_id, "number": 1, "node_errors": {}})

    def _history(self, prompt_id: str) -> Reply:
        if self.dies:
            self.kill()
            return Reply(drop=True)
        if self.gate is not None and not self.gate.is_set():
            return Reply(200, {})
        with self.lock:
            self.running.discard(prompt_id)
        return Reply(200, {prompt_id: {"outputs": {"9": {"images": [
            {"filename": f"{prompt_id}.png", "subfolder": "", "type": "output"}]}},
            "status": {"status_str": "success", "completed": True, "messages": []}}})

    def kill(self) -> None:
        """Stop listening (from a handler thread: the stop runs beside it)."""
        with self.lock:
            if self.dead:
                return
            self.dead = True
        threading.Thread(target=self.server.stop, daemon=True).start()

    def stop(self) -> None:
        if not self.dead:
            self.server.stop()


@pytest.fixture
def comfies() -> Any:
    made: list[FakeComfy] = []

    def make(*args: Any, **kwargs: Any) -> FakeComfy:
        fake = FakeComfy(*args, **kwargs)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.stop()


def pool_model(*urls: str, **extra: Any) -> dict[str, Any]:
    return {"comfy-pool": {"engine": "comfyui", "model": "v1-5.safetensors",
                           "urls": list(urls), **extra}}


def colour(generation: Any) -> tuple[int, ...]:
    """The colour of the stored image (each fake server paints its own)."""
    from PIL import Image

    with Image.open(generation.assets[0].path) as image:
        return tuple(image.convert("RGB").getpixel((0, 0)))  # type: ignore[arg-type]


async def test_a_server_dying_mid_job_fails_over_to_the_other(
        comfies: Any, make_studio: StudioFactory) -> None:
    first = comfies("a", (200, 0, 0), dies=True)
    second = comfies("b", (0, 0, 200))
    studio = await make_studio(models=pool_model(first.url, second.url))
    outcome = await studio.generate("a lighthouse", ["comfy-pool"], GenerationSpec.build(seed=7))

    # The job was accepted by the first server, which died; it finished on the second.
    assert len(first.prompts) == 1 and len(second.prompts) == 1
    [generation] = outcome.generations
    assert generation.status == "succeeded", generation.error
    engine = generation.receipt.engine
    assert engine["server"] == second.url and engine["failed_over_from"] == [first.url]
    assert colour(generation) == second.colour
    thread = studio.load_thread(outcome.message.conversation_id)
    assert [len(m.generations) for m in thread.messages if m.generations] == [1]
    stored = Path(generation.assets[0].path)
    assert [p.name for p in stored.parent.parent.rglob("*.png")] == [stored.name]

    # The dead server is left out of the next job (no second attempt, no waiting for it).
    again = await studio.generate("a harbour", ["comfy-pool"], GenerationSpec.build(seed=8),
                                  conversation_id=outcome.message.conversation_id)
    assert again.generations[0].receipt.engine["server"] == second.url
    assert "failed_over_from" not in again.generations[0].receipt.engine
    assert len(first.prompts) == 1 and len(second.prompts) == 2


async def test_jobs_spread_by_load_and_respect_max_inflight(
        comfies: Any, make_studio: StudioFactory) -> None:
    gate = threading.Event()
    first = comfies("a", (200, 0, 0), gate=gate)
    second = comfies("b", (0, 0, 200), gate=gate)
    studio = await make_studio(models=pool_model(first.url, second.url, max_inflight=2),
                               network={"max_in_flight": 8})
    tasks = [asyncio.create_task(studio.generate(f"tower {n}", ["comfy-pool"],
                                                 GenerationSpec.build(seed=n)))
             for n in range(5)]
    # Four jobs fill both servers (two each); the fifth waits for room.
    deadline = time.monotonic() + WAIT_LIMIT
    while len(first.prompts) + len(second.prompts) < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert (len(first.prompts), len(second.prompts)) == (2, 2)
    gate.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks), WAIT_LIMIT)
    servers = [o.generations[0].receipt.engine["server"] for o in outcomes]
    assert all(o.generations[0].status == "succeeded" for o in outcomes)
    assert {servers.count(first.url), servers.count(second.url)} == {2, 3}
    assert first.most_running <= 2 and second.most_running <= 2
    for outcome in outcomes:  # each stored image is the one its server made
        server = outcome.generations[0].receipt.engine["server"]
        made = first if server == first.url else second
        assert colour(outcome.generations[0]) == made.colour


async def test_a_dead_server_is_skipped_by_its_health_check(
        comfies: Any, make_studio: StudioFactory) -> None:
    first = comfies("a", (200, 0, 0))
    second = comfies("b", (0, 0, 200))
    first.kill()
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline and first.server.thread.is_alive():
        await asyncio.sleep(0.02)
    studio = await make_studio(models=pool_model(first.url, second.url))
    outcome = await studio.generate("a bridge", ["comfy-pool"], GenerationSpec.build(seed=1))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    assert generation.receipt.engine["server"] == second.url
    assert "failed_over_from" not in generation.receipt.engine  # never sent a job there
    assert second.server.hits("GET", "/system_stats")


async def test_every_server_down_is_one_clear_error(
        comfies: Any, make_studio: StudioFactory) -> None:
    only = comfies("a", (200, 0, 0))
    only.kill()
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline and only.server.thread.is_alive():
        await asyncio.sleep(0.02)
    studio = await make_studio(models=pool_model(only.url))
    outcome = await studio.generate("a bridge", ["comfy-pool"])
    generation = outcome.generations[0]
    assert generation.status == "failed"
    assert generation.error and "no ComfyUI server of comfy-pool is reachable" in generation.error


def a1111_reply(colour: tuple[int, int, int]) -> Reply:
    return Reply(200, {"images": [base64.b64encode(png(colour=colour)).decode()],
                       "info": json.dumps({"all_seeds": [11], "sd_model_hash": "abc123"})})


async def test_a1111_pool_fails_over_when_a_server_hangs_up(
        make_studio: StudioFactory) -> None:
    first, second = FakeServer().start(), FakeServer().start()
    try:
        for server in (first, second):
            server.route("GET", "/sdapi/v1/progress", Reply(200, {"state": {}}))
        first.route("POST", "/sdapi/v1/txt2img", Reply(drop=True))
        second.route("POST", "/sdapi/v1/txt2img", a1111_reply((0, 120, 0)))
        studio = await make_studio(models={"forge-pool": {
            "engine": "a1111", "urls": [first.url, {"url": second.url, "max_inflight": 3}]}})
        outcome = await studio.generate("a fern", ["forge-pool"], GenerationSpec.build(seed=11))
        generation = outcome.generations[0]
        assert generation.status == "succeeded", generation.error
        assert generation.receipt.engine["server"] == second.url
        assert generation.receipt.engine["failed_over_from"] == [first.url]
        assert colour(generation) == (0, 120, 0)
        assert len(first.hits("POST", "/sdapi/v1/txt2img")) == 1
    finally:
        first.stop()
        second.stop()


async def test_pool_options_are_checked(make_studio: StudioFactory) -> None:
    from chatimg.errors import ConfigError

    studio = await make_studio(models={"bad-pool": {
        "engine": "comfyui", "urls": ["http://127.0.0.1:1"], "max_inflight": 0}})
    with pytest.raises(ConfigError, match="max_inflight"):
        studio.engine("bad-pool")


async def test_each_a1111_server_gets_its_own_in_flight_limit(
        make_studio: StudioFactory) -> None:
    """With ``max_in_flight = 1`` two held jobs still run at once, one on each server."""
    release = threading.Event()
    servers = [FakeServer().start(), FakeServer().start()]

    def held(paint: tuple[int, int, int]) -> Any:
        def answer(record: Recorded) -> Reply:
            release.wait(WAIT_LIMIT)
            return a1111_reply(paint)
        return answer

    try:
        for server, paint in zip(servers, ((1, 2, 3), (4, 5, 6)), strict=True):
            server.route("GET", "/sdapi/v1/progress", Reply(200, {"state": {}}))
            server.route("POST", "/sdapi/v1/txt2img", held(paint))
        studio = await make_studio(network={"max_in_flight": 1, "read_timeout": 30.0},
                                   models={"forge-pool": {"engine": "a1111",
                                                          "urls": [s.url for s in servers]}})
        tasks = [asyncio.create_task(studio.generate(f"leaf {n}", ["forge-pool"]))
                 for n in range(2)]
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline and not all(
                s.hits("POST", "/sdapi/v1/txt2img") for s in servers):
            await asyncio.sleep(0.02)
        assert [len(s.hits("POST", "/sdapi/v1/txt2img")) for s in servers] == [1, 1]
        release.set()
        outcomes = await asyncio.wait_for(asyncio.gather(*tasks), WAIT_LIMIT)
        assert sorted(colour(o.generations[0]) for o in outcomes) == [(1, 2, 3), (4, 5, 6)]
    finally:
        release.set()
        for server in servers:
            server.stop()
