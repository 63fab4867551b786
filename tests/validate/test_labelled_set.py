"""Acceptance 1 (issue 16): the typography check agrees with the truth on the labelled set.

The set (``labelled_set.py``) is painted deterministically: posters, signs and labels,
multi-line, rotated, in perspective, on arcs and cloth, on textured and photo-like grounds, with
shadows and outlines, in script fonts, small, with prices and accents, and headlines with
taglines; half drawn right, half with the mistakes image models make. The figures held here
are the ones ``benchmarks/bench_typography.py`` prints.
"""

from __future__ import annotations

from collections import Counter

import pytest

from chatimg.validate import ocr, run_checks
from tests.validate.labelled_set import Case, Tally, cases
from tests.validate.painter import missing_fonts

pytestmark = [pytest.mark.xdist_group("labelled-typography"), pytest.mark.slow]


def _needs_fonts_and_ocr() -> None:
    missing = missing_fonts()
    if missing:
        pytest.skip(f"fonts missing ({', '.join(missing)}): run .ci/install-fonts.sh as root")
    if not ocr.available():
        pytest.skip("OCR is not installed (the ocr extra)")


@pytest.fixture(scope="module")
def tally() -> Tally:
    """Every case checked once per test session (the OCR model loads once per process)."""
    _needs_fonts_and_ocr()
    rows: list[tuple[Case, bool]] = []
    for case in cases():
        (result,) = run_checks(case.image(), expected_text=case.expected, names=["typography"])
        rows.append((case, bool(result.passed)))
    return Tally(rows)


def test_the_set_is_half_correct_and_covers_what_models_get_wrong() -> None:
    found = cases()
    assert 70 <= len(found) <= 100
    correct = sum(case.truth for case in found)
    assert abs(correct - len(found) / 2) <= len(found) * 0.05
    categories = {case.category for case in found}
    assert {"multiline", "rotated", "perspective", "arc", "cloth wave", "textured",
            "shadow outline", "script", "small text", "numbers", "accents",
            "headline+tagline"} <= categories
    mistakes = Counter(case.mistake for case in found if not case.truth)
    for kind in ("look-alike", "doubled letter", "dropped letter", "swapped letters",
                 "missing word", "extra word", "gibberish", "missing accents", "wrong digit"):
        assert mistakes[kind] >= 1, kind


def test_painting_is_deterministic() -> None:
    if missing_fonts():
        pytest.skip("fonts missing: run .ci/install-fonts.sh as root")
    first, second = cases()[12], cases()[12]
    assert first.image().tobytes() == second.image().tobytes()


@pytest.mark.timeout(900)
def test_verdicts_agree_with_the_truth(tally: Tally) -> None:
    wrong = [(c.name, "false alarm" if c.truth else "miss")
             for c in tally.false_alarms() + tally.misses()]
    assert tally.agreement() >= 0.95, wrong
    assert tally.false_alarm_rate() <= 0.02, tally.false_alarms()


@pytest.mark.timeout(900)
def test_no_look_alike_swap_is_missed(tally: Tally) -> None:
    swaps = [case for case, _ in tally.rows if case.mistake == "look-alike"]
    assert len(swaps) >= 5
    assert tally.misses("look-alike") == []
