"""The two deployment classes of chatimg's Serve app, made inside functions so that importing
this module does not import Ray: the ingress (``Gateway``) and the model replica (``Replica``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from chatimg.engines.base import CancelToken, Progress
from chatimg.engines.ray_wire import (
    decode_request,
    decode_store,
    encode_error,
    encode_info,
    encode_result,
)
from chatimg.errors import ChatImgError, EngineRequestError, EngineUnavailableError
from chatimg.rayserve.app import BeforeRun, check_token, ndjson, with_heartbeats
from chatimg.rayserve.storing import open_store, store_images


def _settings(config: dict[str, Any]) -> Any:
    from chatimg.config import Settings

    return Settings(**{key: value for key, value in config.items() if key != "storage"})


def _engines(config: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Diffusers engines for ``names`` (no weights are loaded until a run)."""
    from chatimg.engines.base import EngineContext
    from chatimg.engines.registry import load_engine_class

    settings = _settings(config)
    context = EngineContext(settings)
    engine_class = load_engine_class("diffusers")
    return {name: engine_class(name, settings.models[name], context) for name in names}


def gateway_class() -> type:
    """The ingress of an app with several families: checks the token, lists models, streams
    runs from the family replicas."""

    class Gateway:
        """``GET /models``, ``POST /generate`` (NDJSON events); 401 without the token."""

        def __init__(self, digest: str, families: dict[str, str], handles: dict[str, Any],
                     config: dict[str, Any]) -> None:
            self.digest = digest
            self.families = families
            self.handles = handles
            self.infos = {name: encode_info(engine.info)
                          for name, engine in _engines(config, list(families)).items()}

        async def __call__(self, request: Any) -> Any:
            return await answer(request, self.digest, self.infos, self._events)

        def _events(self, model: str, body: dict[str, Any]) -> Any:
            handle = self.handles[self.families[model]].options(
                stream=True, multiplexed_model_id=model)
            return handle.generate.remote(body).__aiter__()

    return Gateway


#: Runs a request for a served model: its events.
EventsFor = Callable[[str, dict[str, Any]], AsyncIterator[Any]]


async def answer(request: Any, digest: str, infos: dict[str, Any], events_for: EventsFor
                 ) -> Any:
    """The HTTP side of the app (``GET /models``, ``POST /generate`` as NDJSON events), 401
    without the token; ``events_for`` runs a request (the gateway: on a family replica through
    its handle; a lone family's replica: right there, one hop less)."""
    from starlette.responses import JSONResponse, StreamingResponse

    if not check_token(request.headers.get("authorization"), digest):
        return JSONResponse({"error": {"kind": "request", "reason": "auth",
                                       "message": "missing or wrong token"}}, status_code=401)
    path = request.url.path.rstrip("/")
    if request.method == "GET" and path.endswith("/models"):
        return JSONResponse({"models": infos})
    if request.method != "POST" or not path.endswith("/generate"):
        return JSONResponse({"error": {"message": "not found"}}, status_code=404)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": {"message": "the body is not JSON"}}, status_code=400)
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, str) or model not in infos:
        return JSONResponse({"error": encode_error(EngineUnavailableError(
            f"{model!r} is not served here", "served: " + ", ".join(infos)))}, status_code=404)
    return StreamingResponse(_lines(events_for(model, body)),
                             media_type="application/x-ndjson")


