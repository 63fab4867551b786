"""A second look at characters the recogniser may have read by habit: look-alikes and accents.

After alignment, an expected character the OCR "confirmed" can still be wrong on the image:
a text that mixes digits and letters invites the recogniser to read ``0PEN`` as ``OPEN``, and
a dropped accent looks the same to a recogniser that rarely outputs accents. Those characters
are judged again on their own glyph (``glyphs``); a judgement that cannot be made leaves the
reading as it was, and an accent that cannot be seen either way is reported as unverified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatimg.validate import glyphs, latin
from chatimg.validate.align import CharPair, TextAlignment
from chatimg.validate.reading import TextBox
from chatimg.validate.text import fold_accents, normalise_char

if TYPE_CHECKING:
    import numpy as np

ROUND = {"0": True, "o": False}
LOOKALIKE = {"0": "o", "o": "0", "1": "i", "i": "1", "5": "s", "s": "5"}
STROKE = {"1": True, "I": False}
CURVE = {"5": True, "s": False}


def mixes_digits_and_letters(text: str) -> bool:
    """Whether a text has both digits and letters (where look-alikes are worth a second look)."""
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


class SecondLook:
    """Glyph judgements for one OCR reading (glyphs are cut once per box)."""

    def __init__(self, gray: np.ndarray, boxes: list[TextBox],
                 recognise: Callable[[list[Any]], list[tuple[str, float]]]) -> None:
        self.gray = gray
        self.boxes = boxes
        self.recognise = recognise
        self._cut: dict[int, list[glyphs.Glyph | None]] = {}
        self._latin_reads: dict[int, list[str] | None] = {}

    def glyphs_of(self, box: int) -> list[glyphs.Glyph | None]:
        """The box's glyphs, one per non-space character it was read as (None: not cut)."""
        if box not in self._cut:
            self._cut[box] = glyphs.cut_glyphs(self.gray, self.boxes[box])
        return self._cut[box]

    def _refs(self, box: int, skip: int, chars: str) -> list[glyphs.Glyph]:
        cut = self.glyphs_of(box)
        written = [c for c in self.boxes[box].text if not c.isspace()]
        return [g for k, g in enumerate(cut) if g is not None and k != skip
                and k < len(written) and written[k] in chars]

    def _monospaced(self, box: int) -> bool:
        cut = self.glyphs_of(box)
        words: list[list[glyphs.Glyph]] = []
        k = 0
        for word in self.boxes[box].text.split():
            part = cut[k:k + len(word)]
            k += len(word)
            if all(g is not None for g in part):
                words.append([g for g in part if g is not None])
        return glyphs.monospaced(words)

    def _glyph(self, pair: CharPair) -> glyphs.Glyph | None:
        if pair.read is None:
            return None
        cut = self.glyphs_of(pair.read.box)
        return cut[pair.read.glyph] if pair.read.glyph < len(cut) else None

    def lookalikes(self, alignment: TextAlignment) -> None:
        """Judge look-alike characters (0/O, 1/I, 5/S) on their own glyph.

        A character read as expected but drawn as its look-alike of the other kind becomes an
        error; one the recogniser read as the look-alike but drawn as expected is forgiven.
        Where the text mixes digits and letters every judgement applies; elsewhere only those
        with evidence from the same line (0/O against its neighbours, 5/S recognised alone).
        """
        mixed = mixes_digits_and_letters(alignment.expected)
        curves: list[tuple[CharPair, glyphs.Glyph]] = []
        for pair in alignment.pairs:
            if pair.expected is None or pair.read is None:
                continue
            if pair.wrong and LOOKALIKE.get(pair.expected) != fold_accents(pair.read.char):
                continue
            glyph = self._glyph(pair)
            if glyph is None:
                continue
            if pair.expected in ROUND:
                box, index = pair.read.box, pair.read.glyph
                if glyphs.has_inner_mark(glyph):
                    digit: bool | None = True  # a dotted or slashed zero
                elif self._monospaced(box):
                    digit = None  # O and 0 are equally wide: width tells nothing
                else:
                    digit = glyphs.round_is_digit(glyph, self._refs(box, index, "2346789"),
                                                  self._refs(box, index, "CDGOQ"), mixed)
                self._settle(pair, digit, ROUND[pair.expected], ("0", "O"))
            elif pair.written in STROKE and mixed:
                self._settle(pair, glyphs.stroke_is_digit(glyph), STROKE[pair.written],
                             ("1", "I"))
            elif pair.expected in CURVE:
                curves.append((pair, glyph))
        if curves:
            reads = self.recognise([glyphs.alone(glyph) for _, glyph in curves])
            for (pair, _), (text, _score) in zip(curves, reads, strict=True):
                digit = True if text == "5" else False if text in ("S", "s") else None
                self._settle(pair, digit, CURVE[pair.expected or ""], ("5", "S"))

    @staticmethod
    def _settle(pair: CharPair, digit: bool | None, wanted: bool, shapes: tuple[str, str]) -> None:
        """Apply a glyph judgement (None: no judgement, the reading stands)."""
        if digit is None:
            return
        if digit == wanted:
            if pair.wrong:  # the recogniser's habit, not the image
                pair.wrong, pair.seen = False, pair.written or ""
            return
        pair.wrong, pair.note, pair.seen = True, "look-alike", shapes[0 if digit else 1]

    def _latin(self, box: int) -> list[str] | None:
        """The box read by the accent-reading recogniser, per non-space character (or None)."""
        if box not in self._latin_reads:
            texts = latin.recognise([glyphs.crop_box(self.gray, self.boxes[box])])
            chars = [c for c in texts[0] if not c.isspace()] if texts else None
            written = [c for c in self.boxes[box].text if not c.isspace()]
            self._latin_reads[box] = chars if chars and len(chars) == len(written) else None
        return self._latin_reads[box]

    def _accent_read(self, pair: CharPair) -> bool | None:
        """Whether the accent-reading recogniser sees the expected accent (None: no answer)."""
        if pair.read is None or pair.expected is None:
            return None
        chars = self._latin(pair.read.box)
        if chars is None or pair.read.glyph >= len(chars):
            return None
        seen = normalise_char(chars[pair.read.glyph])
        if seen == pair.expected:
            return True
        if fold_accents(seen) == fold_accents(pair.expected):
            return False
        return None

    def accents(self, alignment: TextAlignment) -> list[str]:
        """Judge accents the recogniser did not read; return the words left unverified.

        The accent-reading recogniser answers first when it is installed; otherwise (or when
        its reading does not line up) the glyph is searched for a mark above or below.
        """
        unverified: list[str] = []
        for pair in alignment.pairs:
            if not pair.accent_pending:
                continue
            mark = self._accent_read(pair)
            if mark is None:
                glyph = self._glyph(pair)
                mark = glyphs.has_mark(glyph) if glyph is not None else None
            if mark is True:
                pair.accent_pending, pair.seen = False, pair.written or ""
            elif mark is False:
                pair.accent_pending = False
                pair.wrong, pair.note = True, "missing accent"
            else:
                word = alignment.words[pair.word]
                if word not in unverified:
                    unverified.append(word)
        return unverified
