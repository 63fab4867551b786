"""From aligned texts to a typography verdict: per-word results, extra text, CER and WER.

Read words that stand for no expected word are sorted out here. A whole line of them (a
tagline, a logo, small print) is ``extra``: reported, counted only in strict mode. Such words
inside a line that carries expected text are an inserted word (counted), and a copy of the
neighbouring expected word is that word ``doubled`` (counted). Every rate is bounded to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatimg.validate.align import ReadWord, TextAlignment
from chatimg.validate.text import bounded_rate, fold_accents, normalise

#: Unclaimed read words below this OCR confidence are treated as background noise.
NOISE_CONFIDENCE = 0.6


@dataclass
class Verdict:
    """The typography outcome for one reading of the image."""

    cer: float
    wer: float
    passed: bool
    texts: list[dict[str, Any]]
    words: list[dict[str, Any]]
    extra: list[str]
    inserted: list[str]
    accents_unverified: list[str] = field(default_factory=list)


def _between_words(alignment: TextAlignment) -> tuple[set[int], list[str], set[int]]:
    """Read characters inserted between expected words (OCR that dropped the spaces).

    Returns the pair indices of those runs (not any word's misspelling), the runs as text, and
    the expected words a run repeats (``doubled``).
    """
    pairs = alignment.pairs
    skipped: set[int] = set()
    runs: list[str] = []
    doubled: set[int] = set()
    k = 0
    while k < len(pairs):
        if pairs[k].expected is not None:
            k += 1
            continue
        end = k
        while end < len(pairs) and pairs[end].expected is None:
            end += 1
        before = next((p.word for p in reversed(pairs[:k]) if p.expected is not None), None)
        after = next((p.word for p in pairs[end:] if p.expected is not None), None)
        if before != after:
            text = "".join(p.read.raw for p in pairs[k:end] if p.read is not None)
            skipped.update(range(k, end))
            if _reads_punctuation(alignment, before, after, text):
                for pair in pairs[k:end]:
                    pair.wrong = False  # the written "/" of 24/7 read as a letter
                k = end
                continue
            twin = next((w for w in (before, after) if w is not None and fold_accents(
                normalise(alignment.words[w]).replace(" ", "")) == fold_accents(text.casefold())),
                None)
            if twin is not None:
                doubled.add(twin)
            else:
                runs.append(text)
        k = end
    return skipped, runs, doubled


#: Letters a recogniser reads for a slash, a bar or an apostrophe.
PUNCTUATION_SHAPES = set("iIl1|/\\!'’tj")


def _reads_punctuation(alignment: TextAlignment, before: int | None, after: int | None,
                       text: str) -> bool:
    """Whether one read character between two words stands for punctuation written there."""
    if before is None or after is None or after != before + 1 or len(text) != 1:
        return False
    separator = alignment.separators[before] if before < len(alignment.separators) else ""
    return bool(separator) and text in PUNCTUATION_SHAPES


def _word_results(alignment: TextAlignment, doubled: set[int],
                  skipped: set[int]) -> list[dict[str, Any]]:
    results = []
    for index, word in enumerate(alignment.words):
        pairs = [p for k, p in enumerate(alignment.pairs) if p.word == index and k not in skipped]
        read = "".join(p.seen or p.read.raw for p in pairs if p.read is not None)
        errors = sum(1 for p in pairs if p.wrong) + (len(word) if index in doubled else 0)
        if not any(p.read is not None for p in pairs):
            status = "missing"
        elif index in doubled:
            status = "doubled"
        elif errors:
            status = "misspelled"
        else:
            status = "ok"
        entry: dict[str, Any] = {"word": word, "read": read, "status": status, "errors": errors}
        notes = sorted({p.note for p in pairs if p.note})
        if notes:
            entry["note"] = ", ".join(notes)
        results.append(entry)
    return results


def judge(alignments: list[TextAlignment], words: list[ReadWord], confidences: list[float],
          *, max_cer: float, strict: bool) -> Verdict:
    """Score aligned texts against everything that was read.

    Args:
        alignments: One per expected text, after the glyph checks.
        words: All read words, in reading order.
        confidences: OCR confidence per box (indexed by ``ReadWord.box``).
        max_cer: Each text passes when its character error rate is at most this.
        strict: Count extra text as errors too.
    """
    claimed: set[int] = set().union(*(a.claimed for a in alignments)) if alignments else set()
    owner: dict[int, int] = {}  # line → the first text with words on it
    for text_index, alignment in enumerate(alignments):
        for j in sorted(alignment.claimed):
            owner.setdefault(words[j].line, text_index)
    inserted: dict[int, list[int]] = {i: [] for i in range(len(alignments))}
    doubled: dict[int, set[int]] = {i: set() for i in range(len(alignments))}
    extra_words: list[int] = []
    for j, word in enumerate(words):
        if j in claimed:
            continue
        # Inside a line of expected text: a word nobody asked for, unless it is background
        # noise (low confidence) or a stray character (a glyph read twice by two boxes).
        if (word.line in owner and confidences[word.box] >= NOISE_CONFIDENCE
                and len(word.key) > 1):
            text_index = owner[word.line]
            alignment = alignments[text_index]
            twin = _twin(alignment, words, j)
            if twin is not None:
                doubled[text_index].add(twin)
            else:
                inserted[text_index].append(j)
        else:
            extra_words.append(j)
    texts, all_words = [], []
    inserted_runs: list[str] = []
    total_errors = total_length = 0
    passed = True
    for index, alignment in enumerate(alignments):
        skipped, runs, merged_twins = _between_words(alignment)
        word_results = _word_results(alignment, doubled[index] | merged_twins, skipped)
        inserted_runs.extend(runs)
        substitutions = sum(1 for p in alignment.pairs if p.wrong and p.expected is not None)
        insertions = sum(1 for p in alignment.pairs if p.expected is None and p.wrong)
        insertions += sum(len(words[j].key) for j in inserted[index])
        doubled_chars = sum(len(alignment.words[w]) for w in doubled[index])
        errors = substitutions + insertions + doubled_chars
        cer = bounded_rate(errors, alignment.length, insertions + doubled_chars)
        ok = cer <= max_cer
        passed = passed and ok
        total_errors += errors
        total_length += alignment.length + insertions + doubled_chars
        read = " ".join(w["read"] for w in word_results if w["read"])
        texts.append({"expected": alignment.expected, "read": read, "cer": round(cer, 4),
                      "passed": ok})
        added = len(inserted[index]) + len(runs)
        bad_words = sum(1 for w in word_results if w["status"] != "ok") + added
        all_words.extend(word_results)
        texts[-1]["wer"] = round(bounded_rate(bad_words, len(word_results), added), 4)
    extra = _extra_text(words, extra_words)
    if strict:
        extra_chars = sum(len(words[j].key) for j in extra_words)
        total_errors += extra_chars
        total_length += extra_chars
    cer = bounded_rate(total_errors, total_length)
    if strict and cer > max_cer:
        passed = False
    bad = sum(1 for w in all_words if w["status"] != "ok")
    extra_count = sum(len(v) for v in inserted.values()) + (len(extra_words) if strict else 0)
    wer = bounded_rate(bad + extra_count, len(all_words), extra_count)
    return Verdict(cer, wer, passed, texts, all_words, extra,
                   [words[j].text for v in inserted.values() for j in v] + inserted_runs)


def _twin(alignment: TextAlignment, words: list[ReadWord], j: int) -> int | None:
    """The expected word that read word ``j`` repeats next to it, if any."""
    key = fold_accents(words[j].key)
    for expected, read_indices in alignment.matched.items():
        beside = any(abs(r - j) == 1 and words[r].line == words[j].line for r in read_indices)
        if beside and fold_accents("".join(words[r].key for r in read_indices)) == key:
            return expected
    return None


def _extra_text(words: list[ReadWord], indices: list[int]) -> list[str]:
    """Unclaimed words joined into runs per line (``["this saturday only"]``)."""
    runs: list[str] = []
    previous: ReadWord | None = None
    for j in indices:
        word = words[j]
        if previous is not None and previous.line == word.line and runs:
            runs[-1] += " " + word.text
        else:
            runs.append(word.text)
        previous = word
    return runs
