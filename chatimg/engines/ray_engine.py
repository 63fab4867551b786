"""The ``ray`` engine kind: a diffusers model served by ``chatimg ray serve``, reached over HTTP.

The client never imports Ray (a Ray client must match the cluster's Ray and Python versions;
HTTP does not care). A run streams newline-delimited JSON events (``chatimg.engines.ray_wire``):
progress reaches the caller as it happens, cancel closes the stream (the replica stops at its
next step), and a lost replica — the stream ends or fails before the result — is retried with
backoff within ``[network] max_retries`` and ``max_retry_seconds``. The replica runs the same
diffusers engine code as a local model, so the receipt is the same plus a ``ray`` part (replica,
deployment, how many times it loaded the model).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from pydantic import Field

from chatimg.engines.base import (
    Availability,
    CancelToken,
    Capabilities,
    EngineOptions,
    EngineRequest,
    GenerationResult,
    ModelInfo,
    Progress,
    ProgressCallback,
)
from chatimg.engines.http import backoff_delay, race
from chatimg.engines.ray_wire import (
    MODEL_HEADER,
    apply_event,
    decode_capabilities,
    encode_request,
    store_request,
)
from chatimg.engines.remote import RemoteEngine
from chatimg.errors import EngineRequestError

#: What a served diffusers model can do until the server says otherwise.
DEFAULT_CAPABILITIES = Capabilities(
    txt2img=True, img2img=True, inpaint=True, seed=True, negative_prompt=True,
    max_width=2048, max_height=2048, max_count=4, size_multiple=8, deterministic=True)


class RayEngine(RemoteEngine):
    """A model of chatimg's Ray Serve app (entry ``url``; ``model``: the served model's name,
    default the entry's own name)."""

    kind = "ray"
    provider = "ray"
    display = "Ray Serve"
    base_url_env = "CHATIMG_RAY_URL"
    default_base_url = "http://127.0.0.1:8000/chatimg"
    needs_key = True
    self_hosted = True

    class Options(EngineOptions):
        """Extra keys of a ``ray`` model's table."""

        url: str | None = None
        """The app's address, e.g. ``http://gpu-box:8000/chatimg`` (or ``base_url``)."""
        threads: int | None = Field(default=None, ge=1, le=1024)
        """torch CPU threads in the replica (as for a local diffusers model)."""

    def __init__(self, name: str, entry: Any, context: Any) -> None:
        super().__init__(name, entry, context)
        self._served: dict[str, Any] | None = None

    def base_url(self) -> str:
        url = getattr(self.options, "url", None)
        return str(url).rstrip("/") if url else super().base_url()

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def served_name(self) -> str:
        return self.model_string or self.name

    @property
    def info(self) -> ModelInfo:
        served = self._served or {}
        return ModelInfo(
            name=self.name, engine=self.kind,
            model_id=str(served.get("model_id") or self.served_name),
            version=served.get("version"),
            capabilities=decode_capabilities(served["capabilities"]) if served
            else DEFAULT_CAPABILITIES,
            cost_per_image=self.entry_cost(0.0),
            description=getattr(self.entry, "description", None)
            or f"{self.served_name} on Ray Serve at {self.base_url()}",
            defaults={**(served.get("defaults") or {}), **self.entry_defaults()},
        )

    def availability(self) -> Availability:
        if not self.api_key():
            return Availability(False, f"needs {self.key_env}")
        return Availability(True, f"Ray Serve at {self.base_url()} (not checked)")

    async def served_models(self, cancel: CancelToken | None = None) -> dict[str, Any]:
        """``GET /models``: every served model's catalog facts."""
        reply = await self.client().request("GET", self.base_url() + "/models",
                                            cancel=cancel or CancelToken(), limited=False)
        found = reply.json("Ray Serve")
        models = found.get("models") if isinstance(found, dict) else None
        if not isinstance(models, dict):
            raise EngineRequestError("Ray Serve sent a model list chatimg cannot read",
                                     reason="bad_response")
        return models

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        client = self.client()
        options = request.options.model_dump(exclude_none=True, exclude={"url"})
        info = self.info
        store = store_request(self.context.settings.storage.url, self.name, info.model_id,
                              info.version)
        body = encode_request(self.served_name, request.spec.stored(),
                              source_image=request.source_image, mask=request.mask,
                              options=options, version=request.version, store=store)
        network = self.context.settings.network
        waited, attempt = 0.0, 0
        while True:
            try:
                result = await race(self._stream(body, progress), cancel, "Ray Serve")
                return self.scrubbed(result)
            except EngineRequestError as exc:
                remaining = network.max_retry_seconds - waited
                if not exc.retryable or attempt >= network.max_retries or remaining <= 0:
                    if attempt:
                        exc.message = f"{exc.message} (after {attempt + 1} attempts)"
                    raise
                failure = client.clean(exc.message)
            delay = min(backoff_delay(attempt), remaining)
            progress(Progress(0, 0, f"retrying on another replica ({failure[:80]})"))
            await race(asyncio.sleep(delay), cancel, "Ray Serve")
            waited += delay
            attempt += 1

    async def _stream(self, body: dict[str, Any], progress: ProgressCallback
                      ) -> GenerationResult:
        """One attempt: send the request and read its events up to the result.

        Raises:
            EngineRequestError: refused, failed, or the stream ended early (retryable).
        """
        client = self.client()
        http = self.context.http()
        headers = {**self.headers(self.api_key()), MODEL_HEADER: self.served_name}
        url = self.base_url() + "/generate"
        try:
            async with http.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code >= 300:
                    await response.aread()
                    raise client.error_for(_reply(response), "Ray Serve")
                async for line in response.aiter_lines():
                    event = _event(line)
                    if event is None:
                        continue
                    result = apply_event(event, progress)
                    if result is not None:
                        self._served = self._served or event.get("served")
                        return result
        except httpx.TimeoutException:
            raise EngineRequestError("Ray Serve did not answer in time", retryable=True,
                                     reason="timeout") from None
        except (httpx.HTTPError, OSError) as exc:
            raise EngineRequestError(
                f"Ray Serve: connection failed ({client.clean(str(exc))[:120]})",
                f"check that {self.base_url()} is up (chatimg ray serve)", retryable=True,
                reason="connection") from None
        raise EngineRequestError("Ray Serve ended the stream before the result (replica lost)",
                                 retryable=True, reason="replica_lost")


def _event(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        raise EngineRequestError("Ray Serve sent a line that is not JSON",
                                 reason="bad_response") from None
    return event if isinstance(event, dict) else None


def _reply(response: httpx.Response) -> Any:
    from chatimg.engines.http import Reply

    return Reply(response.status_code, response.headers, response.content, str(response.url))

