"""Acceptance 1: typography on images rendered with known text, plus blank and size checks."""

from __future__ import annotations

import pytest
from PIL import Image

from chatimg.engines.layout import render
from chatimg.validate import ocr, run_checks
from chatimg.validate.base import CheckInput
from chatimg.validate.registry import BUILTIN_VALIDATORS, load_validators
from chatimg.validate.text import error_rates, normalise


def typography(image: Image.Image, expected: str | None):
    (result,) = run_checks(image, expected_text=expected, names=["typography"])
    return result


@pytest.mark.parametrize(
    ("shown", "expected", "passes", "true_cer"),
    [
        ("OPEN LATE", "OPEN LATE", True, 0.0),
        ("OPEN LATF", "OPEN LATE", False, 1 / 8),  # one letter wrong
        ("OPEN", "OPEN LATE", False, 4 / 8),  # a missing word
        ("FRESH BREW", "Fresh brew!", True, 0.0),  # case and punctuation do not count
        ("FRESH BROW", "FRESH BREW", False, 1 / 9),
        ("GRAND OPENNG", "GRAND OPENING", False, 1 / 12),  # a typo in a longer sign fails too
    ],
)
def test_typography_on_rendered_text(shown: str, expected: str, passes: bool,
                                     true_cer: float) -> None:
    image = render(f'a poster that says "{shown}"', 7, 768, 512)
    result = typography(image, expected)
    assert result.passed is passes, result.details
    assert result.details["cer"] == pytest.approx(true_cer, abs=0.05)
    assert normalise(result.details["read"]) == normalise(shown)
    assert result.details["expected"] == expected
    assert 0.0 <= result.details["wer"] <= 1.0


def test_typography_on_a_blank_image_fails_with_full_error() -> None:
    result = typography(Image.new("RGB", (512, 512), (255, 255, 255)), "OPEN LATE")
    assert result.passed is False
    assert result.details["cer"] == pytest.approx(1.0, abs=0.05)
    assert result.details["read"] == ""


def test_no_expected_text_is_not_applicable() -> None:
    result = typography(render("a calm sea", 1, 256, 256), None)
    assert result.status == "not_applicable" and result.passed is None


def test_ocr_missing_is_skipped_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(image, sensitive=False):  # type: ignore[no-untyped-def]
        raise ocr.OcrUnavailable("OCR is not available (ModuleNotFoundError)")

    monkeypatch.setattr(ocr, "read_boxes", unavailable)
    result = typography(render('"HI"', 1, 256, 256), "HI")
    assert result.status == "skipped" and result.passed is None
    assert "not available" in result.details["reason"]


def test_ocr_keeps_the_terminal_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    typography(render('"QUIET"', 2, 512, 512), "QUIET")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_error_rates_normalise_case_spacing_and_punctuation() -> None:
    assert normalise("  Hello,\n  WORLD! ") == "hello world"
    assert error_rates("HELLO   world", "hello, world") == (0.0, 0.0)
    cer, wer = error_rates("HELLO", "hello world")
    assert cer == pytest.approx(0.5) and wer == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("image", "passes", "reason"),
    [
        (Image.new("RGB", (64, 64), (0, 0, 0)), False, "near-black"),
        (Image.new("RGB", (64, 64), (200, 180, 40)), False, "near-uniform"),
        (render("a calm sea", 3, 64, 64), True, None),
    ],
)
def test_blank(image: Image.Image, passes: bool, reason: str | None) -> None:
    (result,) = run_checks(image, names=["blank"])
    assert result.passed is passes and result.details["reason"] == reason


def test_size_exact_nearest_and_mismatch() -> None:
    image = Image.new("RGB", (1024, 1024), (10, 200, 30))
    (exact,) = run_checks(image, requested_size=(1024, 1024), names=["size"])
    assert exact.passed and exact.details["match"] == "exact"
    (size_check,) = load_validators(["size"])
    nearest = size_check.check(image, CheckInput(requested_size=(1000, 990),
                                                 allowed_sizes=((1024, 1024), (1536, 1024))))
    assert nearest.passed and nearest.details["match"] == "nearest allowed"
    (wrong,) = run_checks(image, requested_size=(768, 512), names=["size"])
    assert wrong.passed is False
    assert wrong.details["requested"] == [768, 512] and wrong.details["actual"] == [1024, 1024]
    (unknown,) = run_checks(image, names=["size"])
    assert unknown.status == "not_applicable"


def test_validators_are_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN_VALIDATORS, "always-fails", "tests.validate.plugin:AlwaysFails")
    results = run_checks(render("a calm sea", 1, 64, 64), names=["blank", "always-fails"])
    assert [(r.name, r.passed) for r in results] == [("blank", True), ("always-fails", False)]


def test_ocr_leaves_fd2_alone_inside_the_terminal_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sys
    import types

    touched: list[int] = []
    real_dup2 = os.dup2

    def spy(fd: int, fd2: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        touched.append(fd2)
        return real_dup2(fd, fd2, *args, **kwargs)

    monkeypatch.setattr(os, "dup2", spy)
    monkeypatch.setattr(ocr, "_fd2_is_terminal", lambda: False)
    typography(render('"LOUD"', 3, 256, 256), "LOUD")
    assert 2 in touched  # command-line use: stderr is hidden while OCR runs
    touched.clear()
    # Textual draws on fd 2; hiding it would drop frames.
    monkeypatch.setitem(sys.modules, "textual.app", types.ModuleType("textual.app"))
    monkeypatch.setattr(ocr, "_fd2_is_terminal", lambda: True)
    result = typography(render('"LOUD"', 3, 256, 256), "LOUD")
    assert touched == [] and result.passed
