"""The pixel side of text repair: read a line's colours and type size, cover it, set new text.

All work stays inside the patch box it returns; nothing outside it is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.typeset.fonts import FACES, FontChain, font_chain

if TYPE_CHECKING:
    from PIL.Image import Image

Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]
PROBE_SIZE = 96


@dataclass(frozen=True)
class Ink:
    """What a line of text looks like: its ink box, text and background colours, ink mask."""

    box: Box
    colour: RGB
    background: RGB
    mask: Any
    """Boolean array of the ink inside ``box``."""


def _clip(box: tuple[float, float, float, float], width: int, height: int) -> Box:
    x0, y0, x1, y1 = box
    return (max(0, int(x0)), max(0, int(y0)), min(width, round(x1)),
            min(height, round(y1)))


def _ring(pixels: Any, box: Box, thickness: int) -> Any:
    """The pixels in a band ``thickness`` wide just outside ``box`` (N x 3)."""
    import numpy as np

    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = box
    outer = _clip((x0 - thickness, y0 - thickness, x1 + thickness, y1 + thickness), width, height)
    parts = [pixels[outer[1]:y0, outer[0]:outer[2]], pixels[y1:outer[3], outer[0]:outer[2]],
             pixels[y0:y1, outer[0]:x0], pixels[y0:y1, x1:outer[2]]]
    flat = [part.reshape(-1, 3) for part in parts if part.size]
    return np.concatenate(flat) if flat else pixels[y0:y1, x0:x1].reshape(-1, 3)


def find_ink(pixels: Any, line_box: Box) -> Ink | None:
    """The text of one OCR line: its strokes (not those of neighbouring lines reaching into the
    box), their colour, and the background colour around the box."""
    import cv2
    import numpy as np

    height, width = pixels.shape[:2]
    pad = max(2, (line_box[3] - line_box[1]) // 10)
    box = _clip((line_box[0] - pad, line_box[1] - pad, line_box[2] + pad, line_box[3] + pad),
                width, height)
    background = np.median(_ring(pixels, box, 3), axis=0)
    crop = pixels[box[1]:box[3], box[0]:box[2]].astype(np.float32)
    distance = np.sqrt(((crop - background) ** 2).sum(axis=2))
    peak = float(distance.max()) if distance.size else 0.0
    if peak < 40:
        return None
    mask = (distance > max(30.0, 0.45 * peak)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    top, bottom = line_box[1] - box[1], line_box[3] - box[1]
    for label in range(1, count):
        y, h = int(stats[label, cv2.CC_STAT_TOP]), int(stats[label, cv2.CC_STAT_HEIGHT])
        inside = max(0, min(y + h, bottom) - max(y, top))
        if inside < 0.5 * h:  # mostly outside the line: a neighbour's descender or ascender
            mask[labels == label] = 0
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    core = crop[(distance > 0.8 * peak) & (mask > 0)]
    colour = tuple(int(v) for v in np.median(core if core.size else crop[mask > 0], axis=0))
    ink_box = (box[0] + int(cols[0]), box[1] + int(rows[0]),
               box[0] + int(cols[-1]) + 1, box[1] + int(rows[-1]) + 1)
    return Ink(ink_box, colour, tuple(int(v) for v in background),  # type: ignore[arg-type]
               mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(bool))


def _render(text: str, chain: FontChain, size: int) -> tuple[Any, tuple[int, int, int, int]]:
    """``text`` drawn white on black at ``size``: (L image, ink box relative to the baseline
    origin as (left, top, right, bottom))."""
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

    runs = chain.runs(text)
    advance = sum(font.face(size).getlength(part) for font, part in runs)
    margin = size
    canvas = PILImage.new("L", (int(advance) + 2 * margin, 3 * size), 0)
    draw = PILImageDraw.Draw(canvas)
    x, baseline = float(margin), 2 * size
    for font, part in runs:
        draw.text((x, baseline), part, font=font.face(size), fill=255, anchor="ls")
        x += font.face(size).getlength(part)
    bbox = canvas.getbbox() or (margin, baseline - 1, margin + 1, baseline)
    return canvas, (bbox[0] - margin, bbox[1] - baseline, bbox[2] - margin, bbox[3] - baseline)


@dataclass(frozen=True)
class FontMatch:
    """The installed face that looks most like the original, at the size that matches it."""

    chain: FontChain
    size: int
    score: float
    read_box: tuple[int, int, int, int]
    """The read text's ink box at ``size``, relative to its baseline origin."""


