"""Text comparison for the typography check: normalisation, accents, edit distance, error rates."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def _is_separator(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch).startswith(("P", "Z", "C"))


def normalise_char(ch: str) -> str:
    """One character as the check compares it: NFKC and case-folded ('' for punctuation/space)."""
    if _is_separator(ch):
        return ""
    return "".join(c for c in unicodedata.normalize("NFKC", ch).casefold() if not _is_separator(c))


def normalise(text: str) -> str:
    """Case-folded, punctuation removed, whitespace collapsed to single spaces."""
    kept = [normalise_char(ch) or " " for ch in unicodedata.normalize("NFC", text)]
    return " ".join("".join(kept).split())


def fold_accents(text: str) -> str:
    """``text`` without its diacritics (``"crème"`` → ``"creme"``)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def has_accent(ch: str) -> bool:
    """Whether a character carries a diacritic (``é``, ``Ü``, ``ç``)."""
    return any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", ch))


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


def bounded_rate(errors: int, reference: int, inserted: int = 0) -> float:
    """An error rate in [0, 1]: errors over the reference length plus what was inserted.

    Substitutions and deletions are bounded by the reference, insertions by themselves, so the
    rate never exceeds 1 however much extra text there is.
    """
    total = reference + inserted
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, errors / total))


def error_rates(read: str, expected: str) -> tuple[float, float]:
    """(character error rate, word error rate) of ``read`` against ``expected``, both in [0, 1].

    Both texts are normalised first. Characters are compared without spaces (OCR often merges
    or splits words on a line; the word error rate scores word boundaries). Every read
    character counts here; the typography check itself aligns the expected text within what
    was read and reports the rest as extra.
    """
    ref, hyp = normalise(expected), normalise(read)
    ref_chars, hyp_chars = ref.replace(" ", ""), hyp.replace(" ", "")
    if not ref_chars:
        return (0.0 if not hyp_chars else 1.0), (0.0 if not hyp_chars else 1.0)
    inserted_chars = max(0, len(hyp_chars) - len(ref_chars))
    cer = bounded_rate(levenshtein(hyp_chars, ref_chars), len(ref_chars), inserted_chars)
    ref_words, hyp_words = ref.split(), hyp.split()
    inserted_words = max(0, len(hyp_words) - len(ref_words))
    wer = bounded_rate(levenshtein(hyp_words, ref_words), len(ref_words), inserted_words)
    return cer, wer
