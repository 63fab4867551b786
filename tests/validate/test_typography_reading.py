"""Issue 16: the typography check finds the requested text within what is there.

Extra text (a tagline) is reported, not counted, unless strict; several texts are each
checked, in any order; per-word results; CER in [0, 1]; no text found; look-alike digits and
letters; accents; reading order; a 4096x4096 image judged like its 1024x1024 version.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from chatimg.cli import main
from chatimg.validate import CheckResult, glyphs, latin, ocr, run_checks
from tests.validate.painter import Line, Scene, missing_fonts, paint

pytestmark = pytest.mark.xdist_group("labelled-typography")


@pytest.fixture(autouse=True)
def _needs_fonts_and_ocr() -> None:
    if missing_fonts():
        pytest.skip("fonts missing: run .ci/install-fonts.sh as root")
    if not ocr.available():
        pytest.skip("OCR is not installed (the ocr extra)")


def poster(*lines: tuple[str, int], seed: int = 3, **scene: object) -> Image.Image:
    return paint(Scene(lines=tuple(Line(t, s, "arial") for t, s in lines), seed=seed,
                       **scene))  # type: ignore[arg-type]


def typography(image: Image.Image, expected: str | list[str], **kwargs: object) -> CheckResult:
    (result,) = run_checks(image, expected_text=expected, names=["typography"],
                           **kwargs)  # type: ignore[arg-type]
    return result


def check_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(["check", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


TAGLINE = (("GRAND OPENING", 70), ("this saturday from 10am", 26))


def test_a_tagline_is_extra_not_an_error_and_strict_counts_it() -> None:
    image = poster(*TAGLINE, background="photo")
    relaxed = typography(image, "GRAND OPENING")
    assert relaxed.passed is True, relaxed.details
    assert relaxed.details["cer"] == 0.0 and relaxed.score == 1.0
    assert relaxed.details["extra"] == ["this saturday from 10am"]
    assert [w["status"] for w in relaxed.details["words"]] == ["ok", "ok"]
    strict = typography(image, "GRAND OPENING", strict=True)
    assert strict.passed is False
    assert strict.details["strict"] is True
    assert 0.0 < strict.details["cer"] <= 1.0
    assert strict.score == pytest.approx(1.0 - strict.details["cer"], abs=1e-4)
    wrong = typography(poster(("GRAND OPENIGN", 70), TAGLINE[1], background="photo"),
                       "GRAND OPENING")
    assert wrong.passed is False


def test_strict_from_the_command_line_and_the_config(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path, config_file: Path) -> None:
    path = tmp_path / "poster.png"
    poster(*TAGLINE).save(path)
    code, out = check_cli(capsys, str(path), "--text", "GRAND OPENING", "--check", "typography")
    assert code == 0 and "extra: 'this saturday from 10am'" in out
    code, out = check_cli(capsys, str(path), "--text", "GRAND OPENING", "--strict",
                          "--check", "typography")
    assert code == 3 and "(counted: strict)" in out
    config_file.write_text("[validation]\ntypography_strict = true\n")
    code, _ = check_cli(capsys, str(path), "--text", "GRAND OPENING", "--check", "typography")
    assert code == 3
    code, _ = check_cli(capsys, str(path), "--text", "GRAND OPENING", "--no-strict",
                        "--check", "typography")
    assert code == 0


def test_several_texts_are_each_checked_in_any_order(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    path = tmp_path / "poster.png"
    poster(("SUMMER SALE", 70), ("up to half price", 30)).save(path)
    code, out = check_cli(capsys, str(path), "--text", "up to half price", "--text",
                          "SUMMER SALE", "--check", "typography", "--json")
    assert code == 0, out
    details = json.loads(out)[0]["checks"][0]["details"]
    assert [t["expected"] for t in details["texts"]] == ["up to half price", "SUMMER SALE"]
    assert all(t["passed"] for t in details["texts"]) and details["extra"] == []
    code, out = check_cli(capsys, str(path), "--text", "SUMMER SALE", "--text",
                          "up to full price", "--check", "typography", "--json")
    assert code == 3
    texts = json.loads(out)[0]["checks"][0]["details"]["texts"]
    assert [t["passed"] for t in texts] == [True, False]


def test_per_word_results_with_what_was_read() -> None:
    result = typography(poster(("OPEN LATF TODAY TODAY", 56)), "OPEN LATE TODAY")
    words = {w["word"]: w for w in result.details["words"]}
    assert words["OPEN"]["status"] == "ok"
    assert words["LATE"] == {"word": "LATE", "read": "LATF", "status": "misspelled",
                             "errors": 1}
    assert words["TODAY"]["status"] == "doubled"
    missing = typography(poster(("SPECIAL TODAY", 60)), "SPECIAL OFFER TODAY")
    assert [w["status"] for w in missing.details["words"]] == ["ok", "missing", "ok"]
    assert missing.passed is False


def test_nothing_found_is_its_own_reason(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    blank = Image.new("RGB", (512, 384), (240, 240, 240))
    result = typography(blank, "OPEN LATE")
    assert result.passed is False and result.details["reason"] == "no_text_found"
    assert result.details["cer"] == 1.0 and result.score == 0.0
    path = tmp_path / "blank.png"
    blank.save(path)
    _, out = check_cli(capsys, str(path), "--text", "OPEN LATE", "--check", "typography")
    assert "no text found" in out


def test_plain_line_shows_expected_read_cer_and_limit(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "sign.png"
    poster(("OPEN LATF", 70)).save(path)
    code, out = check_cli(capsys, str(path), "--text", "OPEN LATE")
    assert code == 3
    lines = {line.split()[0]: line.strip() for line in out.splitlines()[1:]}
    assert lines["typography"].startswith(
        "typography FAIL expected='OPEN LATE' read='OPEN LATF' cer=0.125 (max 0.05)")
    assert "LATE misspelled as 'LATF'" in lines["typography"]
    # The JSON status, spelled for people: "not applicable", never "skip".
    assert lines["size"] == "size not applicable (no size was requested)"
    code, out = check_cli(capsys, str(path), "--check", "typography", "--json")
    assert json.loads(out)[0]["checks"][0]["status"] == "not_applicable"
    _, out = check_cli(capsys, str(path), "--check", "typography")
    assert "typography not applicable (no expected text)" in out


@pytest.mark.parametrize(("painted", "expected"), [("0PEN 24/7", "OPEN 24/7"),
                                                   ("5O% OFF", "50% OFF")])
def test_look_alike_digits_and_letters_fail(painted: str, expected: str) -> None:
    wrong = typography(poster((painted, 64)), expected)
    assert wrong.passed is False, wrong.details
    bad = [w for w in wrong.details["words"] if w["status"] != "ok"]
    assert bad and bad[0]["note"] == "look-alike"
    assert bad[0]["read"] == painted.split()[0].rstrip("%")
    assert typography(poster((expected, 64)), expected).passed is True


@pytest.mark.parametrize("reader", ["glyphs", "latin recogniser"])
def test_accents_are_checked_on_the_glyph_or_reported_unverified(
        monkeypatch: pytest.MonkeyPatch, reader: str) -> None:
    if reader == "glyphs":
        monkeypatch.setattr(latin, "recognise", lambda crops: None)
    elif not latin.available():
        pytest.skip("the accent-reading recogniser is not installed (chatimg[accents])")
    right = poster(("CAFÉ CRÈME", 64))
    verified = typography(right, "CAFÉ CRÈME")
    assert verified.passed is True and "accents_unverified" not in verified.details
    assert [w["read"] for w in verified.details["words"]] == ["CAFÉ", "CRÈME"]
    dropped = typography(poster(("CAFE CREME", 64)), "CAFÉ CRÈME")
    assert dropped.passed is False
    assert {w["note"] for w in dropped.details["words"]} == {"missing accent"}
    assert [w["read"] for w in dropped.details["words"]] == ["CAFE", "CREME"]
    # When neither a recogniser nor the glyphs can tell, correct accented text passes and
    # says so.
    monkeypatch.setattr(latin, "recognise", lambda crops: None)
    monkeypatch.setattr(glyphs, "has_mark", lambda glyph: None)
    unsure = typography(right, "CAFÉ CRÈME")
    assert unsure.passed is True
    assert unsure.details["accents_unverified"] == ["CAFÉ", "CRÈME"]


def test_reading_order_follows_the_lines_not_the_detector() -> None:
    scene = Scene(lines=(Line("Happy Birthday", 66, "script", rise=8),), seed=5, dark_text=True)
    result = typography(paint(scene), "Happy Birthday")
    assert result.passed is True and result.details["read"] == "Happy Birthday"
    tilted = typography(poster(("FRESH BREAD", 60), ("DAILY", 60), angle=14.0), "FRESH BREAD DAILY")
    assert tilted.passed is True, tilted.details
    assert len(tilted.details["lines"]) == 2


def test_a_big_image_is_judged_like_its_1024_version() -> None:
    for painted in ("SUMMER SALE", "SUMMER SAEL"):
        small = poster((painted, 60), ("up to half price", 22), background="texture")
        verdicts = []
        for side in (1024, 4096):
            result = typography(small.resize((side, side * 3 // 4), Image.Resampling.BICUBIC),
                                "SUMMER SALE")
            verdicts.append((result.passed, result.details["read"], result.details["cer"]))
        assert verdicts[0] == verdicts[1]


def test_the_ocr_model_loads_once_and_not_at_import() -> None:
    import subprocess
    import sys

    probe = ("import sys, chatimg.validate, chatimg.validate.typography, chatimg.validate.glyphs,"
             " chatimg.validate.latin\n"
             "print(sorted(m for m in ('onnxruntime', 'cv2', 'rapidocr_onnxruntime') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
    typography(poster(("ONCE", 60)), "ONCE")
    engine = ocr._engine
    typography(poster(("TWICE", 60)), "TWICE")
    assert engine is not None and ocr._engine is engine
