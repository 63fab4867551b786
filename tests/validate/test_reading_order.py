"""Reading order and alignment on made-up OCR boxes (no OCR model needed, fast)."""

from __future__ import annotations

import math

import pytest

from chatimg.validate.align import align_text, read_words
from chatimg.validate.reading import TextBox, reading_lines
from chatimg.validate.verdict import Verdict, judge


def box(text: str, cx: float, cy: float, width: float, height: float = 40.0,
        angle: float = 0.0) -> TextBox:
    """A box centred at (cx, cy), turned ``angle`` degrees clockwise on screen."""
    rad = math.radians(angle)
    ux, uy = math.cos(rad), math.sin(rad)  # along the text
    vx, vy = -uy, ux  # down across the text
    hw, hh = width / 2, height / 2
    corners = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
    points = tuple((cx + x * ux + y * vx, cy + x * uy + y * vy) for x, y in corners)
    return TextBox(points, text, 0.95)  # type: ignore[arg-type]


def lines_of(boxes: list[TextBox]) -> list[str]:
    return [" ".join(b.text for b in line) for line in reading_lines(boxes)]


def test_a_word_set_a_little_higher_stays_on_its_line() -> None:
    # The detector returns the raised second word first.
    boxes = [box("Birthday", 330, 92, 220, 60), box("Happy", 120, 100, 170, 60)]
    assert lines_of(boxes) == ["Happy Birthday"]


def test_tilted_lines_are_read_top_to_bottom_left_to_right() -> None:
    angle = -15.0
    rad = math.radians(angle)
    def at(x: float, y: float) -> tuple[float, float]:
        return (300 + x * math.cos(rad) - y * math.sin(rad), 300 + x * math.sin(rad) + y * math.cos(rad))
    boxes = [box("DAILY", *at(0, 60), 160, 50, angle), box("BREAD", *at(90, 0), 170, 50, angle),
             box("FRESH", *at(-90, 0), 170, 50, angle)]
    assert lines_of(boxes) == ["FRESH BREAD", "DAILY"]


def test_words_on_an_arc_are_one_line_in_order() -> None:
    radius, words = 300.0, ["BEST", "COFFEE", "IN", "TOWN"]
    boxes = []
    for k, word in enumerate(words):
        theta = math.radians(-36 + k * 24)
        cx, cy = 400 + radius * math.sin(theta), 400 - radius * math.cos(theta)
        boxes.append(box(word, cx, cy, 110, 50, math.degrees(theta)))
    assert lines_of(list(reversed(boxes))) == ["BEST COFFEE IN TOWN"]


def test_a_tagline_of_another_size_is_its_own_line() -> None:
    boxes = [box("small print", 420, 110, 120, 18), box("GRAND OPENING", 200, 100, 300, 60)]
    assert lines_of(boxes) == ["GRAND OPENING", "small print"]


def verdict(expected: list[str], boxes: list[TextBox], strict: bool = False) -> Verdict:
    words, ordered = read_words(reading_lines(boxes))
    alignments = [align_text(text, words, strict) for text in expected]
    return judge(alignments, words, [b.confidence for b in ordered], max_cer=0.05,
                 strict=strict)


def test_extra_lines_are_extra_but_words_inside_the_line_count() -> None:
    tagline = box("this saturday only", 250, 200, 260, 24)
    fine = verdict(["GRAND OPENING"], [box("GRAND OPENING", 250, 100, 400, 60), tagline])
    assert fine.passed and fine.cer == 0.0 and fine.extra == ["this saturday only"]
    strict = verdict(["GRAND OPENING"], [box("GRAND OPENING", 250, 100, 400, 60), tagline],
                     strict=True)
    assert not strict.passed and strict.cer == pytest.approx(16 / (12 + 16))
    inserted = verdict(["HOT COFFEE"], [box("HOT FRESH COFFEE", 250, 100, 400, 60)])
    assert not inserted.passed and inserted.inserted == ["FRESH"]
    doubled = verdict(["LIVE MUSIC"], [box("LIVE MUSIC MUSIC", 250, 100, 400, 60)])
    assert [w["status"] for w in doubled.words] == ["ok", "doubled"]


def test_cer_stays_within_zero_and_one() -> None:
    flood = [box(f"WORD{k} " * 5, 250, 100 + 60 * k, 400, 40) for k in range(6)]
    result = verdict(["OPEN"], flood, strict=True)
    assert 0.0 <= result.cer <= 1.0 and 0.0 <= result.wer <= 1.0
    assert verdict(["OPEN"], [box("QZX", 100, 100, 100)]).cer == 1.0


def test_merged_words_and_punctuation_read_as_a_letter() -> None:
    merged = verdict(["OPEN LATE TODAY"], [box("OPENLATFTODAYTODAY", 250, 100, 500, 50)])
    statuses = {w["word"]: (w["status"], w["read"]) for w in merged.words}
    assert statuses == {"OPEN": ("ok", "OPEN"), "LATE": ("misspelled", "LATF"),
                        "TODAY": ("doubled", "TODAY")}
    slash = verdict(["OPEN 24/7"], [box("OPEN 24I7", 250, 100, 400, 50)])
    assert slash.passed and slash.cer == 0.0
