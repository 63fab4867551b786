"""Shared HTTP plumbing for remote engines, on the one ``httpx.AsyncClient`` of the context.

``ProviderClient`` sends one provider's requests: a per-provider limit on requests (or images) in
flight, retries with exponential backoff and jitter on 429, 5xx and connection errors (honouring
``retry-after-ms`` and ``Retry-After``, bounded in count and total waiting time), cancellation that
closes the request, response size caps, and HTTP status + provider error text mapped to chatimg
errors. Keys travel only in request headers; every provider text that reaches an error, a receipt
or a log is scrubbed of known keys first.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from chatimg.engines.payloads import check_image
from chatimg.engines.provider_errors import STATUS_REASONS, provider_text
from chatimg.errors import CancelledError, ChatImgError, EngineRequestError
from chatimg.redaction import redact

if TYPE_CHECKING:
    from chatimg.engines.base import CancelToken, EngineContext

T = TypeVar("T")

#: Statuses worth another try: request timeout, rate limit, and server errors except 501.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
#: The most bytes any one response may hold (base64 JSON of a few 4K images fits).
MAX_RESPONSE_BYTES = 200 * 1024 * 1024
#: Decoding and checking bigger payloads than this happens in a worker thread.
_THREAD_THRESHOLD = 256 * 1024
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 8.0


@dataclass(frozen=True)
class Reply:
    """A finished HTTP response, fully read."""

    status: int
    headers: httpx.Headers
    content: bytes
    url: str

    async def parsed(self, who: str) -> Any:
        """``json`` for big bodies in a worker thread, so the loop stays free."""
        if len(self.content) > _THREAD_THRESHOLD:
            return await asyncio.to_thread(self.json, who)
        return self.json(who)

    def json(self, who: str) -> Any:
        """The body as JSON.

        Raises:
            EngineRequestError: the body is not valid JSON (``reason="bad_response"``).
        """
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise EngineRequestError(
                f"{who} sent a malformed JSON response ({len(self.content)} bytes)",
                "the server may be overloaded or not speak this API; try again",
                reason="bad_response", status=self.status,
            ) from None


class InFlightLimit:
    """A weighted semaphore: at most ``capacity`` units (requests or images) at once."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.used = 0
        self._waiters: list[asyncio.Future[None]] = []

    async def acquire(self, weight: int) -> int:
        """Wait for room and take ``weight`` units (clamped to the capacity); return the units."""
        weight = max(1, min(weight, self.capacity))
        while self.used + weight > self.capacity:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                with suppress(ValueError):
                    self._waiters.remove(waiter)
        self.used += weight
        return weight

    def release(self, weight: int) -> None:
        """Give back ``weight`` units and wake the waiters."""
        self.used = max(0, self.used - weight)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


async def race(awaitable: Awaitable[T], cancel: CancelToken, who: str = "the request") -> T:
    """Run ``awaitable`` until it finishes or ``cancel`` is set; on cancel, stop it and raise.

    Cancelling an httpx request task closes its connection, so the server sees the hang-up.

    Raises:
        CancelledError: ``cancel`` was set first.
    """
    task = asyncio.ensure_future(awaitable)
    if cancel.cancelled:
        task.cancel()
        with suppress(BaseException):
            await task
        raise CancelledError(f"cancelled while waiting for {who}")
    watcher = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        watcher.cancel()
        raise
    if task.done():
        watcher.cancel()
        return task.result()
    task.cancel()
    with suppress(BaseException):
        await task
    raise CancelledError(f"cancelled while waiting for {who}")


async def gather_all(awaitables: list[Awaitable[T]]) -> list[T]:
    """Run ``awaitables`` concurrently; on the first failure cancel the rest and raise it."""
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_as_coroutine(item)) for item in awaitables]
    except BaseExceptionGroup as failures:
        for exc in failures.exceptions:
            if isinstance(exc, ChatImgError):
                raise exc from None
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The wait a server asked for: ``retry-after-ms``, else ``Retry-After`` (seconds or date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        with suppress(ValueError):
            value = float(raw_ms)
            if value >= 0 and value == value:
                return value / 1000.0
    raw = headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    with suppress(ValueError):
        value = float(raw)
        return value if value >= 0 and value == value else None
    with suppress(TypeError, ValueError, IndexError, OverflowError):
        when = email.utils.parsedate_to_datetime(raw)
        return max(0.0, when.timestamp() - time.time())
    return None


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
    ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2.0**attempt)
    return ceiling * (0.5 + random.random() / 2)


