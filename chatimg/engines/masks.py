"""Translate chatimg's inpaint mask (white = repaint) into each provider's convention.

Ideogram wants black where it should edit; OpenAI wants transparency there; AUTOMATIC1111 and
ComfyUI take white = repaint. Masks are resized to the source image so providers that require the
same size accept them. All of this is Pillow work, so callers run it in a worker thread.
"""

from __future__ import annotations

import io
from typing import Literal

Convention = Literal["white", "black", "transparent"]


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of encoded image bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


def convert_mask(mask: bytes, source: bytes, convention: Convention) -> bytes:
    """Return ``mask`` as a PNG the provider understands, at the source image's size.

    Args:
        mask: chatimg mask: white (or, if it has transparency, transparent) = repaint.
        source: The source image (for the size).
        convention: ``white``, ``black`` (the repaint area is black) or ``transparent``.
    """
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(mask)) as opened:
        opened.load()
        if opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info:
            alpha = opened.convert("RGBA").getchannel("A")
            # a mask drawn with transparency: transparent = repaint
            transparent = alpha.getextrema()[0] < 255  # type: ignore[operator]
            repaint = ImageOps.invert(alpha) if transparent else opened.convert("L")
        else:
            repaint = opened.convert("L")
    size = image_size(source)
    if repaint.size != size:
        repaint = repaint.resize(size, Image.Resampling.NEAREST)
    repaint = repaint.point(lambda value: 255 if value >= 128 else 0)
    if convention == "white":
        out = repaint
    elif convention == "black":
        out = ImageOps.invert(repaint)
    else:
        out = Image.new("RGBA", size, (0, 0, 0, 255))
        out.putalpha(ImageOps.invert(repaint))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()


def mime_of(data: bytes) -> str:
    """The mime type of encoded image bytes, by signature (default ``image/png``)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "image/png"


def file_name(data: bytes, stem: str = "image") -> str:
    """A file name with the right extension for multipart uploads."""
    return f"{stem}.{mime_of(data).split('/')[1].replace('jpeg', 'jpg')}"
