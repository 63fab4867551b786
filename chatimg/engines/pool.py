"""Pools of self-hosted servers (ComfyUI, AUTOMATIC1111/Forge) behind one model entry.

A model table may list ``urls = [...]`` (strings, or tables ``{url = ..., max_inflight = N}``)
instead of one ``base_url``. Each job goes to the least-loaded healthy server (jobs in flight over
its ``max_inflight``; ties go to the server listed first); when every server is full the job
waits for room. A server is health-checked (a cheap ``GET``) before its first job and again
after it failed, not more often than every ``RECHECK_SECONDS``. When a server dies mid-job
(connection lost, timeout, 5xx, garbage), it is marked down and the job runs once more on another
server; the receipt records the server that ran it (``server``) and the one that failed
(``failed_over_from``).
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chatimg.engines.base import (
    Availability,
    CancelToken,
    EngineOptions,
    EngineRequest,
    GenerationResult,
    Progress,
    ProgressCallback,
)
from chatimg.engines.http import race
from chatimg.engines.remote import RemoteEngine
from chatimg.errors import ChatImgError, EngineRequestError, EngineUnavailableError

#: Seconds before a server that failed is health-checked again.
RECHECK_SECONDS = 5.0
#: Seconds a health check may take.
HEALTH_TIMEOUT = 3.0
#: Jobs in flight per server unless its entry says otherwise.
DEFAULT_MAX_INFLIGHT = 1
#: Error reasons that blame the server rather than the request.
SERVER_FAULTS = frozenset({"connection", "timeout", "server_error", "bad_response"})

#: The server the current job runs on (set around ``run_job``; tasks it starts inherit it).
_CURRENT: ContextVar[str | None] = ContextVar("chatimg_pool_server", default=None)


class ServerEntry(BaseModel):
    """One server of a pool, as a table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    max_inflight: int | None = Field(default=None, ge=1)
    """Jobs this server runs at once (default: the model's ``max_inflight``)."""


class PoolOptions(EngineOptions):
    """Pool keys of a self-hosted model's table."""

    urls: list[str | ServerEntry] | None = None
    """Servers of the pool, tried least-loaded first (instead of one ``base_url``)."""
    max_inflight: int | None = Field(default=None, ge=1)
    """Jobs in flight per server (default 1)."""


@dataclass
class ServerState:
    """What the pool knows about one server."""

    url: str
    capacity: int
    order: int
    in_flight: int = 0
    jobs: int = 0
    """Jobs started on it."""
    checked: bool = False
    """Health-checked (or proven by a finished job) since it last failed."""
    down_until: float = 0.0
    """Monotonic time before which it is not tried again (0: not down)."""

    @property
    def load(self) -> float:
        return self.in_flight / self.capacity


@dataclass
class ServerPool:
    """Server states and the waiting room of one pool, on one event loop."""

    servers: list[ServerState]
    _room: asyncio.Event = field(default_factory=asyncio.Event)

    def pick(self, exclude: set[str]) -> ServerState | None:
        """The least-loaded server with room that is not down or excluded."""
        now = time.monotonic()
        ready = [s for s in self.servers if s.url not in exclude and s.down_until <= now
                 and s.in_flight < s.capacity]
        return min(ready, key=lambda s: (s.load, s.order), default=None)

    def live(self, exclude: set[str]) -> list[ServerState]:
        """Servers not excluded and not known to be down."""
        now = time.monotonic()
        return [s for s in self.servers if s.url not in exclude and s.down_until <= now]

    def mark_down(self, server: ServerState) -> None:
        server.checked = False
        server.down_until = time.monotonic() + RECHECK_SECONDS
        self._room.set()

    def release(self, server: ServerState) -> None:
        server.in_flight = max(0, server.in_flight - 1)
        self._room.set()

    async def wait_for_room(self, cancel: CancelToken, who: str) -> None:
        self._room.clear()
        try:
            await race(asyncio.wait_for(self._room.wait(), RECHECK_SECONDS), cancel, who)
        except TimeoutError:
            pass  # look again: a server that was down may be back


