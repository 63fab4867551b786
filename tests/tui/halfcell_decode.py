"""Half-cell output back into pixels: each ``▀`` cell is two pixels (foreground over background).

Used by the viewer tests to check what is drawn against the source image, and to OCR it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image
from rich.color import Color
from textual.strip import Strip

BLANK = (0, 0, 0)


def _rgb(color: Color | None) -> tuple[int, int, int]:
    if color is None or color.is_default:
        return BLANK
    triplet = color.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def strips_to_image(strips: Sequence[Strip], width: int | None = None) -> Image.Image:
    """Pixels of rows of cells: ``▀`` gives (fg, bg), a space gives (bg, bg), others black."""
    columns = width if width is not None else max((s.cell_length for s in strips), default=0)
    image = Image.new("RGB", (max(1, columns), max(1, 2 * len(strips))), BLANK)
    pixels = image.load()
    assert pixels is not None
    for row, strip in enumerate(strips):
        x = 0
        for segment in strip:
            style = segment.style
            fg = _rgb(style.color if style else None)
            bg = _rgb(style.bgcolor if style else None)
            for char in segment.text:
                if x >= columns:
                    break
                upper, lower = (fg, bg) if char == "▀" else (bg, bg)
                pixels[x, 2 * row] = upper
                pixels[x, 2 * row + 1] = lower
                x += 1
    return image


def widget_pixels(widget: object) -> Image.Image:
    """Everything a line-rendering widget draws (``render_line`` for each row) as pixels."""
    width, height = widget.size  # type: ignore[attr-defined]
    strips = [widget.render_line(y) for y in range(height)]  # type: ignore[attr-defined]
    return strips_to_image(strips, width)


def content_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box of non-black pixels (where the picture is inside its padding)."""
    return Image.eval(image.convert("L"), lambda v: 255 if v > 0 else 0).getbbox()
