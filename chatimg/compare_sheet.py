"""A contact sheet for a comparison: the images in a grid with their labels, drawn with Pillow.

The sheet has a header band (the parameters every generation shares, shown once, and the
similarity scores) and one cell per generation: the image scaled to fit a square area, then the
model and the parameters that differ between the generations, highlighted. A failed generation's
cell shows its error text; a generation whose file went missing shows "missing".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chatimg.compare import Comparison, PairScore, load_image

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageFont import FreeTypeFont

BACKGROUND = (24, 24, 28)
CELL_BACKGROUND = (44, 44, 52)
TEXT = (235, 235, 240)
MUTED = (150, 150, 160)
HIGHLIGHT = (255, 191, 0)
ERROR = (240, 110, 110)
MARGIN = 16
GAP = 16
FONT_SIZE = 14
LINE_HEIGHT = 20


@dataclass(frozen=True)
class ContactSheet:
    """A drawn sheet and where each generation's image landed.

    ``boxes[i]`` is ``(left, top, right, bottom)`` of item ``i``'s image, or of its empty image
    area when it has none.
    """

    image: Image
    boxes: tuple[tuple[int, int, int, int], ...]


@lru_cache(maxsize=8)
def _font(size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) for ``count`` panes: side by side up to three, 2x2 for four."""
    columns = 2 if count == 4 else count
    rows = (count + columns - 1) // columns
    return columns, rows


def _wrap(text: str, font: FreeTypeFont, width: float) -> list[str]:
    """Greedy word wrap; over-long words are cut by characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split(" "):
            trial = f"{current} {word}" if current else word
            if font.getlength(trial) <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            current = word
            while font.getlength(current) > width and len(current) > 1:
                cut = len(current)
                while cut > 1 and font.getlength(current[:cut]) > width:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current)
    return lines


def _fit(image: Image, side: int) -> Image:
    from PIL import Image as PILImage

    scale = min(side / image.width, side / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if size == image.size else image.resize(size, PILImage.Resampling.LANCZOS)


def header_lines(comparison: Comparison, scores: list[PairScore]) -> list[str]:
    """The header text: shared parameters once, then one similarity line per pair."""
    shared = " · ".join(
        f"{row.label} {row.values[0]}"
        for row in comparison.shared_rows(include_prompt=True) if row.values[0] != "-"
    )
    lines = [f"chatimg compare · {len(comparison.items)} generations"]
    lines.append(f"same: {shared}" if shared else "same: (nothing)")
    positions = {item.id: index + 1 for index, item in enumerate(comparison.items)}
    for score in scores:
        lines.append(f"#{positions[score.a]} vs #{positions[score.b]}: {score.short()}")
    return lines


def cell_labels(comparison: Comparison) -> list[list[tuple[str, bool]]]:
    """Each cell's label lines as (text, highlighted): ``#n model``, then what differs
    (the prompt first when the prompts differ)."""
    differing = [row for row in comparison.differing_rows(include_prompt=True)
                 if row.key != "model"]
    return [
        [(f"#{index + 1} {item.model}", False)]
        + [(f"{row.label}: {row.values[index]}", True) for row in differing]
        for index, item in enumerate(comparison.items)
    ]


def draw_contact_sheet(
    comparison: Comparison, scores: list[PairScore], *, cell: int = 320,
    images: list[Any] | None = None,
) -> ContactSheet:
    """Draw the contact sheet.

    Args:
        comparison: What is compared.
        scores: Pair scores for the header (may be empty).
        cell: The side of each square image area in pixels.
        images: Already loaded images per item (``None`` for none); loaded when omitted.

    Returns:
        The sheet and the image box of each item.
    """
    from PIL import Image as PILImage
    from PIL import ImageDraw

    font = _font(FONT_SIZE)
    loaded = images if images is not None else [load_image(item) for item in comparison.items]
    columns, rows = grid_shape(len(comparison.items))
    width = MARGIN * 2 + columns * cell + (columns - 1) * GAP
    header: list[str] = []
    for line in header_lines(comparison, scores):
        header.extend(_wrap(line, font, width - 2 * MARGIN))
    header_h = len(header) * LINE_HEIGHT + GAP
    wrapped_labels = [
        [(piece, HIGHLIGHT if highlighted else TEXT)
         for text, highlighted in lines for piece in _wrap(text, font, cell)]
        for lines in cell_labels(comparison)
    ]
    label_h = max(len(lines) for lines in wrapped_labels) * LINE_HEIGHT + 8
    cell_h = cell + label_h
    height = MARGIN * 2 + header_h + rows * cell_h + (rows - 1) * GAP
    sheet = PILImage.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for index, line in enumerate(header):
        draw.text((MARGIN, MARGIN + index * LINE_HEIGHT), line, font=font,
                  fill=TEXT if index == 0 else MUTED)
    boxes: list[tuple[int, int, int, int]] = []
    for index, item in enumerate(comparison.items):
        column, row = index % columns, index // columns
        left = MARGIN + column * (cell + GAP)
        top = MARGIN + header_h + row * (cell_h + GAP)
        area = (left, top, left + cell, top + cell)
        draw.rectangle((area[0], area[1], area[2] - 1, area[3] - 1), fill=CELL_BACKGROUND)
        picture = loaded[index]
        if picture is not None:
            fitted = _fit(picture.convert("RGB"), cell)
            x = left + (cell - fitted.width) // 2
            y = top + (cell - fitted.height) // 2
            sheet.paste(fitted, (x, y))
            boxes.append((x, y, x + fitted.width, y + fitted.height))
        else:
            note = item.note or "no image"
            colour = MUTED if item.state == "missing" else ERROR
            lines = _wrap(note, font, cell - 16)[: max(1, (cell - 16) // LINE_HEIGHT)]
            y0 = top + (cell - len(lines) * LINE_HEIGHT) // 2
            for number, line in enumerate(lines):
                x = left + (cell - int(font.getlength(line))) // 2
                draw.text((x, y0 + number * LINE_HEIGHT), line, font=font, fill=colour)
            boxes.append(area)
        for number, (text, colour) in enumerate(wrapped_labels[index]):
            draw.text((left, top + cell + 4 + number * LINE_HEIGHT), text, font=font, fill=colour)
    return ContactSheet(sheet, tuple(boxes))
