"""Looking at single glyphs where the OCR's reading of a whole word cannot be trusted.

A text recogniser reads words with a language prior: a zero in ``0PEN`` comes back as ``O``,
the letter O in ``5O%`` as ``0``, and accents it rarely saw are dropped. Where it matters, each
OCR box is cut into glyphs (columns of ink) and the doubtful ones are judged on their own:

- round glyphs (0/O) by their width against the other digits and round letters of the line;
- strokes (1/I) by the flag a one has and an I has not;
- 5/S by recognising the single glyph, drawn alone, with no word around it;
- accented letters by whether a mark sits above (or below) the letter's body.

Every judgement may abstain (``None``) when the glyphs cannot be cut cleanly or the evidence is
weak; the check then keeps the recogniser's reading.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.validate.reading import TextBox

if TYPE_CHECKING:
    import numpy as np

#: Height, in pixels, that boxes are rectified to before cutting glyphs.
BODY_HEIGHT = 64
#: Margin above and below a box (in box heights) searched for accents.
MARGIN = 0.35


@dataclass(frozen=True)
class Glyph:
    """One column of ink in a rectified box: its bitmap and where it sits."""

    bitmap: np.ndarray
    """Ink mask of the glyph's columns over the whole rectified strip (margins included)."""
    top: int
    """First ink row of the glyph's body (inside the box)."""
    bottom: int
    """Last ink row of the body."""
    core_top: int
    core_bottom: int
    left: int = 0
    """First column of the glyph in its strip."""

    @property
    def centre(self) -> float:
        """Middle column of the glyph in its strip."""
        return self.left + int(self.bitmap.shape[1]) / 2

    @property
    def width(self) -> int:
        """Columns of ink."""
        return int(self.bitmap.shape[1])

    @property
    def height(self) -> int:
        """Rows of the body."""
        return self.bottom - self.top + 1


