"""The layout engine as a typesetter: style words, hierarchy, templates, determinism, bounds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from chatimg.config import Settings
from chatimg.engines.base import CancelToken, EngineContext, EngineRequest
from chatimg.engines.catalog import Catalog
from chatimg.errors import CancelledError, InvalidRequestError
from chatimg.imaging import encode_png
from chatimg.prompts import COLOURS, text_style
from chatimg.spec import GenerationSpec
from chatimg.typeset import TEMPLATES, render_poster, template_for
from chatimg.typeset.fit import MAX_CHARACTERS
from tests.typeset.conftest import near, row_runs

RED = COLOURS["red"]


def layout_engine():  # type: ignore[no-untyped-def]
    return Catalog.from_settings(EngineContext(Settings())).engine("layout")


def test_style_words_are_read_outside_the_quoted_text() -> None:
    style = text_style('a poster in bold red that says "BLUE MONDAY" on a cream background')
    assert style.text_colour == RED and style.background == COLOURS["cream"]
    assert style.weight == "bold" and style.family == "sans" and not style.uppercase
    assert text_style('white letters on black, serif, all caps "x"').text_colour == COLOURS["white"]
    assert text_style('white letters on black, serif, all caps "x"').background == COLOURS["black"]
    assert text_style('white letters on black, serif, all caps "x"').family == "serif"
    assert text_style('white letters on black, serif, all caps "x"').uppercase
    assert text_style('a sans serif sign "x"').family == "sans"
    assert text_style('a thin typewriter label "x"') == text_style('a thin typewriter label "y"')
    assert text_style('a thin typewriter label "x"').family == "mono"
    assert text_style('a thin typewriter label "x"').weight == "light"
    assert text_style('a handwritten note "bold red serif"').family == "handwritten"
    assert text_style('a handwritten note "bold red serif"').text_colour is None


def test_in_bold_red_gives_red_bold_text() -> None:
    bold = render_poster('a poster in bold red that says "SALE"', 768, 768, 0)
    regular = render_poster('a poster in red that says "SALE"', 768, 768, 0)
    assert bold.fonts == ("DejaVuSans-Bold.ttf",) and regular.fonts == ("DejaVuSans.ttf",)
    bold_ink, regular_ink = near(bold.image, RED).sum(), near(regular.image, RED).sum()
    assert regular_ink > 2000  # the text is red
    assert bold_ink > 1.25 * regular_ink  # and heavier when bold
    plain = render_poster('a poster that says "SALE"', 768, 768, 0)
    assert near(plain.image, RED).sum() < regular_ink / 20


def test_uppercase_and_background_colour() -> None:
    poster = render_poster('white text on a navy background, uppercase: "open late"', 512, 512, 1)
    navy = near(poster.image, COLOURS["navy"], 30).mean()
    assert navy > 0.5  # most of the picture is the asked background
    from chatimg.validate import run_checks

    (result,) = run_checks(poster.image, expected_text="OPEN LATE", names=["typography"])
    assert result.passed is True, result.details


def test_two_quoted_strings_are_set_at_two_sizes() -> None:
    poster = render_poster(
        'white text on a black background: "GRAND OPENING" and "Saturday from nine"',
        1024, 1024, 0)
    assert template_for(0) == "centred"
    assert len(poster.sizes) == 2 and poster.sizes[0] > 1.5 * poster.sizes[1]
    lines = row_runs(near(poster.image, COLOURS["white"], 60))
    heights = [last - first + 1 for first, last in lines]
    assert len(lines) >= 2
    assert heights[0] > 1.5 * heights[-1]  # the headline's lines are taller than the tagline's


def test_two_seeds_give_two_templates() -> None:
    assert sorted({template_for(seed) for seed in range(len(TEMPLATES))}) == sorted(TEMPLATES)
    prompt = 'white text on a black background "LEFT OR CENTRE"'
    boxes = {}
    for seed in (0, 1):
        poster = render_poster(prompt, 800, 600, seed)
        _ys, xs = np.nonzero(near(poster.image, COLOURS["white"], 60))
        boxes[poster.template] = (xs.min(), 800 - 1 - xs.max())
    centred_left, centred_right = boxes["centred"]
    assert abs(centred_left - centred_right) < 12  # centred: equal margins
    left_left, left_right = boxes["left"]
    assert left_left < 0.6 * left_right  # left-aligned: text starts near the left margin


def test_same_seed_same_bytes_through_the_engine() -> None:
    engine = layout_engine()
    request = EngineRequest(GenerationSpec(
        prompt='a poster in bold red "ÜBER CAFÉ" and "I ❤ NY 🍕"', width=640, height=480, seed=11,
        count=2))
    first = engine.generate_blocking(request, lambda p: None, CancelToken())
    again = engine.generate_blocking(request, lambda p: None, CancelToken())
    a = [encode_png(image.image) for image in first.images]
    b = [encode_png(image.image) for image in again.images]
    assert a == b and a[0] != a[1]
    assert first.receipt["templates"] == [template_for(11), template_for(12)]
    assert "Symbola_hint.ttf" in first.receipt["fonts"]


def _words(characters: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    out, size = [], 0
    while size < characters:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:characters]


def test_a_100_kb_quoted_prompt_is_refused_in_one_line_by_the_engine() -> None:
    engine = layout_engine()
    request = EngineRequest(GenerationSpec(prompt=f'"{_words(100_000)}"', width=1024,
                                           height=1024, seed=1))
    with pytest.raises(InvalidRequestError) as refused:
        engine.generate_blocking(request, lambda p: None, CancelToken())
    assert f"at most {MAX_CHARACTERS:,}" in refused.value.one_line()


def test_long_text_up_to_the_limit_is_set_small_or_refused_when_it_cannot_fit() -> None:
    text = _words(MAX_CHARACTERS - 10)
    poster = render_poster(f'white on black "{text}"', 4096, 4096, 0)
    assert 8 <= poster.sizes[0] < 40
    with pytest.raises(InvalidRequestError, match="does not fit a 512x512 image"):
        render_poster(f'"{text}"', 512, 512, 0)


class CountingCancel:
    """Says "cancelled" from its ``after``-th look on, and counts the looks."""

    def __init__(self, after: int) -> None:
        self.after, self.looks = after, 0

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.looks >= self.after


def test_cancel_is_checked_inside_the_typesetting_of_one_image() -> None:
    engine = layout_engine()
    request = EngineRequest(GenerationSpec(prompt=f'"{_words(15_000)}"', width=4096,
                                           height=4096, seed=3))
    token = CountingCancel(after=6)
    with pytest.raises(CancelledError):
        engine.generate_blocking(request, lambda p: None, token)  # type: ignore[arg-type]
    assert token.looks == 6  # stopped at the first look that said so, mid-image
    finished = CountingCancel(after=10**9)
    short = request.with_spec(request.spec.model_copy(update={"prompt": '"short"'}))
    engine.generate_blocking(short, lambda p: None, finished)  # type: ignore[arg-type]
    assert finished.looks >= 3  # looked several times within one small image too


def test_a_template_too_tight_for_the_text_gives_way_to_the_centred_one() -> None:
    prompt = 'a poster "GRAND OPENING" and "Saturday" and "10am"'
    assert render_poster(prompt, 1024, 1024, 3).template == "badge"
    small = render_poster(prompt, 64, 64, 3)  # the badge's box is too small at 8 px
    assert small.template == "centred" and small.sizes[0] >= 8
    assert render_poster('"HI"', 1024, 256, 0).sizes[0] > 150  # wide images get big type
