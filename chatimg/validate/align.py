"""Finding the requested text within what OCR read: word alignment with character costs.

What was read (every line, in reading order) is a sequence of words; the expected text is
aligned against it so that read words belonging to no expected word are left over as extra
text instead of errors. Matched groups (OCR merges and splits words) are aligned again
character by character, which says, per expected character, which read character stands for it
and where that character sits in its OCR box (for the glyph checks).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from chatimg.validate.reading import TextBox
from chatimg.validate.text import fold_accents, has_accent, normalise_char

#: Up to this many words on either side may form one matched group (merged or split words).
MAX_GROUP = 3
#: A read group stands for expected words only if at most this share of characters differ.
MATCH_LIMIT = 0.6


@dataclass(frozen=True)
class ReadChar:
    """One character the OCR read, with where it came from."""

    char: str
    """Normalised (case-folded) character."""
    raw: str
    """The character as read."""
    box: int
    """Index of its OCR box in reading order."""
    glyph: int
    """Its index among the non-space characters of that box's text."""


@dataclass(frozen=True)
class ReadWord:
    """A word of the read text (split at spaces and punctuation)."""

    chars: tuple[ReadChar, ...]
    line: int
    box: int

    @property
    def text(self) -> str:
        """The word as read."""
        return "".join(c.raw for c in self.chars)

    @property
    def key(self) -> str:
        """The word as compared (normalised)."""
        return "".join(c.char for c in self.chars)


def read_words(lines: list[list[TextBox]]) -> tuple[list[ReadWord], list[TextBox]]:
    """Split OCR lines into words; also return the boxes in reading order (``box`` indexes)."""
    words: list[ReadWord] = []
    boxes: list[TextBox] = []
    for line_index, line in enumerate(lines):
        for box in line:
            box_index = len(boxes)
            boxes.append(box)
            current: list[ReadChar] = []
            glyph = 0
            for raw in box.text:
                if raw.isspace():
                    if current:
                        words.append(ReadWord(tuple(current), line_index, box_index))
                        current = []
                    continue
                norm = normalise_char(raw)
                if not norm:
                    if current:
                        words.append(ReadWord(tuple(current), line_index, box_index))
                        current = []
                else:
                    current.extend(ReadChar(c, raw, box_index, glyph) for c in norm)
                glyph += 1
            if current:
                words.append(ReadWord(tuple(current), line_index, box_index))
    return words, boxes


