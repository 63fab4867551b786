"""Every character is drawn with a real glyph (never a missing-glyph box), in every style;
a character no font has is refused in one line naming the package to install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from chatimg.engines.layout import render
from chatimg.errors import EngineUnavailableError
from chatimg.prompts import quoted_text
from chatimg.typeset import render_poster
from chatimg.typeset.cmap import FontFormatError, coverage, file_coverage
from chatimg.typeset.fonts import FONT_DIRS_ENV, font_chain, installed_fonts
from chatimg.validate import run_checks

SAMPLES = ["ÜBER CAFÉ – ÖFFNUNGSZEITEN", "Ελληνικά", "Привет", "I ❤ NY 🍕"]
STYLES = [("sans", "regular"), ("sans", "bold"), ("sans", "light"), ("serif", "regular"),
          ("mono", "bold"), ("script", "regular"), ("handwritten", "regular")]
NOT_IN_ANY_FONT = "\U0010fffd"  # a private-use code point: every font draws its .notdef box


def cell(face: Any, char: str) -> Image.Image:
    image = Image.new("L", (160, 120), 0)
    ImageDraw.Draw(image).text((20, 90), char, font=face, fill=255, anchor="ls")
    return image


@pytest.mark.parametrize(("family", "weight"), STYLES)
@pytest.mark.parametrize("text", SAMPLES)
def test_every_glyph_has_ink_and_is_not_the_missing_glyph_box(
    text: str, family: str, weight: str
) -> None:
    chain = font_chain(family, weight)
    for char in text.replace(" ", ""):
        font = chain.pick(char)
        assert font is not None, char
        face = font.face(64)
        glyph = cell(face, char)
        assert glyph.getbbox() is not None, f"{char!r} has no ink in {font.name}"
        assert glyph.tobytes() != cell(face, NOT_IN_ANY_FONT).tobytes(), (
            f"{char!r} is drawn as the missing-glyph box of {font.name}")


def test_the_poster_draws_the_emoji_with_a_symbol_font_and_the_letters_in_the_style() -> None:
    poster = render_poster('a script t-shirt print "I ❤ NY 🍕"', 512, 512, 0)
    assert poster.fonts[0].lower().startswith("dancingscript")
    assert any(name.lower().startswith("symbola") for name in poster.fonts)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("prompt", [
    'a cafe sign that says "ÜBER CAFÉ – ÖFFNUNGSZEITEN"',
    'a poster in bold red that says "SUMMER SALE" and "50% OFF everything"',
    'a handwritten card "Thank You"',
])
def test_the_typography_check_passes_on_latin_posters(prompt: str, seed: int) -> None:
    expected = " ".join(quoted_text(prompt))
    (result,) = run_checks(render(prompt, seed, 1024, 1024), expected_text=expected,
                           names=["typography"])
    assert result.passed is True, result.details


def test_only_pillows_font_sets_ascii_and_names_the_package_for_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FONT_DIRS_ENV, str(tmp_path))  # an empty font folder
    assert installed_fonts() == {}
    poster = render_poster('a sign "OPEN 24/7"', 256, 256, 0)
    assert poster.fonts == ("pillow-default",)
    with pytest.raises(EngineUnavailableError) as accented:
        render_poster('a sign "ÜBER CAFÉ"', 256, 256, 0)
    assert "fonts-dejavu-core" in accented.value.one_line()
    assert "'Ü'" in accented.value.one_line() and "\n" not in accented.value.one_line()
    with pytest.raises(EngineUnavailableError) as pizza:
        render_poster('"I ❤ NY 🍕"', 256, 256, 0)
    assert "fonts-symbola" in pizza.value.one_line()


def test_a_character_no_installed_font_has_is_refused_not_boxed() -> None:
    with pytest.raises(EngineUnavailableError, match=r"U\+10FFFD"):
        render_poster(f'"A{NOT_IN_ANY_FONT}B"', 256, 256, 0)


def test_cmap_coverage_of_real_fonts() -> None:
    fonts = installed_fonts()
    dejavu = coverage(fonts["dejavusans"].read_bytes())
    assert all(dejavu.has(c) for c in "AÉЖλ❤–") and not dejavu.has("🍕")
    assert coverage(fonts["symbola_hint"].read_bytes()).has("🍕")
    for stem in ("dejavusans", "symbola_hint", "dancingscript-regular"):  # read from the file
        assert file_coverage(fonts[stem]) == coverage(fonts[stem].read_bytes())
    with pytest.raises(FontFormatError):
        coverage(b"not a font at all")
