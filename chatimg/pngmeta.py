"""Parameters written into PNG text chunks, so a file that leaves chatimg says how it was made."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = "chatimg"


def add_text_chunk(png: bytes, keyword: str, text: str) -> bytes:
    """Insert an ``iTXt`` chunk before ``IEND`` without re-encoding the pixels.

    Non-PNG bytes are returned unchanged.
    """
    if not png.startswith(PNG_SIGNATURE) or len(png) < 20:
        return png
    iend = png.rfind(b"IEND")
    if iend < 4:
        return png
    start = iend - 4
    payload = keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    chunk_type = b"iTXt"
    chunk = (
        struct.pack(">I", len(payload))
        + chunk_type
        + payload
        + struct.pack(">I", zlib.crc32(chunk_type + payload) & 0xFFFFFFFF)
    )
    return png[:start] + chunk + png[start:]


def embed_parameters(png: bytes, parameters: dict[str, Any]) -> bytes:
    """Embed ``parameters`` as JSON under the ``chatimg`` keyword (sorted keys: deterministic)."""
    return add_text_chunk(png, KEYWORD, json.dumps(parameters, sort_keys=True, default=str))


def read_parameters(png: bytes) -> dict[str, Any] | None:
    """The parameters chatimg embedded in a PNG, if any."""
    if not png.startswith(PNG_SIGNATURE):
        return None
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        chunk_type = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        if chunk_type == b"iTXt" and data.startswith(KEYWORD.encode() + b"\x00"):
            text = data[len(KEYWORD) + 5 :].decode("utf-8", "replace")
            try:
                value = json.loads(text)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
        position += 12 + length
    return None
