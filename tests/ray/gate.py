"""A gate the replicas pass before each run, so a test can hold a run inside a replica."""

from __future__ import annotations

import asyncio
from typing import Any

NAMESPACE = "chatimg-tests"
GATE_NAME = "chatimg-test-gate"


class Gate:
    """A Ray actor (made with ``ray.remote``): records who passed; holds them while closed."""

    def __init__(self) -> None:
        self.open_event = asyncio.Event()
        self.open_event.set()
        self.visitors: list[str] = []

    async def pass_through(self, replica: str) -> None:
        self.visitors.append(replica)
        await self.open_event.wait()

    def close(self) -> None:
        self.open_event.clear()

    def open(self) -> None:
        self.open_event.set()

    def seen(self) -> list[str]:
        return list(self.visitors)


async def before_run(model: str) -> None:
    """The replicas' hook: pass the gate (named actor of the test session)."""
    import ray

    gate: Any = ray.get_actor(GATE_NAME, namespace=NAMESPACE)
    name = ray.get_runtime_context().get_actor_name() or "?"
    await gate.pass_through.remote(name)
