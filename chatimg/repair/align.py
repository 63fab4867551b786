"""Which OCR lines hold wrong text, and what they should say: the expected words aligned to the
words read, line by line.

Words are aligned by edit distance over words, where substituting one word for a similar one
costs less than dropping one and inserting another, so "SALF" lines up with "SALE" while a
tagline the prompt never asked for stays unaligned (extra text is left alone). A line that holds
any expected word is rewritten with exactly the expected words aligned to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatimg.validate.text import levenshtein, normalise


@dataclass(frozen=True)
class LineFix:
    """One OCR line to rewrite: its index in the lines given, what it reads, what it should."""

    line: int
    read: str
    written: str


def _key(word: str) -> str:
    return normalise(word).replace(" ", "")


def _substitution(a: str, b: str) -> float:
    left, right = _key(a), _key(b)
    if left == right:
        return 0.0
    longest = max(len(left), len(right), 1)
    return 2.0 * levenshtein(left, right) / longest


def align_words(
    expected: Sequence[str], read: Sequence[str]
) -> list[tuple[int | None, int | None]]:
    """Pairs (expected index, read index) in order; None on one side for an insertion/deletion."""
    rows, cols = len(expected) + 1, len(read) + 1
    cost = [[0.0] * cols for _ in range(rows)]
    for i in range(1, rows):
        cost[i][0] = float(i)
    for j in range(1, cols):
        cost[0][j] = float(j)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1,
                             cost[i - 1][j - 1] + _substitution(expected[i - 1], read[j - 1]))
    pairs: list[tuple[int | None, int | None]] = []
    i, j = len(expected), len(read)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + _substitution(expected[i - 1],
                                                                          read[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif j and cost[i][j] == cost[i][j - 1] + 1:
            pairs.append((None, j - 1))
            j -= 1
        else:
            pairs.append((i - 1, None))
            i -= 1
    pairs.reverse()
    return pairs


def line_fixes(lines: Sequence[str], expected: str) -> list[LineFix]:
    """The lines (OCR text, in reading order) to rewrite so that they say ``expected``."""
    words: list[str] = []
    owner: list[int] = []
    for index, line in enumerate(lines):
        for word in line.split():
            words.append(word)
            owner.append(index)
    wanted = expected.split()
    pairs = align_words(wanted, words)
    assigned: dict[int, list[int]] = {}
    pending: list[int] = []  # expected words not read anywhere, waiting for a line
    last_line: int | None = None
    for want, got in pairs:
        if got is not None and want is not None:
            last_line = owner[got]
            assigned.setdefault(last_line, []).extend([*pending, want])
            pending = []
        elif want is not None:
            if last_line is None:
                pending.append(want)
            else:
                assigned.setdefault(last_line, []).append(want)
    if pending and assigned:
        first = min(assigned)
        assigned[first] = [*pending, *assigned[first]]
    fixes = []
    for index in sorted(assigned):
        written = " ".join(wanted[w] for w in sorted(assigned[index]))
        if _key(written) != _key(lines[index]):  # as the check compares: case and spaces aside
            fixes.append(LineFix(index, lines[index], written))
    return fixes
