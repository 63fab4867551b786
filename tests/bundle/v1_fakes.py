"""Deterministic fake provider servers for the version-1 bundle test data.

Every reply is a function of the request alone (its normalised wire form), so running the same
request again gets the same image bytes and seeds: a replay of a remote bundle is ``identical``
exactly when chatimg sends the same request on the wire as when the bundle was made. The
requests are recorded (``wire``) so a test can also show the difference when they are not.

``tests/bundle/make_v1_bundles.py`` made the bundles against these servers; the compatibility
tests replay them against the same servers. Keep the replies stable: changing one changes what
"identical" means for the stored bundles.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tests.remote.fakeserver import FakeServer, Recorded, Reply, png

#: Paths that generate images (the requests a replay must send again, identically).
GENERATION_PATHS = (
    "/generate", "/remix", "/edit", "/upscale", "/v1/ideogram-v3/generate",
    "/v1/ideogram-v3/remix", "/v1/images/generations", "/v1/images/edits", "/prompt",
    "/upload/image", "/sdapi/v1/txt2img", "/sdapi/v1/img2img",
)


def wire(record: Recorded) -> dict[str, Any]:
    """A request as the provider sees it, minus what is random by design.

    JSON bodies are kept whole (ComfyUI's per-request ``client_id`` dropped); multipart forms
    become ``{name: text}`` with files as their sha256 (file names and boundaries dropped).
    """
    body: Any
    if record.content_type.startswith("multipart/form-data"):
        fields: dict[str, Any] = {}
        for part in record.parts():
            value: Any = ({"sha256": hashlib.sha256(part.data).hexdigest()}
                          if part.filename is not None else part.text)
            fields.setdefault(part.name, []).append(value)
        body = {name: values[0] if len(values) == 1 else values
                for name, values in sorted(fields.items())}
    elif record.body:
        body = record.json()
        if isinstance(body, dict):
            body.pop("client_id", None)
    else:
        body = None
    return {"method": record.method, "path": record.path, "body": body}


def generation_requests(server: FakeServer) -> list[dict[str, Any]]:
    """The normalised image requests the server received, in order."""
    return [wire(r) for r in server.requests
            if (r.method == "POST" and r.path in GENERATION_PATHS)
            or r.path.endswith((":generateContent", ":predict"))]


def _digest(record: Recorded, salt: str = "") -> str:
    text = json.dumps(wire(record), sort_keys=True) + salt
    return hashlib.sha256(text.encode()).hexdigest()


def picture(record: Recorded, index: int = 0, size: tuple[int, int] = (32, 32)) -> bytes:
    """A small PNG whose colour is a function of the request and the image index."""
    digest = bytes.fromhex(_digest(record, f"#{index}"))
    return png(size[0], size[1], (digest[0], digest[1], digest[2]))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _seed_of(record: Recorded, fallback: int) -> int:
    fields = wire(record)["body"]
    request = fields.get("image_request") if isinstance(fields, dict) else None
    if isinstance(request, str):
        request = json.loads(request)
    for holder in (request, fields):
        if isinstance(holder, dict) and str(holder.get("seed", "")).lstrip("-").isdigit():
            seed = int(holder["seed"])
            if seed >= 0:
                return seed
    return fallback


# -- providers ---------------------------------------------------------------------------------


def ideogram(server: FakeServer) -> None:
    """Legacy ``/generate``, ``/remix``, ``/edit``, ``/upscale`` and v3 generate/remix."""

    def answer(record: Recorded) -> Reply:
        fields = wire(record)["body"]
        request = fields.get("image_request", fields) if isinstance(fields, dict) else {}
        if isinstance(request, str):
            request = json.loads(request)
        count = int(request.get("num_images", 1)) if isinstance(request, dict) else 1
        seed = _seed_of(record, 4242)
        key = _digest(record)[:16]
        data = []
        for index in range(count):
            path = f"/api/images/ephemeral/{key}-{index}.png"
            server.route("GET", path, Reply(200, picture(record, index),
                                            {"Content-Type": "image/png"}))
            data.append({"prompt": f"revised: image {index}", "resolution": "1024x1024",
                         "is_image_safe": True, "seed": seed + index, "style_type": "GENERAL",
                         "url": f"{server.url}{path}?exp=1743867804&sig=abc"})
        return Reply(200, {"created": "2026-11-26T10:00:00.000000+00:00", "data": data})

    for path in ("/generate", "/remix", "/edit", "/upscale", "/v1/ideogram-v3/generate",
                 "/v1/ideogram-v3/remix"):
        server.route("POST", path, answer)


def gemini(server: FakeServer) -> None:
    """``models/{model}:generateContent`` answering one inline image and a line of text."""
    for model in ("gemini-2.5-flash-image", "gemini-3.1-flash-image"):
        server.route("POST", f"/v1beta/models/{model}:generateContent", _gemini_answer(model))


def _gemini_answer(model: str) -> Any:
    def answer(record: Recorded) -> Reply:
        return Reply(200, {
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Here it is."},
                {"inlineData": {"mimeType": "image/png", "data": _b64(picture(record))}}]},
                "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1290},
            "modelVersion": f"{model}-001"})

    return answer


def imagen(server: FakeServer) -> None:
    """``models/{model}:predict``; withholds the last image when more than one is asked for."""

    def answer(record: Recorded) -> Reply:
        body = record.json()
        count = int(body.get("parameters", {}).get("sampleCount", 1))
        kept = max(1, count - 1)  # the provider's safety filter withholds one
        return Reply(200, {"predictions": [
            {"bytesBase64Encoded": _b64(picture(record, i)), "mimeType": "image/png"}
            for i in range(kept)]})

    for model in ("imagen-4.0-fast-generate-001", "imagen-4.0-ultra-generate-001"):
        server.route("POST", f"/v1beta/models/{model}:predict", answer)


def openai(server: FakeServer) -> None:
    """``/v1/images/generations`` and ``/v1/images/edits`` answering base64 images."""

    def answer(record: Recorded) -> Reply:
        fields = wire(record)["body"]
        count = int(fields.get("n", 1)) if isinstance(fields, dict) else 1
        return Reply(200, {
            "created": 1713833628,
            "data": [{"b64_json": _b64(picture(record, i)), "revised_prompt": f"revised {i}"}
                     for i in range(count)],
            "usage": {"input_tokens": 50, "output_tokens": 4000, "total_tokens": 4050}})

    server.route("POST", "/v1/images/generations", answer)
    server.route("POST", "/v1/images/edits", answer)


def comfyui(server: FakeServer) -> None:
    """``/upload/image``, ``/prompt``, ``/history/{id}`` and ``/view`` like ComfyUI."""

    def upload(record: Recorded) -> Reply:
        data = record.form()["image"].data
        return Reply(200, {"name": f"up-{hashlib.sha256(data).hexdigest()[:16]}.png",
                           "subfolder": "", "type": "input"})

    def prompt(record: Recorded) -> Reply:
        prompt_id = "p-" + _digest(record)[:12]
        graph = record.json()["prompt"]
        batch = 1
        for node in graph.values():
            inputs = node.get("inputs", {})
            if isinstance(inputs.get("batch_size"), int):
                batch = inputs["batch_size"]
        names = [f"{prompt_id}_{i:05d}_.png" for i in range(batch)]
        for index, name in enumerate(names):
            server.route("GET", f"/view/{name}", Reply(200, picture(record, index)))
        server.route("GET", f"/history/{prompt_id}", Reply(200, {prompt_id: {
            "prompt": [3, prompt_id, {}, {}, ["9"]],
            "outputs": {"9": {"images": [{"filename": name, "subfolder": "", "type": "output"}
                                         for name in names]}},
            "status": {"status_str": "success", "completed": True, "messages": []}}}))
        return Reply(200, {"prompt_id": prompt_id, "number": 1, "node_errors": {}})

    def view(record: Recorded) -> Reply:
        name = record.query.get("filename", [""])[0]
        found = server.routes.get(("GET", f"/view/{name}"))
        if not isinstance(found, list):
            return Reply(404, {"error": f"no image {name}"})
        return Reply(200, found[0].body, {"Content-Type": "image/png"})

    server.route("POST", "/upload/image", upload)
    server.route("POST", "/prompt", prompt)
    server.route("GET", "/view", view)


def a1111(server: FakeServer) -> None:
    """``/sdapi/v1/txt2img`` and ``/img2img`` with the ``info`` JSON string of real seeds."""

    def answer(record: Recorded) -> Reply:
        body = record.json()
        count = int(body.get("batch_size", 1))
        seed = _seed_of(record, 777)
        info = {"prompt": body.get("prompt"), "seed": seed,
                "all_seeds": [seed + i for i in range(count)],
                "sd_model_name": "dreamshaper_8", "sd_model_hash": "879db523",
                "sampler_name": body.get("sampler_name") or "Euler a",
                "index_of_first_image": 0, "version": "v1.10.1"}
        return Reply(200, {"images": [_b64(picture(record, i)) for i in range(count)],
                           "parameters": {}, "info": json.dumps(info)})

    server.route("POST", "/sdapi/v1/txt2img", answer)
    server.route("POST", "/sdapi/v1/img2img", answer)
    server.route("GET", "/sdapi/v1/progress", Reply(200, {"state": {}}))


#: Bundle name → the servers it was made against.
SERVERS = {"ideogram": ideogram, "gemini": gemini, "imagen": imagen, "openai": openai,
           "comfyui": comfyui, "a1111": a1111}


def serve(kind: str) -> FakeServer:
    """A started fake server speaking ``kind``'s wire format (stop it when done)."""
    server = FakeServer()
    SERVERS[kind](server)
    return server.start()


#: Environment variables that point each provider at a fake server (plus fake keys).
def environment(server: FakeServer) -> dict[str, str]:
    """Keys and base URLs for every provider, all pointing at ``server``."""
    secret = "sk-test-SECRET-4f9a8b7c6d5e"
    return {
        "IDEOGRAM_API_KEY": secret + "-ideo", "GEMINI_API_KEY": secret + "-gem",
        "OPENAI_API_KEY": secret + "-oai", "A1111_AUTH": "artist:" + secret + "-a1111",
        "IDEOGRAM_BASE_URL": server.url, "GEMINI_BASE_URL": server.url,
        "OPENAI_BASE_URL": server.url + "/v1", "COMFYUI_URL": server.url,
        "A1111_URL": server.url,
    }
