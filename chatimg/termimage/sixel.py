"""Sixel graphics (DEC VT340, xterm ``-ti vt340``, foot, WezTerm, mlterm, Konsole, tmux 3.4+).

An image is quantised once to at most 256 colours (``quantize``); ``encode`` then writes any
band of its rows as a DCS sequence. Colour registers are defined *and* selected explicitly
(xterm does not select a register by defining it), background pixels are left transparent
(``P2=1``) and the raster attributes give the exact size, so a slice of an image can be drawn
over a text row without touching the rows around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image

MAX_COLOURS = 256
_BAND = 6


@cache
def _weights() -> np.ndarray:
    """The bit of each row within a sixel band (numpy loads on first use, not at import)."""
    import numpy as np

    return (1 << np.arange(_BAND, dtype=np.uint16))[:, None]


_RUN = re.compile(rb"(.)\1{3,}")


@dataclass(frozen=True)
class Indexed:
    """An image as palette indices (``height x width``, uint8) and its RGB palette."""

    indices: np.ndarray
    palette: tuple[tuple[int, int, int], ...]

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self.indices.shape[1]), int(self.indices.shape[0])


def quantize(image: Image, colours: int = MAX_COLOURS) -> Indexed:
    """Reduce an image to at most ``colours`` colours (median cut, no dithering).

    Args:
        image: Any Pillow image (converted to RGB).
        colours: Palette size, 1-256.

    Returns:
        The indexed image.
    """
    import numpy as np
    from PIL import Image as PILImage

    rgb = image.convert("RGB")
    reduced = rgb.quantize(colors=max(1, min(MAX_COLOURS, colours)),
                           method=PILImage.Quantize.MEDIANCUT, dither=PILImage.Dither.NONE)
    indices = np.asarray(reduced, dtype=np.uint8)
    flat = reduced.getpalette() or []
    count = int(indices.max()) + 1 if indices.size else 1
    palette = tuple((flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]) if 3 * i + 2 < len(flat)
                    else (0, 0, 0) for i in range(count))
    return Indexed(indices, palette)


def _percent(value: int) -> int:
    return (value * 100 + 127) // 255


def _run_length(match: re.Match[bytes]) -> bytes:
    run = match.group(0)
    return b"!%d" % len(run) + run[:1]


def encode(image: Indexed, top: int = 0, bottom: int | None = None, left: int = 0,
           right: int | None = None) -> str:
    """The DCS sixel sequence for rows ``top:bottom`` and columns ``left:right`` of an image.

    Args:
        image: An indexed image from ``quantize``.
        top: First pixel row.
        bottom: One past the last pixel row (default: the image's height).
        left: First pixel column.
        right: One past the last pixel column (default: the image's width).

    Returns:
        ``ESC P 0;1;0 q`` ... ``ESC \\``: draws at the cursor, leaving unset pixels transparent.
    """
    import numpy as np

    rows = image.indices[top:bottom, left:right]
    height, width = (int(rows.shape[0]), int(rows.shape[1])) if rows.ndim == 2 else (0, 0)
    out = [b'\x1bP0;1;0q"1;1;%d;%d' % (width, height)]
    if height and width:
        for colour in np.unique(rows).tolist():
            r, g, b = image.palette[colour]
            out.append(b"#%d;2;%d;%d;%d" % (colour, _percent(r), _percent(g), _percent(b)))
        for band_top in range(0, height, _BAND):
            band = rows[band_top:band_top + _BAND]
            colours = np.unique(band)
            hits = band[None, :, :] == colours[:, None, None]
            sixels = (hits * _weights()[: band.shape[0]]).sum(axis=1).astype(np.uint8) + 63
            # each colour is present in the band: write only from its first to its last column
            drawn = sixels != 63
            firsts = np.argmax(drawn, axis=1).tolist()
            ends = (width - np.argmax(drawn[:, ::-1], axis=1)).tolist()
            data = sixels.tobytes()
            parts = []
            for number, colour in enumerate(colours.tolist()):
                first, end = firsts[number], ends[number]
                lead = b"!%d?" % first if first > 3 else b"?" * first
                line = data[number * width + first:number * width + end]
                parts.append(b"#%d" % colour + lead + _RUN.sub(_run_length, line))
            out.append(b"$".join(parts))
            if band_top + _BAND < height:
                out.append(b"-")
    out.append(b"\x1b\\")
    return b"".join(out).decode("ascii")
