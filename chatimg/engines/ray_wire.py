"""The JSON chatimg's Ray Serve app and its ``ray`` client engine exchange (no Ray needed).

``POST {prefix}/generate`` takes a request body (``encode_request``) and answers with
newline-delimited JSON events: ``{"progress": [step, total, message]}`` while it runs,
``{"alive": true}`` as a heartbeat while a model loads, then one ``{"result": ...}``
(``encode_result``) or ``{"error": ...}`` (``encode_error``). ``GET {prefix}/models`` lists the
served models with their catalog facts. Every request carries ``Authorization: Bearer TOKEN``.

A request may name the client's shared asset store (``store_request``); a replica with the same
store puts the images there and a result's image then carries ``stored`` (sha256, type, size)
instead of ``data``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from chatimg.engines.base import (
    Capabilities,
    GeneratedImage,
    GenerationResult,
    ModelInfo,
    Progress,
)
from chatimg.errors import (
    CancelledError,
    ChatImgError,
    EngineRequestError,
    EngineUnavailableError,
    InvalidRequestError,
)
from chatimg.store.assets import MIME_EXTENSIONS, AssetStore, StoredFile

#: Ray Serve routes a request to a replica that holds this model (model multiplexing).
MODEL_HEADER = "serve_multiplexed_model_id"
#: The wire format's version; a server refuses bodies of another.
WIRE_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidRequestError(f"{what} must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidRequestError(f"{what} is not valid base64") from None


def encode_request(model: str, spec: dict[str, Any], *, source_image: bytes | None = None,
                   mask: bytes | None = None, options: dict[str, Any] | None = None,
                   version: str | None = None, store: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """The body of ``POST /generate`` for ``model`` (a served model's name).

    ``store`` (``store_request``): the client's shared asset store, so a replica that has the
    same store puts the images there and sends their keys instead of their bytes.
    """
    body = {"wire": WIRE_VERSION, "model": model, "spec": spec, "options": options or {},
            "source_image": _b64(source_image), "mask": _b64(mask), "version": version}
    if store is not None:
        body["store"] = store
    return body


def store_request(url: str, model: str, model_id: str, version: str | None
                  ) -> dict[str, Any] | None:
    """The ``store`` part of a request: the client's ``[storage] url`` and what the PNGs say
    about the model (the client's name for it), so the replica stores the very bytes the
    client would. None when the store is this machine's own (no url, or ``memory://``)."""
    if not url or url.lower().startswith("memory:"):
        return None
    return {"url": url, "png": {"model": model, "model_id": model_id, "version": version}}


def decode_store(body: Any) -> tuple[str, dict[str, Any]] | None:
    """``(url, png)`` of a request's ``store`` part; None when absent or unreadable."""
    store = body.get("store") if isinstance(body, dict) else None
    if not isinstance(store, dict):
        return None
    url, png = store.get("url"), store.get("png")
    if not isinstance(url, str) or not url or not isinstance(png, dict):
        return None
    if not isinstance(png.get("model"), str) or not isinstance(png.get("model_id"), str):
        return None
    return url, png


def decode_request(body: Any) -> tuple[str, dict[str, Any], bytes | None, bytes | None,
                                        dict[str, Any], str | None]:
    """``(model, spec, source_image, mask, options, version)`` from a request body.

    Raises:
        InvalidRequestError: the body is not a request of this wire version.
    """
    if not isinstance(body, dict) or body.get("wire") != WIRE_VERSION:
        raise InvalidRequestError(f"not a chatimg request of wire version {WIRE_VERSION}")
    model, spec, options = body.get("model"), body.get("spec"), body.get("options") or {}
    if not isinstance(model, str) or not isinstance(spec, dict) or not isinstance(options, dict):
        raise InvalidRequestError("a request needs a model name, a spec and options")
    version = body.get("version")
    return (model, spec, _unb64(body.get("source_image"), "source_image"),
            _unb64(body.get("mask"), "mask"), options,
            version if isinstance(version, str) else None)


def encode_result(result: GenerationResult, served: dict[str, Any]) -> dict[str, Any]:
    """A finished run as JSON; ``served`` (replica, deployment, loads) joins the receipt."""
    images = []
    for image in result.images:
        data = image.data
        if data is None and image.image is not None and image.stored is None:
            from chatimg.imaging import encode_png

            data = encode_png(image.image)
        entry = {"data": _b64(data), "seed": image.seed, "revised_prompt": image.revised_prompt,
                 "safety_filtered": image.safety_filtered, "info": image.info}
        if image.stored is not None:
            entry["stored"] = asdict(image.stored)
        images.append(entry)
    return {"images": images, "model_version": result.model_version,
            "cost_usd": result.cost_usd, "receipt": {**result.receipt, "ray": served},
            "options": result.options, "cancelled": result.cancelled}


def decode_result(data: Any) -> GenerationResult:
    """A ``GenerationResult`` from ``encode_result``'s JSON.

    Raises:
        EngineRequestError: the JSON is not a result (``reason="bad_response"``).
    """
    try:
        images = [GeneratedImage(data=_unb64(item.get("data"), "image"), seed=item.get("seed"),
                                 revised_prompt=item.get("revised_prompt"),
                                 safety_filtered=bool(item.get("safety_filtered")),
                                 info=dict(item.get("info") or {}),
                                 stored=_stored(item.get("stored")))
                  for item in data["images"]]
        return GenerationResult(images=images, model_version=data.get("model_version"),
                                cost_usd=data.get("cost_usd"),
                                receipt=dict(data.get("receipt") or {}),
                                options=dict(data.get("options") or {}),
                                cancelled=bool(data.get("cancelled")))
    except (KeyError, TypeError, ValueError, AttributeError, ChatImgError):
        raise EngineRequestError("Ray Serve sent a result chatimg cannot read",
                                 reason="bad_response") from None


def _stored(data: Any) -> StoredFile | None:
    """A replica's stored image: its hash, type and size (the path is derived, never taken)."""
    if data is None:
        return None
    sha, mime = data["sha256"], data["mime"]
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha) or mime not in MIME_EXTENSIONS:
        raise TypeError("not a stored image")
    return StoredFile(sha, mime, int(data["width"]), int(data["height"]), int(data["bytes"]),
                      AssetStore.relative_path(sha, mime))


#: Error kinds on the wire → the chatimg error family.
_KINDS: dict[str, type[ChatImgError]] = {
    "invalid": InvalidRequestError, "unavailable": EngineUnavailableError,
    "cancelled": CancelledError, "request": EngineRequestError,
}


def encode_error(exc: BaseException, *, retryable: bool = False) -> dict[str, Any]:
    """An error event: chatimg errors keep their kind, message and hint."""
    if isinstance(exc, ChatImgError):
        kind = {InvalidRequestError: "invalid", EngineUnavailableError: "unavailable",
                CancelledError: "cancelled"}.get(type(exc), "request")
        retry = retryable or bool(getattr(exc, "retryable", False))
        return {"kind": kind, "message": exc.message, "hint": exc.hint, "retryable": retry,
                "reason": getattr(exc, "reason", None)}
    return {"kind": "request", "message": f"{type(exc).__name__}: {exc}"[:300], "hint": None,
            "retryable": retryable, "reason": "replica_lost" if retryable else "server_error"}


def decode_error(data: Any) -> ChatImgError:
    """The chatimg error an error event stands for."""
    if not isinstance(data, dict):
        return EngineRequestError("Ray Serve sent an unreadable error", reason="bad_response")
    message = str(data.get("message") or "the served model failed")[:500]
    hint = data.get("hint") if isinstance(data.get("hint"), str) else None
    kind = _KINDS.get(str(data.get("kind")), EngineRequestError)
    if kind is EngineRequestError:
        return EngineRequestError(message, hint, retryable=bool(data.get("retryable")),
                                  reason=str(data.get("reason") or "server_error"))
    return kind(message, hint)


def apply_event(event: Any, progress: Callable[[Progress], None]) -> GenerationResult | None:
    """Act on one event of a run: report progress, return the result, raise the error.

    Raises:
        ChatImgError: an error event (its kind kept).
    """
    if not isinstance(event, dict):
        return None
    if "progress" in event:
        step, total, message = [*list(event["progress"]), 0, 0, ""][:3]
        progress(Progress(int(step), int(total), str(message)))
    elif "result" in event:
        return decode_result(event["result"])
    elif "error" in event:
        raise decode_error(event["error"])
    return None


def encode_info(info: ModelInfo) -> dict[str, Any]:
    """A served model's catalog facts for ``GET /models``."""
    return {"model_id": info.model_id, "version": info.version,
            "capabilities": info.capabilities.as_dict(), "defaults": info.defaults,
            "description": info.description}


def decode_capabilities(data: Any) -> Capabilities:
    """``Capabilities`` from ``Capabilities.as_dict`` JSON (unknown keys ignored)."""
    fields = set(Capabilities.__dataclass_fields__)
    values = {k: v for k, v in (data or {}).items() if k in fields}
    if "schedulers" in values:
        values["schedulers"] = tuple(values["schedulers"])
    if "upscale_factors" in values:
        values["upscale_factors"] = tuple(float(f) for f in values["upscale_factors"])
    return Capabilities(**values)
