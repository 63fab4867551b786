"""Half-block cells: each ``▀`` cell shows two pixels, the upper as foreground, the lower as
background. Works in every truecolor terminal, tmux included; the fallback for the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

UPPER_HALF = "▀"

RGB = tuple[int, int, int]


def cell_colours(image: Image) -> list[list[tuple[RGB, RGB]]]:
    """The ``(upper, lower)`` colours of each cell, row by row, for an image already at cell size.

    An image ``w`` pixels wide and ``h`` high gives ``ceil(h / 2)`` rows of ``w`` cells; an odd
    last pixel row is repeated as its own lower half.

    Args:
        image: Any Pillow image (converted to RGB).

    Returns:
        Rows of cells, each cell a pair of RGB tuples.
    """
    import numpy as np  # imported on first use: the app's first paint does without it

    pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    if pixels.shape[0] % 2:
        pixels = np.concatenate([pixels, pixels[-1:]], axis=0)
    upper = pixels[0::2].tolist()
    lower = pixels[1::2].tolist()
    return [[(tuple(u), tuple(d)) for u, d in zip(up_row, low_row, strict=True)]  # type: ignore[misc]
            for up_row, low_row in zip(upper, lower, strict=True)]
