"""Client overhead of a remote generation, against a baseline measured in the same run.

A loopback fake answers instantly with a 1024x1024 PNG, in two wire shapes:

- OpenAI Images: ``POST /v1/images/generations`` → JSON with the PNG as ``b64_json``;
- Ideogram: ``POST /generate`` → JSON with a link, then ``GET`` of the PNG.

For each, the baseline is a bare ``httpx.AsyncClient`` doing the same HTTP exchange (same
payload, same reads, nothing else; for OpenAI also a second baseline that parses the JSON and
decodes the base64, the least any client must do); the measured path is the chatimg engine's ``generate`` on the
shared client (request building, in-flight limit, cancel race, size-capped read, JSON parse,
base64 decode, image check). Printed: medians, the added latency, and the ratio.

Run: ``.venv/bin/python benchmarks/bench_remote_overhead.py``
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RUNS = 41


def make_png() -> bytes:
    """A 1024x1024 PNG with real content (a few MB, like a provider's output)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    base = np.linspace(0, 255, 1024, dtype=np.float32)
    pixels = np.stack([base[None, :].repeat(1024, 0), base[:, None].repeat(1024, 1),
                       rng.integers(0, 64, (1024, 1024)).astype(np.float32)], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype("uint8"), "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def start_server(image: bytes) -> tuple[ThreadingHTTPServer, str]:
    openai_body = json.dumps({"created": 1, "data": [
        {"b64_json": base64.b64encode(image).decode()}]}).encode()
    holder: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stalls)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            if self.path.endswith("/images/generations"):
                self._send(openai_body, "application/json")
            else:
                self._send(json.dumps({"created": "2026-01-01T00:00:00Z", "data": [{
                    "url": holder["url"] + "/img.png?exp=1", "prompt": "p",
                    "resolution": "1024x1024", "is_image_safe": True, "seed": 1}]}).encode(),
                    "application/json")

        def do_GET(self) -> None:
            self._send(image, "image/png")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    holder["url"] = url
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, url


async def paired_medians(first: Callable[[], Awaitable[Any]],
                         second: Callable[[], Awaitable[Any]],
                         runs: int = RUNS) -> tuple[float, float]:
    """Median seconds of each, run alternately (ABAB...) so machine drift hits both alike."""
    for _ in range(3):
        await first()
        await second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for function, bucket in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            await function()
            bucket.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


async def measure(url: str) -> None:
    import httpx

    from chatimg.config import load_settings
    from chatimg.engines.base import CancelToken, EngineContext, EngineRequest
    from chatimg.engines.catalog import Catalog
    from chatimg.spec import GenerationSpec

    os.environ.update({"OPENAI_API_KEY": "bench-key-openai", "OPENAI_BASE_URL": url + "/v1",
                       "IDEOGRAM_API_KEY": "bench-key-ideogram", "IDEOGRAM_BASE_URL": url})
    settings = load_settings()
    catalog = Catalog.from_settings(EngineContext(settings))
    request = EngineRequest(GenerationSpec(prompt="a lighthouse at dusk", width=1024, height=1024, seed=1))
    bare = httpx.AsyncClient(timeout=30)
    openai_body = {"model": "gpt-image-2", "prompt": request.spec.prompt, "n": 1,
                   "size": "1024x1024"}
    ideogram_body = {"image_request": {"prompt": request.spec.prompt, "model": "V_2_TURBO",
                                       "num_images": 1, "seed": 1,
                                       "resolution": "RESOLUTION_1024_1024"}}

    async def bare_openai() -> None:
        response = await bare.post(url + "/v1/images/generations", json=openai_body,
                                   headers={"Authorization": "Bearer bench-key-openai"})
        response.read()

    async def bare_openai_decoded() -> None:
        response = await bare.post(url + "/v1/images/generations", json=openai_body,
                                   headers={"Authorization": "Bearer bench-key-openai"})
        base64.b64decode(response.json()["data"][0]["b64_json"])

    async def bare_ideogram() -> None:
        response = await bare.post(url + "/generate", json=ideogram_body,
                                   headers={"Api-Key": "bench-key-ideogram"})
        link = response.json()["data"][0]["url"]
        (await bare.get(link)).read()

    def engine_call(name: str) -> Callable[[], Awaitable[Any]]:
        engine = catalog.engine(name)
        checked = engine.validate_request(request)

        async def call() -> None:
            result = await engine.generate(checked, lambda report: None, CancelToken())
            assert result.images[0].data

        return call

    rows = []
    for label, baseline, measured in (
        ("OpenAI b64_json", bare_openai, engine_call("gpt-image-2")),
        ("OpenAI, +decode", bare_openai_decoded, engine_call("gpt-image-2")),
        ("Ideogram URL", bare_ideogram, engine_call("ideogram-v2-turbo")),
    ):
        base_time, engine_time = await paired_medians(baseline, measured)
        rows.append((label, base_time, engine_time))
    await bare.aclose()
    await catalog.aclose()
    print(f"remote generation overhead, loopback fake, 1024x1024 PNG, median of {RUNS}")
    print(f"{'wire shape':<18} {'bare httpx':>11} {'chatimg':>10} {'added':>9} {'ratio':>7}")
    for label, base_time, engine_time in rows:
        print(f"{label:<18} {base_time * 1000:>8.2f} ms {engine_time * 1000:>7.2f} ms "
              f"{(engine_time - base_time) * 1000:>6.2f} ms {engine_time / base_time:>6.2f}x")


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CHATIMG_HOME"] = home
        image = make_png()
        print(f"PNG payload: {len(image) / 1e6:.2f} MB")
        server, url = start_server(image)
        try:
            asyncio.run(measure(url))
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
