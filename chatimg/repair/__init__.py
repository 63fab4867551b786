"""Text repair: rewrite the misspelled lines of an image, from any model, in place.

OCR finds the lines and what they say; the expected text is aligned against them
(``align``); each wrong line is covered with a fill sampled from around it and the exact
expected words are set there in the installed face, size and colour closest to the original
(``paint``). Pixels outside the patched boxes are unchanged. Pure: no store, no Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.errors import EngineUnavailableError, InvalidRequestError
from chatimg.repair.align import LineFix, line_fixes
from chatimg.repair.paint import Box, find_ink, match_font, set_line
from chatimg.typeset.fit import Cancel, check_cancel

if TYPE_CHECKING:
    from PIL.Image import Image

VERSION = "1"
__all__ = ["VERSION", "Patch", "Repair", "TextLine", "read_lines_with_boxes", "repair_text"]


@dataclass(frozen=True)
class TextLine:
    """A line the OCR read, with its axis-aligned box (left, top, right, bottom)."""

    text: str
    confidence: float
    box: Box


@dataclass(frozen=True)
class Patch:
    """One repaired line: where, what it read, what is written now and how it was set."""

    box: Box
    read: str
    written: str
    font: str
    size: int
    colour: tuple[int, int, int]

    def as_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "read": self.read, "written": self.written,
                "font": self.font, "size": self.size, "colour": list(self.colour)}


@dataclass(frozen=True)
class Repair:
    """The repaired image and its patches."""

    image: Image
    patches: tuple[Patch, ...]


def read_lines_with_boxes(image: Image) -> list[TextLine]:
    """The text lines OCR finds, in reading order (top to bottom, then left to right).

    Raises:
        EngineUnavailableError: OCR is not installed.
    """
    import numpy as np

    from chatimg.validate import ocr

    # The check's OCR engine and lock, so one model serves both (validate.ocr.read_lines does
    # not return boxes yet).
    try:
        with ocr._lock:
            engine = ocr._load()
            pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
            with ocr._quiet_stderr():
                found, _elapsed = engine(pixels)
    except ocr.OcrUnavailable as exc:
        raise EngineUnavailableError(str(exc), "install chatimg[ocr]") from None
    lines = []
    for quad, text, confidence in found or []:
        xs = [float(point[0]) for point in quad]
        ys = [float(point[1]) for point in quad]
        box = (int(min(xs)), int(min(ys)), round(max(xs)), round(max(ys)))
        lines.append(TextLine(str(text), float(confidence), box))
    lines.sort(key=lambda line: (line.box[1] + line.box[3], line.box[0]))
    return lines


def repair_text(image: Image, expected: str | Sequence[str], *,
                cancel: Cancel | None = None) -> Repair:
    """Rewrite the lines of ``image`` that do not say ``expected``.

    Args:
        image: Any PIL image (it is not modified).
        expected: The text the image should show (several strings are joined by spaces).
        cancel: Checked between lines.

    Returns:
        The new image and one patch per rewritten line.

    Raises:
        InvalidRequestError: no text was found, or it already reads as expected.
        EngineUnavailableError: OCR is not installed, or no font has a character to write.
    """
    wanted = expected if isinstance(expected, str) else " ".join(expected)
    if not wanted.strip():
        raise InvalidRequestError("there is no expected text to repair against")
    check_cancel(cancel)
    picture = image.convert("RGB")
    lines = read_lines_with_boxes(picture)
    if not lines:
        raise InvalidRequestError("no text found in the image to repair")
    fixes = line_fixes([line.text for line in lines], wanted)
    if not fixes:
        raise InvalidRequestError(f"the image already reads {wanted!r}; nothing to repair")
    return _apply(picture, lines, fixes, cancel)


def _apply(picture: Image, lines: Sequence[TextLine], fixes: Sequence[LineFix],
           cancel: Cancel | None) -> Repair:
    import numpy as np

    original = np.asarray(picture)
    repaired = picture.copy()
    patches = []
    for fix in fixes:
        check_cancel(cancel)
        line = lines[fix.line]
        ink = find_ink(original, line.box)
        if ink is None:
            continue
        match = match_font(fix.read or fix.written, ink)
        margin = max(3, (ink.box[3] - ink.box[1]) // 4)
        box = set_line(repaired, fix.written, match, ink, margin)
        patches.append(Patch(box, fix.read, fix.written, match.chain.primary.name, match.size,
                             ink.colour))
    if not patches:
        raise InvalidRequestError("the wrong text could not be told apart from its background")
    return Repair(repaired, tuple(patches))