def match_font(read: str, ink: Ink) -> FontMatch:
    """Try each installed family and weight: size it to the ink height, compare the shapes."""
    import numpy as np
    from PIL import Image as PILImage

    target_h = ink.box[3] - ink.box[1]
    target_w = ink.box[2] - ink.box[0]
    target = ink.mask.astype(np.float32)
    best: FontMatch | None = None
    seen: set[str] = set()
    for family, weight in FACES:
        chain = font_chain(family, weight)
        if chain.primary.name in seen:
            continue
        seen.add(chain.primary.name)
        _, probe = _render(read, chain, PROBE_SIZE)
        by_height = PROBE_SIZE * target_h / max(1, probe[3] - probe[1])
        by_width = PROBE_SIZE * target_w / max(1, probe[2] - probe[0])
        size = max(6, round(min(by_height, by_width)))
        canvas, box = _render(read, chain, size)
        crop = canvas.crop(canvas.getbbox() or (0, 0, 1, 1))
        shaped = np.asarray(crop.resize((target_w, target_h), PILImage.Resampling.BILINEAR),
                            dtype=np.float32) > 110
        union = np.logical_or(shaped, target).sum()
        overlap = float(np.logical_and(shaped, target).sum()) / max(1, int(union))
        width_ratio = (box[2] - box[0]) / max(1, target_w)
        score = overlap - abs(1 - width_ratio)
        if best is None or score > best.score:
            best = FontMatch(chain, size, score, box)
    assert best is not None  # FACES is never empty: sans falls back to Pillow's font
    return best


def set_line(image: Image, text: str, match: FontMatch, ink: Ink, margin: int) -> Box:
    """Erase the old line's strokes (inpainted from the pixels around them) and set ``text`` in
    their place, in the matched font, size and colour.

    Returns the patch box: every changed pixel is inside it.
    """
    import cv2
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

    _, new = _render(text, match.chain, match.size)
    baseline = ink.box[1] - match.read_box[1]
    centre = (ink.box[0] + ink.box[2]) / 2
    origin_x = centre - (new[2] - new[0]) / 2 - new[0]
    new_box = (origin_x + new[0], baseline + new[1], origin_x + new[2], baseline + new[3])
    grow = max(2, (ink.box[3] - ink.box[1]) // 12)
    union = (min(ink.box[0], new_box[0]) - margin, min(ink.box[1], new_box[1]) - margin,
             max(ink.box[2], new_box[2]) + margin, max(ink.box[3], new_box[3]) + margin)
    patch = _clip(union, image.width, image.height)
    region = np.array(image.crop(patch).convert("RGB"))
    erase: Any = np.zeros(region.shape[:2], np.uint8)
    ox, oy = ink.box[0] - patch[0], ink.box[1] - patch[1]  # >= 0: the patch holds the ink box
    h, w = ink.mask.shape
    erase[oy:oy + h, ox:ox + w] = ink.mask
    erase = cv2.dilate(erase, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    erase[0, :] = erase[-1, :] = 0  # keep the patch's own border as the source of the fill
    erase[:, 0] = erase[:, -1] = 0
    filled = cv2.inpaint(region, erase * 255, 3, cv2.INPAINT_TELEA)
    covered = PILImage.fromarray(filled, "RGB")
    draw = PILImageDraw.Draw(covered)
    x = origin_x - patch[0]
    for font, part in match.chain.runs(text):
        face = font.face(match.size)
        draw.text((x, baseline - patch[1]), part, font=face, fill=ink.colour, anchor="ls")
        x += face.getlength(part)
    image.paste(covered, patch[:2])
    return patch
