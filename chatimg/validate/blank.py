"""The ``blank`` check: a near-uniform or near-black image (a withheld or failed decode)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatimg.validate.base import CheckInput, CheckResult, Validator

if TYPE_CHECKING:
    from PIL.Image import Image

#: Largest per-channel standard deviation below which an image counts as uniform (0-255).
MIN_STD = 4.0
#: Mean grayscale below which an image counts as black.
MIN_MEAN = 8.0


class BlankValidator(Validator):
    """Fails images that are one flat colour or almost black."""

    name = "blank"
    version = "1"

    def check(self, image: Image, given: CheckInput) -> CheckResult:
        import numpy as np

        pixels = np.asarray(image.convert("RGB"), dtype=np.float32).reshape(-1, 3)
        # Spread per colour channel: two colours of equal brightness are not blank.
        std = float(pixels.std(axis=0).max())
        mean = float((pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())
        uniform, black = std < MIN_STD, mean < MIN_MEAN
        # 0 for a flat image, 1 once the spread is clearly above the threshold.
        score = round(min(1.0, std / (4 * MIN_STD)) * (0.0 if black else 1.0), 4)
        reason = "near-black" if black else "near-uniform" if uniform else None
        return self.result(
            "failed" if reason else "passed", score,
            mean=round(mean, 3), std=round(std, 3), reason=reason,
        )
