"""The ``size`` check: the output has the size that was asked for, or the nearest allowed one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatimg.validate.base import CheckInput, CheckResult, Validator

if TYPE_CHECKING:
    from PIL.Image import Image

#: Relative aspect-ratio difference tolerated when a provider snaps to a size of its own.
ASPECT_TOLERANCE = 0.03


def nearest_allowed(
    requested: tuple[int, int], allowed: tuple[tuple[int, int], ...], multiple: int
) -> tuple[int, int]:
    """The size a model would produce for ``requested``: the closest allowed size, else the
    request rounded to ``multiple``."""
    width, height = requested
    if allowed:
        return min(allowed, key=lambda s: (abs(s[0] - width) + abs(s[1] - height), s))
    if multiple > 1:
        return (max(multiple, round(width / multiple) * multiple),
                max(multiple, round(height / multiple) * multiple))
    return requested


class SizeValidator(Validator):
    """Compares the image size with the request."""

    name = "size"
    version = "1"

    def check(self, image: Image, given: CheckInput) -> CheckResult:
        actual = (int(image.width), int(image.height))
        if given.requested_size is None:
            return self.result("not_applicable", None, actual=list(actual),
                               reason="no size was requested")
        requested = given.requested_size
        nearest = nearest_allowed(requested, given.allowed_sizes, given.size_multiple)
        details = {"requested": list(requested), "actual": list(actual)}
        if actual == requested:
            return self.result("passed", 1.0, **details, match="exact")
        if actual == nearest:
            return self.result("passed", 1.0, **details, match="nearest allowed",
                               allowed=list(nearest))
        want = requested[0] / requested[1]
        got = actual[0] / actual[1]
        aspect_error = abs(got - want) / want
        if aspect_error <= ASPECT_TOLERANCE and not given.allowed_sizes:
            # Providers that pick their own resolution keep the aspect ratio.
            return self.result("passed", round(1 - aspect_error, 4), **details,
                               match="same aspect", aspect_error=round(aspect_error, 4))
        return self.result("failed", round(max(0.0, 1 - aspect_error), 4), **details,
                           match="none", aspect_error=round(aspect_error, 4))
