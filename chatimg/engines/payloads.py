"""Result payloads from remote engines: base64 fields and image bytes, checked before storing.

A truncated, empty or unreadable image is a clear ``EngineRequestError`` (``bad_response``), never
a crash later in the Studio. Large payloads are decoded and checked in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from chatimg.errors import EngineRequestError

#: Decoding and checking bigger payloads than this happens in a worker thread.
THREAD_THRESHOLD = 256 * 1024


async def check_image(data: Any, who: str) -> tuple[str, int, int]:
    """Check ``data`` is a complete, readable image; return (format, width, height).

    Large images are checked in a worker thread so the loop stays free.

    Raises:
        EngineRequestError: empty, truncated or unreadable (``reason="bad_response"``).
    """
    if not isinstance(data, bytes | bytearray) or not data:
        raise EngineRequestError(f"{who} returned an empty image", reason="bad_response")
    if len(data) > THREAD_THRESHOLD:
        return await asyncio.to_thread(_check_image_sync, bytes(data), who)
    return _check_image_sync(bytes(data), who)


def _check_image_sync(data: bytes, who: str) -> tuple[str, int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            size = image.size
            if fmt == "PNG":
                image.verify()  # walks every chunk and its CRC: catches truncation cheaply
            else:
                image.load()
    except Exception as exc:  # Pillow raises many kinds for cut or hostile files
        cut = isinstance(exc, EOFError | SyntaxError) or "truncat" in str(exc).lower()
        detail = "truncated" if cut else "unreadable"
        raise EngineRequestError(
            f"{who} returned an image that is {detail} ({len(data)} bytes)",
            "the transfer may have been cut; try again", reason="bad_response", retryable=True,
        ) from None
    if fmt not in ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"):
        raise EngineRequestError(f"{who} returned an unsupported image format {fmt or '?'}",
                                 reason="bad_response")
    return fmt, size[0], size[1]


def decode_base64_image(value: Any, who: str) -> bytes:
    """Decode a base64 image field (a ``data:`` URL prefix is tolerated).

    Raises:
        EngineRequestError: not a string or not valid base64.
    """
    import binascii

    if not isinstance(value, str) or not value:
        raise EngineRequestError(f"{who} returned an image field that is not base64 text",
                                 reason="bad_response")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        try:  # line-wrapped or URL-safe base64 from lenient servers
            compact = "".join(value.split()).replace("-", "+").replace("_", "/")
            return binascii.a2b_base64(compact, strict_mode=True)
        except (binascii.Error, ValueError):
            raise EngineRequestError(f"{who} returned an image that is not valid base64",
                                     reason="bad_response") from None


async def decode_image(value: Any, who: str) -> bytes:
    """Decode a base64 image field and check the image; large ones in a worker thread.

    Raises:
        EngineRequestError: not base64, or not a whole readable image.
    """
    if isinstance(value, str) and len(value) > THREAD_THRESHOLD:
        return await asyncio.to_thread(_decode_and_check, value, who)
    return _decode_and_check(value, who)


def _decode_and_check(value: Any, who: str) -> bytes:
    data = decode_base64_image(value, who)
    if not data:
        raise EngineRequestError(f"{who} returned an empty image", reason="bad_response")
    _check_image_sync(data, who)
    return data
