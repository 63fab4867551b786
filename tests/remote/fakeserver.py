"""A loopback HTTP server for remote-engine tests: scripted replies, recorded requests.

Routes map ``(METHOD, path)`` to a list of replies used in order (the last one repeats) or to a
function of the recorded request. A reply may delay, drop the connection, or send any bytes, so
tests can speak each provider's exact wire format and its failures.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from PIL.Image import Image

SECRET = "sk-test-SECRET-4f9a8b7c6d5e"


def alpha(image: Image, xy: tuple[int, int]) -> int:
    """The alpha value of one pixel of an RGBA image."""
    return cast(tuple[int, ...], image.getpixel(xy))[3]


def png(width: int = 64, height: int = 64, colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A small PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Part:
    """One multipart part."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()


@dataclass
class Recorded:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def parts(self) -> list[Part]:
        """The multipart/form-data parts, in order."""
        assert self.content_type.startswith("multipart/form-data"), self.content_type
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.content_type.encode() + b"\r\n\r\n" + self.body
        )
        found = []
        for part in message.iter_parts():
            found.append(Part(
                name=cast(str, part.get_param("name", header="content-disposition")),
                filename=part.get_filename(),
                content_type=part.get_content_type() if part.get("content-type") else None,
                data=cast(bytes, part.get_payload(decode=True) or b""),
            ))
        return found

    def form(self) -> dict[str, Part]:
        return {part.name: part for part in self.parts()}


@dataclass
class Reply:
    """What the server sends back."""

    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    """Close the connection without answering."""


Handler = Callable[[Recorded], Reply]


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 with scripted routes."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply] | Handler] = {}
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = self
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stalls)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                record = Recorded(self.command, split.path, parse_qs(split.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._lock:
                    outer.requests.append(record)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    reply = server._reply(record)
                    if reply.delay:
                        outer._stop.wait(reply.delay)
                    if reply.drop:
                        self.close_connection = True
                        return
                    payload = reply.body
                    headers = dict(reply.headers)
                    if isinstance(payload, dict | list):
                        payload = json.dumps(payload).encode()
                        headers.setdefault("Content-Type", "application/json")
                    elif isinstance(payload, str):
                        payload = payload.encode()
                    self.send_response(reply.status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    with outer._lock:
                        outer.in_flight -= 1

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.httpd.server_address[:2])
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, method: str, path: str, *replies: Reply | Handler) -> None:
        """Answer ``method path`` with ``replies`` in order (the last repeats) or a handler."""
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self.routes[(method, path)] = replies[0]
        else:
            self.routes[(method, path)] = list(replies)  # type: ignore[arg-type]

    def _reply(self, record: Recorded) -> Reply:
        route = self.routes.get((record.method, record.path))
        if route is None:
            return Reply(404, {"error": f"no route {record.method} {record.path}"})
        if callable(route):
            return route(record)
        with self._lock:
            return route.pop(0) if len(route) > 1 else route[0]

    def hits(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]
