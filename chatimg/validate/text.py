"""Text comparison for the typography check: normalisation, edit distance, CER and WER."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def normalise(text: str) -> str:
    """Case-folded, punctuation removed, whitespace collapsed to single spaces."""
    kept = [
        " " if unicodedata.category(ch).startswith(("P", "Z", "C")) or ch.isspace() else ch
        for ch in unicodedata.normalize("NFKC", text).casefold()
    ]
    return " ".join("".join(kept).split())


def levenshtein(a: Sequence[object], b: Sequence[object]) -> int:
    """The edit distance (insertions, deletions, substitutions) between two sequences."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, start=1):
        current = [i]
        for j, right in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (left != right)))
        previous = current
    return previous[-1]


def error_rates(read: str, expected: str) -> tuple[float, float]:
    """(character error rate, word error rate) of ``read`` against ``expected``.

    Both texts are normalised first. Characters are compared without spaces (OCR often merges
    or splits words on a line; the word error rate scores word boundaries). Each rate is the edit
    distance divided by the reference length, so it can exceed 1 when much extra text is read.
    """
    ref, hyp = normalise(expected), normalise(read)
    ref_chars, hyp_chars = ref.replace(" ", ""), hyp.replace(" ", "")
    if not ref_chars:
        return (0.0 if not hyp_chars else 1.0), (0.0 if not hyp_chars else 1.0)
    cer = levenshtein(hyp_chars, ref_chars) / len(ref_chars)
    ref_words, hyp_words = ref.split(), hyp.split()
    wer = levenshtein(hyp_words, ref_words) / len(ref_words)
    return cer, wer