class ProviderClient:
    """Sends one provider's requests on the shared client.

    Args:
        context: The engine context (settings, shared client, shared state).
        provider: Provider key (``ideogram``, ``openai``, ...), also the in-flight limit's name.
        display: The provider's name in messages (``Ideogram``).
        headers: Headers for every API request (may carry the key; never shown).
        key_hint: The hint for a refused key (``set IDEOGRAM_API_KEY``).
        auth: Optional httpx auth (basic auth for AUTOMATIC1111).
        classify: Optional hook ``(status, text) -> reason or None`` for provider specifics
            (e.g. safety refusals).
        per_server: Count the in-flight limit per server (self-hosted pools).
    """

    def __init__(
        self, context: EngineContext, provider: str, display: str, *,
        headers: dict[str, str] | None = None, key_hint: str | None = None,
        auth: tuple[str, str] | None = None,
        classify: Callable[[int, str], str | None] | None = None, per_server: bool = False,
    ) -> None:
        self.context = context
        self.provider = provider
        self.display = display
        self._headers = dict(headers or {})
        self._auth = auth
        self.key_hint = key_hint
        self.classify = classify
        self.per_server = per_server

    def __repr__(self) -> str:  # never show headers: they hold the key
        return f"ProviderClient({self.provider!r})"

    @property
    def secrets(self) -> list[str]:
        """Known keys plus the header and auth values this client sends."""
        found = list(self.context.settings.secret_values())
        found += [value for value in self._headers.values() if len(value) >= 8]
        if self._auth:
            found += [self._auth[1], f"{self._auth[0]}:{self._auth[1]}",
                      _basic_token(self._auth)]
        return found

    def clean(self, text: str) -> str:
        """``text`` with every known key removed (``chatimg.redaction.redact``)."""
        return redact(text, self.secrets)

    def clean_data(self, value: Any) -> Any:
        """A JSON-able value with every known key and credential-named member hidden."""
        return redact(value, self.secrets)

    def limit(self, url: str | None = None) -> InFlightLimit:
        """This provider's in-flight limit on the running loop (per server of ``url`` for
        self-hosted providers, whose pools spread requests over many servers)."""
        loop = asyncio.get_running_loop()
        limits = self.context.shared.setdefault("remote_limits", {})
        server = _origin(url) if self.per_server and url else ""
        key = (self.provider, server, id(loop))
        found = limits.get(key)
        if found is None:
            found = limits[key] = InFlightLimit(self.context.settings.network.max_in_flight)
        return found  # type: ignore[no-any-return]

    async def request(
        self, method: str, url: str, *, cancel: CancelToken, weight: int = 1,
        json_body: Any = None, files: Any = None, data: Any = None,
        params: dict[str, Any] | None = None, authenticated: bool = True,
        retry: bool = True, limited: bool = True, what: str | None = None,
    ) -> Reply:
        """Send a request with retries; return a 2xx reply (a 3xx with a key is an error).

        Args:
            method: HTTP method.
            url: Absolute URL.
            cancel: Closes the request when set.
            weight: In-flight units (Ideogram: images in the request).
            json_body, files, data, params: As for httpx.
            authenticated: Send the provider headers (never for result downloads).
            retry: Retry on 429/5xx/connection errors.
            limited: Count against the provider's in-flight limit.
            what: Words for messages (default: the provider's name).

        Raises:
            EngineRequestError: the provider refused or failed after the retries.
            CancelledError: ``cancel`` was set.
        """
        network = self.context.settings.network
        who = what or self.display
        waited = 0.0
        attempt = 0
        while True:
            wait: float | None = None
            try:
                reply = await race(
                    self._send_limited(method, url, weight, limited, json_body, files, data,
                                       params, authenticated),
                    cancel, who,
                )
            except (httpx.TimeoutException, TimeoutError) as exc:
                failure = EngineRequestError(
                    f"{who} did not answer in time ({_timeout_kind(exc)})",
                    "the server is slow or overloaded; raise network.read_timeout or try again",
                    retryable=True, reason="timeout",
                )
            except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
                failure = EngineRequestError(
                    f"{who}: connection failed ({self.clean(_short(exc))})",
                    f"check that {_origin(url)} is reachable", retryable=True, reason="connection",
                )
            else:
                if reply.status < 300:
                    return reply
                failure = self.error_for(reply, who)
                if reply.status < 400:
                    failure = EngineRequestError(
                        f"{who} answered with a redirect ({reply.status})",
                        "set the base URL to the final address; keys are never sent on",
                        status=reply.status, reason="redirect",
                    )
                wait = retry_after_seconds(reply.headers)
                should = reply.headers.get("x-should-retry", "").lower()
                if should == "false":
                    failure.retryable = False
                elif should == "true":
                    failure.retryable = True
            remaining = network.max_retry_seconds - waited
            give_up = not (retry and failure.retryable) or attempt >= network.max_retries
            if not give_up and wait is not None and wait > remaining:
                failure.message = (
                    f"{failure.message} (the server asked to wait {wait:.0f} s, more than "
                    f"network.max_retry_seconds allows)"
                )
                give_up = True
            if give_up or remaining <= 0:
                if attempt:
                    failure.message = f"{failure.message} (after {attempt + 1} attempts)"
                raise failure
            delay = min(wait if wait is not None else backoff_delay(attempt), remaining)
            await race(asyncio.sleep(delay), cancel, who)
            waited += delay
            attempt += 1

    async def _send_limited(
        self, method: str, url: str, weight: int, limited: bool, json_body: Any, files: Any,
        data: Any, params: dict[str, Any] | None, authenticated: bool,
    ) -> Reply:
        if not limited:
            return await self._send(method, url, json_body, files, data, params, authenticated)
        limit = self.limit(url)
        units = await limit.acquire(weight)
        try:
            return await self._send(method, url, json_body, files, data, params, authenticated)
        finally:
            limit.release(units)

    async def _send(
        self, method: str, url: str, json_body: Any, files: Any, data: Any,
        params: dict[str, Any] | None, authenticated: bool,
    ) -> Reply:
        client = self.context.http()
        request = client.build_request(
            method, url, json=json_body, files=files, data=data, params=params,
            headers=self._headers if authenticated else None,
        )
        if authenticated and self._auth:
            request.headers["Authorization"] = "Basic " + _basic_token(self._auth)
        network = self.context.settings.network
        # a whole exchange gets both timeouts twice over: a server that drips bytes cannot hang us
        async with asyncio.timeout(2 * (network.connect_timeout + network.read_timeout)):
            carries_key = authenticated and bool(self._auth or any(self._headers.values()))
            return await self._exchange(client, request, follow=not carries_key)

    async def _exchange(self, client: httpx.AsyncClient, request: httpx.Request,
                        follow: bool) -> Reply:
        # requests that carry a key never follow redirects: httpx keeps custom headers
        # (Api-Key, x-goog-api-key) on a redirect to another host
        response = await client.send(request, stream=True, follow_redirects=follow)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise EngineRequestError(
                        f"{self.display} sent more than {MAX_RESPONSE_BYTES // 2**20} MB",
                        reason="bad_response", status=response.status_code,
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        return Reply(response.status_code, response.headers, b"".join(chunks), str(response.url))

    def error_for(self, reply: Reply, who: str | None = None) -> EngineRequestError:
        """Map an error reply to an ``EngineRequestError`` with a reason and a hint."""
        who = who or self.display
        status = reply.status
        text = self.clean(provider_text(reply.content))
        reason, hint = STATUS_REASONS.get(status, ("server_error" if status >= 500 else
                                                    "request_failed", None))
        if status == 401:
            reason, hint = "auth", self.key_hint or "check the server's credentials"
        if status >= 500 and status != 501:
            hint = "the provider had a problem; try again later"
        special = self.classify(status, text) if self.classify else None
        if special == "safety":
            hint = "the provider's safety filter refused it; rephrase the prompt"
        reason = special or reason
        message = f"{who} answered {status}" + (f": {text}" if text else "")
        return EngineRequestError(
            message, hint, retryable=status in RETRYABLE_STATUS, status=status, reason=reason
        )

    async def download_image(self, url: Any, cancel: CancelToken) -> bytes:
        """Fetch a result URL at once (links expire) and check it is a whole image.

        Raises:
            EngineRequestError: bad URL, expired or missing link, or not a readable image.
        """
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise EngineRequestError(
                f"{self.display} returned an image link chatimg cannot fetch",
                reason="bad_response",
            )
        try:
            reply = await self.request("GET", url, cancel=cancel, authenticated=False,
                                       limited=False, what=f"{self.display} image download")
        except EngineRequestError as exc:
            if exc.status in (403, 404, 410):
                raise EngineRequestError(
                    f"{self.display} image link expired or is missing (HTTP {exc.status})",
                    "result links expire quickly; run the generation again",
                    status=exc.status, reason="expired_url", retryable=True,
                ) from None
            raise
        await check_image(reply.content, self.display)
        return reply.content


def _basic_token(auth: tuple[str, str]) -> str:
    import base64

    return base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")


def _timeout_kind(exc: Exception) -> str:
    if not isinstance(exc, httpx.TimeoutException):
        return "the answer took too long to arrive"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.PoolTimeout):
        return "too many requests waiting for a connection"
    return "read timeout"


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = " ".join(text.split())
    return text[:160]


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
        return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
    except Exception:
        return "the server"
