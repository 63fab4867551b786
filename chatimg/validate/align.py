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
    return _split_expected(text)[0]


def _split_expected(text: str) -> tuple[list[tuple[str, list[tuple[str, str]]]], list[str]]:
    """The words of an expected text and the separators between them (``"/"`` in 24/7)."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    separators: list[str] = []
    raw, chars, gap = "", list[tuple[str, str]](), ""
    for ch in unicodedata.normalize("NFC", text) + " ":
        key = normalise_char(ch)
        if key:
            if not chars and found:
                separators.append(gap.strip())
            raw += ch
            chars.extend((ch, k) for k in key)
            gap = ""
        else:
            if chars:
                found.append((raw, chars))
            raw, chars = "", []
            gap += ch
    return found, separators


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
    separators: list[str] = field(default_factory=list)
    """Punctuation written between expected word k and k + 1 (``""`` for a plain space)."""
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
    """Edit-distance alignment of expected (word, written, char) with read characters.

    Among alignments with the fewest edits, the one with the fewest separate runs of
    insertions or deletions wins (a doubled word is one inserted run, not letters scattered
    over its neighbours), then the one whose inserted characters sit between words rather
    than inside one: three states (match, insert, delete) with costs (edits, runs, inside).
    """
    n, m = len(expected), len(read)
    inf = (10**9, 10**9, 10**9)
    # state 0: ended on a match/substitution, 1: on an insertion (read only), 2: on a deletion
    cost = [[[inf, inf, inf] for _ in range(m + 1)] for _ in range(n + 1)]
    back = [[[-1, -1, -1] for _ in range(m + 1)] for _ in range(n + 1)]
    cost[0][0][0] = (0, 0, 0)

    def better(options: list[tuple[tuple[int, int, int], int]]) -> tuple[tuple[int, int, int], int]:
        return min(options, key=lambda o: o[0])

    def inside(i: int) -> int:  # 1 when an insertion after expected[:i] splits a word
        return int(0 < i < n and expected[i - 1][0] == expected[i][0])

    for i in range(n + 1):
        for j in range(m + 1):
            if i and j:
                sub = 0 if same_char(expected[i - 1][2], read[j - 1].char) else 1
                prev = cost[i - 1][j - 1]
                value, state = better([((prev[k][0] + sub, prev[k][1], prev[k][2]), k)
                                       for k in range(3)])
                cost[i][j][0], back[i][j][0] = value, state
            if j:
                prev = cost[i][j - 1]
                value, state = better([((prev[k][0] + 1, prev[k][1] + (k != 1),
                                         prev[k][2] + inside(i)), k) for k in range(3)])
                cost[i][j][1], back[i][j][1] = value, state
            if i:
                prev = cost[i - 1][j]
                value, state = better([((prev[k][0] + 1, prev[k][1] + (k != 2), prev[k][2]), k)
                                       for k in range(3)])
                cost[i][j][2], back[i][j][2] = value, state
    pairs: list[CharPair] = []
    i, j = n, m
    state = min(range(3), key=lambda k: cost[n][m][k])
    while i > 0 or j > 0:
        previous = back[i][j][state]
        if state == 0:
            word, written, char = expected[i - 1]
            sub = not same_char(char, read[j - 1].char)
            pending = not sub and has_accent(char) and not has_accent(read[j - 1].char)
            pairs.append(CharPair(word, char, written, read[j - 1], sub, pending))
            i, j = i - 1, j - 1
        elif state == 1:
            word = expected[i - 1][0] if i > 0 else expected[0][0]
            pairs.append(CharPair(word, None, None, read[j - 1], True))
            j -= 1
        else:
            word, written, char = expected[i - 1]
            pairs.append(CharPair(word, char, written, None, True))
            i -= 1
        state = previous
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
    exp, separators = _split_expected(expected)
    result = TextAlignment(expected, [raw for raw, _ in exp], separators)
    n, m = len(exp), len(words)
    # Cost: (errors, words merged into groups, read characters skipped); ties go to fewer
    # merges, then to reading more of the image as the expected text.
    inf = (10**9, 10**9, 10**9)
    best: list[list[tuple[int, int, int]]] = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[str, int, int]]] = [[("", 0, 0)] * (m + 1) for _ in range(n + 1)]
    best[0][0] = (0, 0, 0)
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == inf:
                continue
            if j < m:  # skip a read word (extra text)
                size = len(words[j].key)
                step = (here[0] + (size if strict else 0), here[1], here[2] + size)
                if step < best[i][j + 1]:
                    best[i][j + 1], back[i][j + 1] = step, ("extra", 1, 1)
            if i < n:  # an expected word is missing
                step = (here[0] + len(exp[i][1]), here[1], here[2])
                if step < best[i + 1][j]:
                    best[i + 1][j], back[i + 1][j] = step, ("missing", 1, 1)
            for a in range(1, min(MAX_GROUP, n - i) + 1):
                joined = "".join(k for _, chars in exp[i:i + a] for _, k in chars)
                for b in range(1, min(MAX_GROUP, m - j) + 1):
                    read = "".join(w.key for w in words[j:j + b])
                    group = _group_cost(joined, read)
                    if group > max(1, MATCH_LIMIT * max(len(joined), len(read))):
                        continue  # not a reading of these words: missing and extra instead
                    step = (here[0] + group, here[1] + a + b - 2, here[2])
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