def _rectify(gray: np.ndarray, box: TextBox) -> tuple[np.ndarray, int, int]:
    """The box's strip, turned level and scaled to ``BODY_HEIGHT``, with margins above/below."""
    import cv2
    import numpy as np

    (ax, ay), (bx, by), (cx, cy), (dx, dy) = box.points
    height = max(box.height, 1.0)
    down = ((dx - ax + cx - bx) / 2, (dy - ay + cy - by) / 2)
    length = math.hypot(*down) or 1.0
    nx, ny = down[0] / length * MARGIN * height, down[1] / length * MARGIN * height
    source = np.array(
        [[ax - nx, ay - ny], [bx - nx, by - ny], [cx + nx, cy + ny], [dx + nx, dy + ny]],
        dtype=np.float32,
    )
    scale = BODY_HEIGHT / height
    out_w = max(8, round(box.width * scale))
    out_h = round(BODY_HEIGHT * (1 + 2 * MARGIN))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    strip = cv2.warpPerspective(gray, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
    core_top = round(BODY_HEIGHT * MARGIN)
    return strip, core_top, core_top + BODY_HEIGHT - 1


def _ink(strip: np.ndarray, core_top: int, core_bottom: int) -> np.ndarray:
    """Ink mask by Otsu's threshold; the colour that dominates the box's border is paper."""
    import cv2
    import numpy as np

    core = strip[core_top:core_bottom + 1]
    level, _ = cv2.threshold(core, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = strip > level
    border = np.concatenate([bright[core_top, :], bright[core_bottom, :],
                             bright[core_top:core_bottom + 1, 0],
                             bright[core_top:core_bottom + 1, -1]])
    return ~bright if border.mean() > 0.5 else bright


def _runs(flags: Any) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for index, flag in enumerate([*list(flags), False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    return runs


def _by_words(columns: list[tuple[int, int]], text: str) -> list[tuple[int, int] | None]:
    """Columns matched to the characters of ``text`` word by word (None where they don't fit).

    The widest gaps are taken as the spaces between words; a word whose columns number its
    characters gets one column each, so one kerned pair spoils only its own word.
    """
    words = text.split()
    slots: list[tuple[int, int] | None] = []
    gaps = sorted(range(1, len(columns)), key=lambda k: columns[k][0] - columns[k - 1][1])
    cuts = sorted(gaps[-(len(words) - 1):]) if len(words) > 1 else []
    if len(words) > 1 and len(cuts) != len(words) - 1:
        return [None] * sum(len(w) for w in words)
    if cuts:
        widths = [columns[k][0] - columns[k - 1][1] for k in range(1, len(columns))]
        typical = sorted(widths)[len(widths) // 2]
        if min(columns[k][0] - columns[k - 1][1] for k in cuts) < 1.8 * typical:
            return [None] * sum(len(w) for w in words)
    bounds = [0, *cuts, len(columns)]
    for word, start, end in zip(words, bounds[:-1], bounds[1:], strict=True):
        group = columns[start:end]
        slots.extend(group if len(group) == len(word) else [None] * len(word))
    return slots


def cut_glyphs(gray: np.ndarray, box: TextBox) -> list[Glyph | None]:
    """One glyph per non-space character of the box's text (None where it cannot be cut)."""
    import numpy as np

    count = sum(1 for c in box.text if not c.isspace())
    if count <= 0 or box.height < 6:
        return [None] * count
    strip, core_top, core_bottom = _rectify(gray, box)
    ink = _ink(strip, core_top, core_bottom)
    core = ink[core_top:core_bottom + 1]
    minimum = 0.004 * BODY_HEIGHT * BODY_HEIGHT
    columns = [(a, b) for a, b in _runs(core.any(axis=0)) if core[:, a:b].sum() >= minimum]
    slots: list[tuple[int, int] | None]
    if len(columns) != count:
        # Ink touching the strip's ends may belong to a neighbouring box or the background.
        inner = [(a, b) for a, b in columns if a > 0 and b < core.shape[1]]
        columns = inner if len(inner) == count else columns
    slots = list(columns) if len(columns) == count else _by_words(columns, box.text)
    glyphs: list[Glyph | None] = []
    for slot in slots:
        if slot is None:
            glyphs.append(None)
            continue
        a, b = slot
        rows = np.where(core[:, a:b].any(axis=1))[0]
        glyphs.append(Glyph(ink[:, a:b], core_top + int(rows[0]), core_top + int(rows[-1]),
                            core_top, core_bottom, a))
    return glyphs


def monospaced(words: list[list[Glyph]]) -> bool:
    """Whether glyphs sit at one pitch whatever their width (a typewriter or code font).

    In such fonts O and 0 are equally wide, so width tells nothing about them.
    """
    pitches: list[float] = []
    for word in words:
        pitches.extend(b.centre - a.centre for a, b in itertools.pairwise(word))
    if len(pitches) < 3:
        return False
    mean = sum(pitches) / len(pitches)
    spread = max(abs(p - mean) for p in pitches) / max(mean, 1e-6)
    return spread < 0.06


def has_inner_mark(glyph: Glyph) -> bool:
    """Whether a round glyph has ink in its middle (the dot or slash of a zero)."""
    body = glyph.bitmap[glyph.top:glyph.bottom + 1]
    height, width = body.shape
    middle = body[int(height * 0.4):int(height * 0.6) + 1, int(width * 0.4):int(width * 0.6) + 1]
    return bool(middle.any())


def has_mark(glyph: Glyph) -> bool | None:
    """Whether a separate mark (an accent, a cedilla) sits above or below the glyph's body.

    Returns None when the strip is too noisy to say.
    """
    import numpy as np

    rows = glyph.bitmap.any(axis=1)
    runs = _runs(rows)
    if not runs:
        return None
    body = max(runs, key=lambda r: int(glyph.bitmap[r[0]:r[1]].sum()))
    reach = int(glyph.height * 0.6) + 2
    marks = [r for r in runs if r != body
             and ((body[0] - reach <= r[0] and r[1] <= body[0])
                  or (body[1] <= r[0] and r[1] <= body[1] + reach))]
    strays = [r for r in runs if r != body and r not in marks]
    if strays:
        return None
    minimum = max(3, int(0.01 * glyph.height * glyph.height))
    return any(int(np.asarray(glyph.bitmap[a:b]).sum()) >= minimum for a, b in marks)


def round_is_digit(glyph: Glyph, digits: list[Glyph], letters: list[Glyph],
                   proportions: bool = True) -> bool | None:
    """Whether a round glyph is a zero (True) or the letter O (False).

    A zero is as wide as the other digits and narrower than an O; an O is as wide as the other
    round capitals (C, D, G, O, Q). Without such neighbours, the glyph's own proportions decide
    (when ``proportions``).
    """
    def aspect(g: Glyph) -> float:  # width over height: the same under perspective and scale
        return g.width / max(g.height, 1)

    if digits:
        ratio = aspect(glyph) / sorted(aspect(g) for g in digits)[len(digits) // 2]
        if ratio <= 1.1:
            return True
        if ratio >= 1.2:
            return False
    if letters:
        ratio = aspect(glyph) / sorted(aspect(g) for g in letters)[len(letters) // 2]
        if ratio >= 0.93:
            return False
        if ratio <= 0.85:
            return True
    if not proportions:
        return None
    if aspect(glyph) >= 0.88:
        return False
    if aspect(glyph) <= 0.81:
        return True
    return None


def stroke_is_digit(glyph: Glyph) -> bool | None:
    """Whether an upright stroke is a one (a flag at its top left) rather than a capital I."""
    import numpy as np

    body = glyph.bitmap[glyph.top:glyph.bottom + 1]
    height = body.shape[0]
    if height < 8:
        return None
    middle = body[int(height * 0.4):int(height * 0.65)]
    top = body[:max(1, int(height * 0.25))]
    stem_cols = np.where(middle.any(axis=0))[0]
    top_cols = np.where(top.any(axis=0))[0]
    if not len(stem_cols) or not len(top_cols):
        return None
    stem = int(stem_cols[-1] - stem_cols[0] + 1)
    left = int(stem_cols[0] - top_cols[0])
    right = int(top_cols[-1] - stem_cols[-1])
    if left >= 0.6 * stem and left >= 2 * right + 1:
        return True
    if left <= 0.3 * stem + 1 or abs(left - right) <= 0.25 * max(left, right) + 1:
        return False
    return None


def alone(glyph: Glyph) -> np.ndarray:
    """The glyph's body drawn dark on white with a margin, as a BGR image for the recogniser."""
    import numpy as np

    body = glyph.bitmap[glyph.top:glyph.bottom + 1]
    pad = max(3, body.shape[0] // 4)
    canvas = np.full((body.shape[0] + 2 * pad, body.shape[1] + 2 * pad), 255, dtype=np.uint8)
    canvas[pad:pad + body.shape[0], pad:pad + body.shape[1]][body] = 0
    return np.repeat(canvas[:, :, None], 3, axis=2)


def crop_box(pixels: np.ndarray, box: TextBox) -> np.ndarray:
    """The box's text turned level, cut from a BGR (or grey) image at its own resolution."""
    import cv2
    import numpy as np

    width, height = max(4, round(box.width)), max(4, round(box.height))
    source = np.array(box.points, dtype=np.float32)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    crop = cv2.warpPerspective(np.ascontiguousarray(pixels), matrix, (width, height),
                               flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return np.repeat(crop[:, :, None], 3, axis=2) if crop.ndim == 2 else crop
