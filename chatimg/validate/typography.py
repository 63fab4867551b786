"""The ``typography`` check: find the requested text within what the image shows.

1. OCR at a working size that keeps text legible and time bounded: large images are scaled
   down to ``WORK_SIDE``; boxes whose text is then small are read again from the full image.
2. Lines in reading order from the boxes' geometry (``reading``), words aligned against each
   expected text (``align``), doubtful glyphs judged again (``second_look``), scored
   (``verdict``).
3. When nothing is found, a more sensitive detector looks again (curved text); when what was
   found does not pass, the image is read again turned (deskewed by the text's own angle, and
   a few fixed turns after a sensitive find) and the best reading counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.validate import ocr
from chatimg.validate.align import align_text, read_words
from chatimg.validate.base import CheckInput, CheckResult, Validator
from chatimg.validate.reading import TextBox, dominant_angle, reading_lines
from chatimg.validate.second_look import SecondLook
from chatimg.validate.text import normalise
from chatimg.validate.verdict import Verdict, judge

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image

#: Longest side OCR works at; larger images are scaled down (text stays legible, time bounded).
WORK_SIDE = 1024
#: Smaller images are enlarged to this longest side first (small text stays detectable).
MIN_SIDE = 640
MAX_ENLARGE = 4.0
#: Boxes lower than this (pixels at the working size) are read again at full resolution.
SMALL_TEXT = 18
#: Turns (degrees, counter-clockwise) tried when the upright image gives no passing reading.
RETRY_TURNS = (20.0, -20.0)
#: Below this grey-level spread an image is flat: there is nothing to find by turning it.
FLAT_SPREAD = 3.0


@dataclass
class Reading:
    """What OCR found in one version of the image."""

    boxes: list[TextBox]
    gray: np.ndarray
    attempt: str


def _working_copy(image: Image) -> tuple[Image, float]:
    """The image scaled so its longest side is at most ``WORK_SIDE``, and the scale used."""
    from PIL import Image as PILImage

    picture = image.convert("RGB")
    longest = max(picture.size)
    if MIN_SIDE <= longest <= WORK_SIDE:
        return picture, 1.0
    # Enlarging more than MAX_ENLARGE times adds pixels, not legibility (a 64-pixel thumbnail).
    scale = min(MAX_ENLARGE, (WORK_SIDE if longest > WORK_SIDE else MIN_SIDE) / longest)
    if scale == 1.0:
        return picture, 1.0
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    if scale > 1:
        return picture.resize(size, PILImage.Resampling.BICUBIC), scale
    return picture.resize(size, PILImage.Resampling.BILINEAR, reducing_gap=2.0), scale


def _reread_small(boxes: list[TextBox], original: Image, scale: float) -> list[TextBox]:
    """Read boxes with small text again from the full-resolution image."""
    if scale >= 1.0:
        return boxes
    small = [k for k, box in enumerate(boxes) if box.height < SMALL_TEXT]
    if not small:
        return boxes
    import numpy as np

    from chatimg.validate.glyphs import crop_box

    pixels = np.asarray(original.convert("RGB"))[:, :, ::-1]
    crops = [crop_box(pixels, boxes[k].scaled(1 / scale)) for k in small]
    again = ocr.recognise(crops)
    fixed = list(boxes)
    for k, (text, confidence) in zip(small, again, strict=True):
        if text.strip() and confidence > boxes[k].confidence:
            fixed[k] = TextBox(boxes[k].points, text, confidence)
    return fixed


def read(image: Image, turn: float = 0.0, attempt: str = "as is",
         sensitive: bool = False) -> Reading:
    """OCR one version of ``image`` (turned by ``turn`` degrees) at the working size."""
    import numpy as np

    picture, scale = _working_copy(image)
    original = image
    if turn:
        from PIL import Image as PILImage

        corner = picture.getpixel((0, 0))
        picture = picture.rotate(turn, resample=PILImage.Resampling.BILINEAR, expand=True,
                                 fillcolor=corner)
        original, scale = picture, 1.0
    boxes = _reread_small(ocr.read_boxes(picture, sensitive), original, scale)
    gray = np.asarray(picture.convert("L"))
    return Reading(boxes, gray, attempt)


def _judge(reading: Reading, texts: list[str], given: CheckInput) -> tuple[Verdict, list[str]]:
    lines = reading_lines(reading.boxes)
    words, boxes = read_words(lines)
    alignments = [align_text(text, words, strict=given.strict) for text in texts]
    look = SecondLook(reading.gray, boxes, ocr.recognise)
    unverified: list[str] = []
    for alignment in alignments:
        look.lookalikes(alignment)
        unverified.extend(w for w in look.accents(alignment) if w not in unverified)
    verdict = judge(alignments, words, [b.confidence for b in boxes],
                    max_cer=given.max_cer, strict=given.strict)
    verdict.accents_unverified = unverified
    return verdict, [" ".join(box.text.strip() for box in line) for line in lines]


class TypographyValidator(Validator):
    """Whether each expected text is written correctly somewhere in the image."""

    name = "typography"
    version = "2"

    def check(self, image: Image, given: CheckInput) -> CheckResult:
        texts = [t.strip() for t in given.texts if normalise(t)]
        if not texts:
            return self.result("not_applicable", None, reason="no expected text")
        expected = " ".join(texts)  # each text's own verdict is under "texts"
        try:
            reading = read(image)
            verdict, lines = _judge(reading, texts, given)
            if not verdict.passed and not reading.boxes and _worth_another_look(reading):
                # Nothing found: a detector that keeps weaker, curved regions (arcs) first.
                again = read(image, attempt="sensitive detection", sensitive=True)
                verdict, lines, reading = (*_judge(again, texts, given), again)
            if not verdict.passed and reading.boxes and verdict.cer < 1.0:
                # Part of the text was read: turned versions may read the rest.
                sensitive = reading.attempt != "as is"
                for turn, label in self._retries(reading):
                    again = read(image, turn, label, sensitive=sensitive)
                    other, other_lines = _judge(again, texts, given)
                    if other.cer < verdict.cer or (other.passed and not verdict.passed):
                        verdict, lines, reading = other, other_lines, again
                    if verdict.passed:
                        break
        except ocr.OcrUnavailable as exc:
            return self.result("skipped", None, reason=str(exc), expected=expected)
        details: dict[str, Any] = {
            "expected": expected, "read": " ".join(lines), "lines": lines,
            "cer": round(verdict.cer, 4), "wer": round(verdict.wer, 4),
            "max_cer": given.max_cer, "strict": given.strict,
            "words": verdict.words, "texts": verdict.texts,
            "extra": verdict.extra, "inserted": verdict.inserted,
            "reason": None if reading.boxes else "no_text_found",
            "attempt": reading.attempt,
        }
        if verdict.accents_unverified:
            details["accents_unverified"] = verdict.accents_unverified
        return self.result("passed" if verdict.passed else "failed",
                           round(1.0 - verdict.cer, 4), **details)

    @staticmethod
    def _retries(reading: Reading) -> list[tuple[float, str]]:
        """Turns to try after a failed reading: the text's own skew, then fixed turns when
        only the sensitive detector found anything."""
        turns: list[tuple[float, str]] = []
        skew = dominant_angle(reading.boxes)
        if 3.0 <= abs(skew) <= 60.0:
            turns.append((skew, f"deskewed {skew:+.0f}°"))
        if reading.attempt != "as is":
            turns.extend((turn, f"turned {turn:+.0f}°") for turn in RETRY_TURNS)
        return turns


def _worth_another_look(reading: Reading) -> bool:
    """Whether an image where nothing was found has anything to find (not one flat colour)."""
    return float(reading.gray.std()) >= FLAT_SPREAD
