"""iTerm2 inline images (OSC 1337 ``File=``): iTerm2, WezTerm, mintty, Konsole, VS Code.

The image travels as a base64 PNG and is stretched by the terminal to exactly ``cols x rows``
cells (``preserveAspectRatio=0``), so a slice made for one text row fills that row exactly
whatever the real cell size is.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image


def png_bytes(image: Image) -> bytes:
    """The image as a PNG (zlib level 1: fast, and the size matters little on a local pty)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def inline(image: Image, cols: int, rows: int) -> str:
    """The OSC 1337 sequence that draws ``image`` at the cursor over ``cols x rows`` cells.

    Args:
        image: Any Pillow image (sent as an RGB PNG).
        cols: Width in cells.
        rows: Height in cells.

    Returns:
        ``ESC ] 1337 ; File=inline=1;... : <base64 PNG> BEL``.
    """
    data = png_bytes(image)
    payload = base64.standard_b64encode(data).decode("ascii")
    return (f"\x1b]1337;File=inline=1;size={len(data)};width={cols};height={rows};"
            f"preserveAspectRatio=0;doNotMoveCursor=1:{payload}\x07")
