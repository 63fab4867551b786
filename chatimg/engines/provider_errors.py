"""Provider error bodies → one clean line: the human text of a JSON or HTML error, no keys.

Every provider wraps its error differently (Ideogram ``{"error": "..."}``, OpenAI and Google
``{"error": {"message", ...}}``, AUTOMATIC1111 ``{"detail": ...}``, ComfyUI ``{"error": {"type",
"message", "details"}}``); ``provider_text`` reads them all (the client then hides known keys
with ``chatimg.redaction``).
"""

from __future__ import annotations

import json
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]+")
_TAGS = re.compile(r"<[^>]{0,200}>")


def provider_text(content: bytes, limit: int = 300) -> str:
    """The human part of an error body: JSON ``error``/``message``/``detail`` or plain text."""
    text = ""
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            parts = [error.get("message"), error.get("details"), error.get("status"),
                     error.get("code")]
            text = " ".join(str(part) for part in parts if isinstance(part, str | int) and part)
        elif isinstance(error, str):
            text = error
            detail = body.get("detail") or body.get("reject_reason")
            if isinstance(detail, str) and detail and detail not in text:
                text = f"{text}: {detail}"
        if not text:
            for key in ("detail", "message", "errors"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    text = value
                    break
                if isinstance(value, list) and value:
                    first = value[0]
                    text = str(first.get("msg", first) if isinstance(first, dict) else first)
                    break
        node = _first_node_error(body.get("node_errors"))
        if node:
            text = f"{text}: {node}" if text else node
    if not text and body is None:
        text = _TAGS.sub(" ", content[:2000].decode("utf-8", "replace"))
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _first_node_error(found: object) -> str:
    """ComfyUI's ``node_errors``: the first failing node's class and error message."""
    if not isinstance(found, dict):
        return ""
    for node in found.values():
        errors = node.get("errors") if isinstance(node, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            said = " ".join(str(first.get(key) or "") for key in ("message", "details"))
            return f"{node.get('class_type', 'node')}: {said.strip()}"
    return ""


#: Status → (reason, hint) for statuses every provider shares.
STATUS_REASONS: dict[int, tuple[str, str | None]] = {
    400: ("invalid", "check the request options for this model"),
    402: ("billing", "check the account's balance or plan"),
    403: ("forbidden", "the key has no access to this model or endpoint"),
    404: ("not_found", "check the model name and the server URL"),
    408: ("timeout", None),
    409: ("conflict", None),
    413: ("too_large", "use a smaller source image"),
    422: ("invalid", "check the request options for this model"),
    429: ("rate_limited", "wait a little, or lower network.max_in_flight"),
}
