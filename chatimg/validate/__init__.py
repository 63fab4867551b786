"""Validators: pure checks of finished images (typography by OCR, blank, size).

``run_checks`` judges any image (``chatimg check``); ``validate_generation`` judges a stored
generation's images and returns the verdicts to store (the Studio calls it in a worker thread).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chatimg.errors import InvalidRequestError
from chatimg.prompts import quoted_text
from chatimg.validate.base import CheckInput, CheckResult, Validator
from chatimg.validate.registry import load_validators, validator_targets

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatimg import domain
    from chatimg.config import Settings
    from chatimg.spec import GenerationSpec

__all__ = [
    "CheckInput", "CheckResult", "Validator", "expected_text_of", "expected_texts_of", "load_image",
    "load_validators", "run_checks", "validate_images", "validator_targets",
]

DEFAULT_NAMES = ["blank", "size", "typography"]


def load_image(source: bytes | str | Path | Image) -> Image:
    """Decode image bytes or a file into a PIL image.

    Raises:
        InvalidRequestError: the file cannot be read or is not an image.
    """
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    if isinstance(source, PILImage.Image):
        return source
    label = "image data"
    try:
        if isinstance(source, bytes):
            data = source
        else:
            label = str(source)
            data = Path(source).read_bytes()
        image = PILImage.open(io.BytesIO(data))
        image.load()
    except OSError as exc:
        if isinstance(exc, UnidentifiedImageError) or not getattr(exc, "strerror", None):
            raise InvalidRequestError(f"{label} is not an image") from None
        raise InvalidRequestError(f"{label}: cannot read: {exc.strerror}") from None
    return image


def expected_text_of(prompt: str | None) -> str | None:
    """The text a prompt asks to be written: its quoted strings joined by spaces."""
    texts = expected_texts_of(prompt)
    return " ".join(texts) if texts else None


def expected_texts_of(prompt: str | None) -> list[str]:
    """The texts a prompt asks to be written: its quoted strings, each checked on its own."""
    return [text for text in quoted_text(prompt or "") if text.strip()]


def _texts(expected: str | Sequence[str] | None) -> tuple[str, ...]:
    if expected is None:
        return ()
    if isinstance(expected, str):
        return (expected,) if expected.strip() else ()
    return tuple(text for text in expected if text and text.strip())


def run_checks(
    image: bytes | str | Path | Image,
    *,
    expected_text: str | Sequence[str] | None = None,
    requested_size: tuple[int, int] | None = None,
    names: Sequence[str] | None = None,
    settings: Settings | None = None,
    allowed_sizes: tuple[tuple[int, int], ...] = (),
    size_multiple: int = 1,
    strict: bool | None = None,
) -> list[CheckResult]:
    """Run validators on one image.

    Args:
        image: Encoded bytes, a file path or a PIL image.
        expected_text: The text the image should show, or several texts each checked on its own
            in any order (typography is not applicable without any).
        requested_size: (width, height) that was asked for (size is not applicable without it).
        names: Validators to run; default: ``settings.validation.enabled`` or all built-ins.
        settings: For the enabled list and the typography threshold.
        allowed_sizes: Sizes the model offers, if it only offers a few.
        size_multiple: The model rounds sizes to a multiple of this.
        strict: Count text nobody asked for as typography errors (default: the setting).

    Returns:
        One result per validator, in order (including skipped and not-applicable ones).

    Raises:
        InvalidRequestError: the image cannot be read, or a validator name is unknown.
    """
    picture = load_image(image)
    if names is None:
        names = settings.validation.enabled if settings is not None else DEFAULT_NAMES
    max_cer = settings.validation.typography_max_cer if settings is not None else 0.05
    if strict is None:
        strict = settings.validation.typography_strict if settings is not None else False
    texts = _texts(expected_text)
    given = CheckInput(
        expected_text=" ".join(texts) or None, expected_texts=texts,
        requested_size=requested_size, allowed_sizes=allowed_sizes,
        size_multiple=size_multiple, max_cer=max_cer, strict=strict,
    )
    results: list[CheckResult] = []
    for validator in load_validators(list(names)):
        try:
            results.append(validator.check(picture, given))
        except Exception as exc:  # a validator bug is reported, not raised
            results.append(CheckResult(validator.name, validator.version, "skipped", None,
                                       {"reason": f"{type(exc).__name__}: {exc}"}))
    return results


def _requested_size(spec: GenerationSpec) -> tuple[int, int] | None:
    if spec.width and spec.height and not spec.upscale:  # an upscale follows its source's size
        return spec.width, spec.height
    return None


def validate_images(
    generation: domain.Generation, images: Sequence[Image],
    expected_text: Sequence[str] | None, settings: Settings,
) -> list[domain.ValidationResult]:
    """Check a finished generation's decoded images with the enabled validators.

    Args:
        generation: The generation as stored (its assets line up with ``images``).
        images: The decoded images, in order.
        expected_text: The text the images should show; default: the prompt's quoted text.
        settings: The enabled validators and thresholds.

    Returns:
        Only verdicts (passed or failed); skipped and not-applicable checks are not stored.
    """
    from chatimg import domain

    names = list(settings.validation.enabled)
    if not names or not images:
        return []
    spec = generation.ran
    expected = list(expected_text) if expected_text else expected_texts_of(spec.prompt)
    size = _requested_size(spec)
    stored: list[domain.ValidationResult] = []
    for asset, image in zip(generation.assets, images, strict=False):
        results = run_checks(image, expected_text=expected, requested_size=size,
                             names=names, settings=settings)
        stored.extend(
            domain.ValidationResult(
                asset_sha256=asset.sha256, name=r.name, version=r.version,
                passed=bool(r.passed), score=r.score, details=dict(r.details),
                generation_id=generation.id,
            )
            for r in results
            if r.applicable
        )
    return stored