class PooledEngine(RemoteEngine):
    """A self-hosted engine that runs each job on one server of a pool (or on its one URL).

    Subclasses implement ``run_job`` (calling ``base_url()`` for the server) and set
    ``health_path``.
    """

    health_path: ClassVar[str] = "/"
    Options: ClassVar[type[EngineOptions]] = PoolOptions

    def servers(self) -> list[tuple[str, int]]:
        """The pool's ``(url, max_inflight)`` pairs; empty when the model has one URL."""
        found = getattr(self.options, "urls", None) or []
        default = getattr(self.options, "max_inflight", None) or DEFAULT_MAX_INFLIGHT
        pairs: list[tuple[str, int]] = []
        for item in found:
            url, limit = (item, None) if isinstance(item, str) else (item.url, item.max_inflight)
            pairs.append((url.rstrip("/"), limit or default))
        return pairs

    def base_url(self) -> str:
        """The server of the running job; else the first of the pool; else the one URL."""
        current = _CURRENT.get()
        if current:
            return current
        pairs = self.servers()
        return pairs[0][0] if pairs else super().base_url()

    def availability(self) -> Availability:
        pairs = self.servers()
        if not pairs:
            return super().availability()
        return Availability(True, f"pool of {len(pairs)} servers (not checked)")

    def pool(self) -> ServerPool:
        """This model's pool on the running loop (shared by models listing the same servers)."""
        pairs = tuple(self.servers())
        key = (self.provider, pairs, id(asyncio.get_running_loop()))
        pools: dict[Any, ServerPool] = self.context.shared.setdefault("server_pools", {})
        found = pools.get(key)
        if found is None:
            found = pools[key] = ServerPool([ServerState(url, limit, order)
                                             for order, (url, limit) in enumerate(pairs)])
        return found

    async def run_job(self, request: EngineRequest, progress: ProgressCallback,
                      cancel: CancelToken) -> GenerationResult:
        """Run one job on ``base_url()``."""
        raise NotImplementedError

    async def healthy(self, url: str) -> bool:
        """Whether ``url`` answers its health check."""
        token = _CURRENT.set(url)
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await self.client().request("GET", url + self.health_path, cancel=CancelToken(),
                                            retry=False, limited=False)
        except (ChatImgError, TimeoutError):
            return False
        finally:
            _CURRENT.reset(token)
        return True

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        if not self.servers():
            return await self.run_job(request, progress, cancel)
        pool = self.pool()
        failed: list[str] = []
        last: EngineRequestError | None = None
        while True:
            server = await self._acquire(pool, set(failed), cancel, last)
            token = _CURRENT.set(server.url)
            try:
                result = await self.run_job(request, progress, cancel)
            except EngineRequestError as exc:
                if not server_fault(exc) or failed:
                    raise
                pool.mark_down(server)
                failed.append(server.url)
                last = exc
                progress(Progress(0, 0, f"{self.display} server failed; trying another"))
                continue
            finally:
                _CURRENT.reset(token)
                pool.release(server)
            server.checked = True
            result.receipt["server"] = public_url(server.url)
            if failed:
                result.receipt["failed_over_from"] = [public_url(url) for url in failed]
            return self.scrubbed(result)

    async def _acquire(self, pool: ServerPool, exclude: set[str], cancel: CancelToken,
                       last: EngineRequestError | None) -> ServerState:
        """Take a slot on the least-loaded healthy server, waiting for room when all are busy.

        Raises:
            EngineRequestError: ``last`` (the failure being retried) when no other server is up.
            EngineUnavailableError: no server of the pool answers its health check.
        """
        for _ in range(10_000):
            server = pool.pick(exclude)
            if server is not None:
                server.in_flight += 1
                if server.checked or await self.healthy(server.url):
                    server.checked = True
                    server.jobs += 1
                    return server
                server.in_flight -= 1
                pool.mark_down(server)
                continue
            if pool.live(exclude):
                await pool.wait_for_room(cancel, self.display)
                continue
            if last is not None:
                last.message = f"{last.message} (no other {self.display} server is up)"
                raise last
            raise EngineUnavailableError(
                f"no {self.display} server of {self.name} is reachable",
                "start one of its servers or check the model's urls")
        raise EngineUnavailableError(f"no {self.display} server of {self.name} has room")


def server_fault(exc: EngineRequestError) -> bool:
    """Whether a failure blames the server (another server may succeed)."""
    return exc.reason in SERVER_FAULTS or (exc.status or 0) >= 500


def public_url(url: str) -> str:
    """``url`` without user name or password, for receipts."""
    import httpx

    try:
        return str(httpx.URL(url).copy_with(userinfo=b""))
    except Exception:
        return url.split("@")[-1]
