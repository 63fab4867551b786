"""The Kitty graphics protocol with Unicode placeholders (kitty, Ghostty; tmux with passthrough).

The image is transmitted once (APC ``a=T,U=1``: transmit and make a *virtual* placement of
``cols x rows`` cells). It then shows wherever the screen holds placeholder cells
(U+10EEEE) whose foreground colour spells the image id and whose combining marks give the
row and column. Those cells are ordinary text, so the app's own compositor scrolls, clips
and overdraws them: nothing is left behind when the thread scrolls, and nothing is redrawn.
"""

from __future__ import annotations

import base64
import io
import re
import sys
import unicodedata
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL.Image import Image

PLACEHOLDER = "\U0010eeee"
CHUNK = 4096
Format = Literal[24, 32, 100]

# Kitty's row/column marks are the combining marks of class 230 that have no decomposition
# and take part in none (its table follows Unicode 6.0). Below U+0898 no mark was added
# since, so the rule gives kitty's first 129 entries exactly; rows and columns stop there.
_LAST_MARK = 0x0898
_COMPOSED_END = 0x2000  # every canonical decomposition using those marks lies below this


@lru_cache(1)
def diacritics() -> tuple[str, ...]:
    """The combining marks that number rows and columns 0, 1, 2, ... (129 of them)."""
    composed: set[int] = set()
    for code in range(_COMPOSED_END):
        parts = unicodedata.decomposition(chr(code))
        if parts and not parts.startswith("<"):
            composed.update(int(part, 16) for part in parts.split())
    marks = []
    for code in range(0x0300, _LAST_MARK):
        char = chr(code)
        if (unicodedata.combining(char) == 230 and unicodedata.category(char) == "Mn"
                and not unicodedata.decomposition(char) and code not in composed):
            marks.append(char)
    return tuple(marks)


def _apc(keys: str, payload: str = "") -> str:
    return f"\x1b_G{keys};{payload}\x1b\\" if payload else f"\x1b_G{keys}\x1b\\"


def _pixels(image: Image, fmt: Format) -> bytes:
    if fmt == 100:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()
    return image.convert("RGB" if fmt == 24 else "RGBA").tobytes()


def transmit(image: Image, image_id: int, cols: int, rows: int, fmt: Format = 24,
             compress: bool = True) -> str:
    """The APC sequences that send ``image`` and place it virtually over ``cols x rows`` cells.

    Args:
        image: Any Pillow image.
        image_id: 1 to 2**24-1 (the id placeholder cells name in their colour).
        cols: Width of the placement in cells.
        rows: Height of the placement in cells.
        fmt: 24 (RGB), 32 (RGBA) or 100 (PNG).
        compress: zlib-compress raw pixels (``o=z``); PNG is never compressed again.

    Returns:
        One or more APC commands (chunked every 4096 base64 bytes, ``m=1`` on all but the last).
    """
    data = _pixels(image, fmt)
    keys = f"a=T,U=1,i={image_id},f={fmt},c={cols},r={rows},q=2"
    if fmt != 100:
        keys += f",s={image.width},v={image.height}"
        if compress:
            data = zlib.compress(data, 1)
            keys += ",o=z"
    encoded = base64.standard_b64encode(data).decode("ascii")
    chunks = [encoded[i:i + CHUNK] for i in range(0, len(encoded), CHUNK)] or [""]
    out = []
    for number, chunk in enumerate(chunks):
        more = 1 if number < len(chunks) - 1 else 0
        out.append(_apc(f"{keys},m={more}" if number == 0 else f"m={more},q=2", chunk))
    return "".join(out)


def delete(image_id: int) -> str:
    """The APC command that deletes an image and frees its data in the terminal."""
    return _apc(f"a=d,d=I,i={image_id},q=2")


def id_colour(image_id: int) -> tuple[int, int, int]:
    """The truecolor foreground that names ``image_id`` in placeholder cells."""
    return (image_id >> 16) & 255, (image_id >> 8) & 255, image_id & 255


def placeholder_row(row: int, first_col: int, cols: int) -> str:
    """Placeholder cells for ``cols`` columns of one image row, starting at ``first_col``.

    The first cell carries the row and column marks; the terminal numbers the following
    cells of the same run itself (column + 1), which keeps wide images within 129 marks.

    Raises:
        ValueError: ``row`` or ``first_col`` has no mark (beyond 128).
    """
    marks = diacritics()
    if row >= len(marks) or first_col >= len(marks):
        raise ValueError("image cell beyond the placeholder table")
    if cols <= 0:
        return ""
    return PLACEHOLDER + marks[row] + marks[first_col] + PLACEHOLDER * (cols - 1)


def tmux_wrap(stream: str) -> str:
    """Wrap each APC command of ``stream`` for tmux's passthrough (``allow-passthrough on``)."""
    commands = re.findall(r"\x1b_G.*?\x1b\\", stream, re.S)
    return "".join("\x1bPtmux;" + command.replace("\x1b", "\x1b\x1b") + "\x1b\\"
                   for command in commands)


def in_tmux() -> bool:
    """Whether this process runs inside tmux (commands then go through its passthrough)."""
    import os

    return bool(os.environ.get("TMUX")) and sys.platform != "win32"
