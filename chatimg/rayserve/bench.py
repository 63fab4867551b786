"""``chatimg bench --executor ray``: the bench's diffusers models run on Ray Serve replicas.

The bench itself (planning, resuming, storing, checks, reports) stays in this process; each
diffusers model of the run is swapped for an engine that sends its requests straight to the
model's Serve deployment through a deployment handle (no HTTP, no token: it runs inside the
cluster; one call per request, no progress events, the result pickled rather than JSON), each
request bounded by ``[ray] request_timeout``. An app already deployed by ``chatimg ray serve``
is reused; otherwise one is deployed for the bench's models (replicas, CPUs and GPUs from
``[ray]``) with no HTTP endpoint at all, and removed afterwards. Other models (remote APIs,
``layout``) run as before.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatimg.engines.base import CancelToken, EngineRequest, GenerationResult, ProgressCallback
from chatimg.engines.diffusers_engine import DiffusersEngine
from chatimg.engines.http import race
from chatimg.engines.ray_wire import decode_error, encode_request, store_request
from chatimg.errors import (
    CancelledError,
    EngineRequestError,
    EngineUnavailableError,
    InvalidRequestError,
)
from chatimg.rayserve.app import APP_NAME, build_app, served_models
from chatimg.rayserve.scoring import Scorer, ray_scorer

if TYPE_CHECKING:
    from chatimg.studio import Studio


class ServedDiffusersEngine(DiffusersEngine):
    """A diffusers model whose runs go to its Serve deployment (same engine code there)."""

    blocking = False
    handle: Any = None
    """The family deployment's handle."""

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        info = self.info
        store = store_request(self.context.settings.storage.url, self.name, info.model_id,
                              info.version)
        body = encode_request(self.name, request.spec.stored(),
                              source_image=request.source_image, mask=request.mask,
                              options=request.options.model_dump(exclude_unset=True),
                              version=request.version, store=store)
        retries = self.context.settings.network.max_retries
        for attempt in range(retries + 1):
            try:
                return await self._once(body, progress, cancel)
            except EngineRequestError as exc:
                if not exc.retryable or attempt == retries:
                    raise
        raise EngineRequestError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _once(self, body: dict[str, Any], progress: ProgressCallback,
                    cancel: CancelToken) -> GenerationResult:
        """One request, bounded by ``[ray] request_timeout`` (not retried past it: a hung
        replica costs one timeout, and ``--resume`` redoes the result). No progress events
        travel: the bench counts results, and each event would cost both sides CPU."""
        response = self.handle.options(multiplexed_model_id=self.name).run.remote(body)
        timeout = self.context.settings.ray.request_timeout
        try:
            async with asyncio.timeout(timeout):
                final = await race(_answer(response), cancel, "the replica")
        except TimeoutError:
            response.cancel()
            raise EngineRequestError(
                f"the replica did not finish within {timeout:g} s",
                "raise [ray] request_timeout or check the replicas; --resume redoes it",
                reason="timeout") from None
        except CancelledError:
            response.cancel()
            raise
        result = final.get("result")
        if isinstance(result, GenerationResult):
            return result
        raise decode_error(final.get("error"))


async def _answer(response: Any) -> dict[str, Any]:
    """The replica's last event; a replica that died is a retryable error."""
    try:
        final = await response
    except Exception as exc:  # the replica died: Ray raises its own errors
        raise EngineRequestError(f"the replica was lost: {type(exc).__name__}",
                                 retryable=True, reason="replica_lost") from None
    return final if isinstance(final, dict) else {}


@dataclass
class RayExecutor:
    """What ``attach`` set up, so ``detach`` undoes only that."""

    models: list[str]
    started_ray: bool = False
    deployed: bool = False
    handles: dict[str, Any] = field(default_factory=dict)
    score: Scorer | None = None
    """The checks stage (Ray tasks), when checks are enabled."""

    def detach(self) -> None:
        """Remove an app deployed for the bench and stop a Ray started for it."""
        import ray
        from ray import serve

        if self.deployed:
            serve.delete(APP_NAME)
        if self.started_ray:
            serve.shutdown()  # type: ignore[no-untyped-call]
            ray.shutdown()


def attach(studio: Studio, models: Sequence[str], *, address: str | None = None
           ) -> RayExecutor:
    """Route the diffusers models among ``models`` to Ray Serve for this studio.

    Raises:
        InvalidRequestError: none of the models is a diffusers model.
        EngineUnavailableError: Ray is not installed.
    """
    catalog = studio.catalog
    chosen = [m for m in dict.fromkeys(models) if catalog.entry(m).engine == "diffusers"]
    if not chosen:
        raise InvalidRequestError("--executor ray runs diffusers models; none of these is one",
                                  "bench them with --executor local")
    try:
        import ray
        from ray import serve
    except ImportError:
        raise EngineUnavailableError("Ray is not installed",
                                     "pip install 'chatimg[ray]'") from None
    settings = studio.settings
    executor = RayExecutor(chosen)
    if not ray.is_initialized():
        target = address or settings.ray.address
        options: dict[str, Any] = {"address": target} if target else {}
        ray.init(**options, include_dashboard=False, log_to_driver=False)
        executor.started_ray = True
    serve.start(proxy_location="Disabled")  # joins a running Serve as it is
    running = APP_NAME in serve.status().applications
    served = settings.model_copy(update={"ray": settings.ray.model_copy(
        update={"models": chosen, "families": {}})})
    families = served_models(served)
    if running:
        families = {m: _family_of(settings, m) for m in chosen}
    else:
        serve.run(build_app(served, secrets.token_urlsafe(32)), name=APP_NAME,
                  route_prefix=None)
        executor.deployed = True
    for model in chosen:
        handle = serve.get_deployment_handle(f"family-{families[model]}", app_name=APP_NAME)
        engine = ServedDiffusersEngine(model, catalog.entry(model), catalog.context)
        engine.handle = handle
        catalog.use_engine(model, engine)
        executor.handles[model] = handle
    executor.score = ray_scorer(studio, timeout=settings.ray.request_timeout,
                                num_cpus=settings.ray.check_cpus)
    return executor


def _family_of(settings: Any, model: str) -> str:
    """The deployment a running app (deployed from the same config) serves ``model`` in."""
    for family, members in settings.ray.families.items():
        if model in members:
            return str(family)
    return "diffusers"
