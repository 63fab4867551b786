"""The ``typography`` check: OCR the image and compare it with the text that was asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatimg.validate import ocr
from chatimg.validate.base import CheckInput, CheckResult, Validator
from chatimg.validate.text import error_rates, normalise

if TYPE_CHECKING:
    from PIL.Image import Image


class TypographyValidator(Validator):
    """Character and word error rates of the text read by OCR against the expected text."""

    name = "typography"
    version = "1"

    def check(self, image: Image, given: CheckInput) -> CheckResult:
        expected = (given.expected_text or "").strip()
        if not normalise(expected):
            return self.result("not_applicable", None, reason="no expected text")
        try:
            lines = ocr.read_lines(image)
        except ocr.OcrUnavailable as exc:
            return self.result("skipped", None, reason=str(exc), expected=expected)
        read = " ".join(text for text, _ in lines)
        cer, wer = error_rates(read, expected)
        passed = cer <= given.max_cer
        return self.result(
            "passed" if passed else "failed", round(max(0.0, 1.0 - cer), 4),
            cer=round(cer, 4), wer=round(wer, 4), read=read, expected=expected,
            max_cer=given.max_cer,
        )