async def _lines(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    try:
        async for event in with_heartbeats(events):
            yield ndjson(event)
    except Exception as exc:  # the replica died mid-run: the client retries
        yield ndjson({"error": encode_error(exc, retryable=True)})


def replica_class(models_per_replica: int) -> type:
    """A family's replica: the local diffusers engine, models multiplexed."""
    import ray
    from ray import serve

    class Replica:
        """Runs requests for the models of one family with the diffusers engine."""

        def __init__(self, config: dict[str, Any], members: list[str], family: str,
                     before_run: BeforeRun | None, digest: str | None = None) -> None:
            self.config = config
            self.members = set(members)
            self.digest = digest
            """The token's digest when this family is the app's ingress (the only one)."""
            self.infos = {name: encode_info(engine.info)
                          for name, engine in _engines(config, members).items()}
            self.family = family
            self.before_run = before_run
            self.loads: Counter[str] = Counter()
            self.store = open_store(config)
            _warm_imports()  # readiness includes them: no first request pays for them
            context = ray.get_runtime_context()
            self.name = context.get_actor_name() or context.get_actor_id()

        @serve.multiplexed(max_num_models_per_replica=models_per_replica)  # type: ignore[untyped-decorator]
        async def engine_for(self, model: str) -> Any:
            if model not in self.members:
                raise EngineUnavailableError(f"{model!r} is not served by {self.family}")
            self.loads[model] += 1
            return _engines(self.config, [model])[model]

        async def __call__(self, request: Any) -> Any:
            """HTTP, when this family is the app's ingress."""
            if self.digest is None:
                from starlette.responses import JSONResponse

                return JSONResponse({"error": {"message": "not found"}}, status_code=404)
            return await answer(request, self.digest, self.infos,
                                lambda model, body: self._events(body, raw=False))

        async def generate(self, body: Any) -> Any:
            """A run as JSON events (progress, then the result or an error): the HTTP path."""
            async for event in self._events(body, raw=False):
                yield event

        async def run(self, body: Any) -> dict[str, Any]:
            """A run without progress events (``bench --executor ray``, through a handle): its
            last event, the result as Python objects (Ray pickles them: no JSON, no base64)."""
            final: dict[str, Any] = {"error": encode_error(EngineRequestError(
                "the replica ended the run before its result", retryable=True))}
            async for event in self._events(body, raw=True):
                if "progress" not in event:
                    final = event
            return final

        async def _events(self, body: Any, *, raw: bool) -> Any:
            try:
                model, spec_data, source, mask, options, version = decode_request(body)
                engine = await self.engine_for(serve.get_multiplexed_model_id() or model)
                request = await _prepared(engine, spec_data, source, mask, options, version)
                if self.before_run is not None:
                    await self.before_run(model)
            except ChatImgError as exc:
                yield {"error": encode_error(exc)}
                return
            served = {"replica": self.name, "deployment": f"family-{self.family}",
                      "model_loads": self.loads[model]}
            wanted = decode_store(body)
            async for event in _run(engine, request):
                if "result" in event:
                    result = await asyncio.to_thread(store_images, self.store, wanted,
                                                     engine.info, spec_data, event["result"])
                    if raw:
                        event = {"result": await asyncio.to_thread(encoded, result, served)}
                    else:
                        event = {"result": encode_result(result, served),
                                 "served": encode_info(engine.info)}
                yield event

    return Replica


def _warm_imports() -> None:
    """Import torch and diffusers now (seconds in a fresh worker), not in the first request."""
    import contextlib

    with contextlib.suppress(ImportError):
        import diffusers  # noqa: F401
        import torch  # noqa: F401


def encoded(result: Any, served: dict[str, Any]) -> Any:
    """``result`` with PIL images as PNG bytes and ``served`` in its receipt's ``ray`` part."""
    from chatimg.imaging import encode_png

    images = [replace(image, data=encode_png(image.image), image=None)
              if image.data is None and image.image is not None and image.stored is None
              else image for image in result.images]
    return replace(result, images=images, receipt={**result.receipt, "ray": served})


async def _prepared(engine: Any, spec_data: dict[str, Any], source: bytes | None,
                    mask: bytes | None, options: dict[str, Any], version: str | None) -> Any:
    from chatimg.spec import GenerationSpec

    spec = GenerationSpec.from_stored(spec_data)
    request = engine.request(spec, source_image=source, mask=mask, options=options or None)
    return engine.validate_request(replace(request, version=version))


async def _run(engine: Any, request: Any) -> Any:
    """Run ``request`` on ``engine``: progress events, then ``{"result": GenerationResult}`` or
    an error event. A cancelled stream (the client hung up) stops the engine at its next step.
    """
    loop = asyncio.get_running_loop()
    reports: asyncio.Queue[Progress] = asyncio.Queue()
    cancel = CancelToken()

    def on_progress(report: Progress) -> None:
        loop.call_soon_threadsafe(reports.put_nowait, report)

    task = asyncio.ensure_future(engine.generate(request, on_progress, cancel))
    try:
        while not task.done():
            getter = asyncio.ensure_future(reports.get())
            done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                report = getter.result()
                yield {"progress": [report.step, report.total, report.message]}
            else:
                getter.cancel()
        try:
            result = task.result()
        except ChatImgError as exc:
            yield {"error": encode_error(exc)}
            return
        except Exception as exc:
            yield {"error": encode_error(EngineRequestError(
                f"the replica failed: {type(exc).__name__}: {exc}"[:300]))}
            return
        yield {"result": result}
    finally:
        if not task.done():
            cancel.cancel()