def expected_words(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(word as written, [(character as written, normalised character), ...]) per word."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    raw, chars = "", list[tuple[str, str]]()
    for ch in unicodedata.normalize("NFC", text) + " ":
        key = normalise_char(ch)
        if key:
            raw += ch
            chars.extend((ch, k) for k in key)
        else:
            if chars:
                found.append((raw, chars))
            raw, chars = "", []
    return found


def same_char(expected: str, read: str) -> bool:
    """Equal, or equal once accents are ignored (the accent itself is checked separately)."""
    return expected == read or fold_accents(expected) == fold_accents(read)


@dataclass
class CharPair:
    """One step of the character alignment of an expected word group with what was read."""

    word: int
    """Index of the expected word this step belongs to."""
    expected: str | None
    """The expected character (normalised); None for a read character inserted there."""
    written: str | None
    """The expected character as written (case kept)."""
    read: ReadChar | None
    """The read character standing for it; None when it is missing."""
    wrong: bool
    accent_pending: bool = False
    """The expected character has an accent the reading does not show (checked on the glyph)."""
    note: str = ""
    """Why a glyph check changed the verdict (``look-alike``, ``missing accent``)."""
    seen: str = ""
    """What the glyph check saw instead of the recogniser's reading (e.g. ``0`` for ``O``)."""


@dataclass
class TextAlignment:
    """How one expected text lies within the read words."""

    expected: str
    words: list[str]
    """The expected words as written."""
    pairs: list[CharPair] = field(default_factory=list)
    matched: dict[int, list[int]] = field(default_factory=dict)
    """Expected word index → indices of the read words matched to it."""
    claimed: set[int] = field(default_factory=set)
    """Read word indices that stand for some expected word."""

    @property
    def length(self) -> int:
        """Number of expected characters."""
        return sum(1 for p in self.pairs if p.expected is not None)


def _char_alignment(expected: list[tuple[int, str, str]], read: list[ReadChar]) -> list[CharPair]:
    """Edit-distance alignment of expected (word index, char) with read characters."""
    n, m = len(expected), len(read)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = 0 if same_char(expected[i - 1][2], read[j - 1].char) else 1
            cost[i][j] = min(cost[i - 1][j - 1] + sub, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    pairs: list[CharPair] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            word, written, char = expected[i - 1]
            sub = 0 if same_char(char, read[j - 1].char) else 1
            if cost[i][j] == cost[i - 1][j - 1] + sub:
                pending = not sub and has_accent(char) and not has_accent(read[j - 1].char)
                pairs.append(CharPair(word, char, written, read[j - 1], bool(sub), pending))
                i, j = i - 1, j - 1
                continue
        if i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            word, written, char = expected[i - 1]
            pairs.append(CharPair(word, char, written, None, True))
            i -= 1
        else:
            word = expected[i - 1][0] if i > 0 else expected[0][0]
            pairs.append(CharPair(word, None, None, read[j - 1], True))
            j -= 1
    pairs.reverse()
    return pairs


def _group_cost(expected: str, read: str) -> int:
    from chatimg.validate.text import levenshtein

    return levenshtein(fold_accents(expected), fold_accents(read))


def align_text(expected: str, words: list[ReadWord], strict: bool = False) -> TextAlignment:
    """Align one expected text against the read words.

    Read words may be skipped (free, or at their length when ``strict``); expected words may be
    missing (at their length); groups of up to ``MAX_GROUP`` expected and read words match at
    their character edit distance.

    Args:
        expected: The text that should be there.
        words: The read words in reading order.
        strict: Whether skipped read words cost as errors (they are still reported either way).

    Returns:
        The alignment with a character pair for every expected character.
    """
    exp = expected_words(expected)
    result = TextAlignment(expected, [raw for raw, _ in exp])
    n, m = len(exp), len(words)
    inf = (10**9, 10**9)
    best: list[list[tuple[int, int]]] = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[str, int, int]]] = [[("", 0, 0)] * (m + 1) for _ in range(n + 1)]
    best[0][0] = (0, 0)
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == inf:
                continue
            if j < m:  # skip a read word (extra text)
                size = len(words[j].key)
                step = (here[0] + (size if strict else 0), here[1] + size)
                if step < best[i][j + 1]:
                    best[i][j + 1], back[i][j + 1] = step, ("extra", 1, 1)
            if i < n:  # an expected word is missing
                step = (here[0] + len(exp[i][1]), here[1])
                if step < best[i + 1][j]:
                    best[i + 1][j], back[i + 1][j] = step, ("missing", 1, 1)
            for a in range(1, min(MAX_GROUP, n - i) + 1):
                joined = "".join(k for _, chars in exp[i:i + a] for _, k in chars)
                for b in range(1, min(MAX_GROUP, m - j) + 1):
                    read = "".join(w.key for w in words[j:j + b])
                    group = _group_cost(joined, read)
                    if group > max(1, MATCH_LIMIT * max(len(joined), len(read))):
                        continue  # not a reading of these words: missing and extra instead
                    step = (here[0] + group, here[1])
                    if step < best[i + a][j + b]:
                        best[i + a][j + b], back[i + a][j + b] = step, ("match", a, b)
    steps: list[tuple[str, int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        kind, a, b = back[i][j]
        if kind == "extra":
            j -= 1
        elif kind == "missing":
            i -= 1
            steps.append(("missing", i, j))
        else:
            i, j = i - a, j - b
            steps.append(("match", i, j))
            steps.append(("size", a, b))
    steps.reverse()
    pos = 0
    while pos < len(steps):
        kind, i, j = steps[pos]
        if kind == "size":  # ("size", a, b) precedes its ("match", i, j) after reversing
            a, b = i, j
            _, i, j = steps[pos + 1]
            pos += 2
            exp_chars = [(i + k, w, ch) for k in range(a) for w, ch in exp[i + k][1]]
            read_chars = [c for w in words[j:j + b] for c in w.chars]
            result.pairs.extend(_char_alignment(exp_chars, read_chars))
            for k in range(a):
                result.matched[i + k] = list(range(j, j + b))
            result.claimed.update(range(j, j + b))
            continue
        result.pairs.extend(CharPair(i, ch, w, None, True) for w, ch in exp[i][1])
        pos += 1
    result.pairs.sort(key=lambda p: p.word)  # stable: keeps the order within a word
    return result
