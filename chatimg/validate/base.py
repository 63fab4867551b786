"""The validator contract: a named, versioned, pure check of one image."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from PIL.Image import Image

#: A check's outcome. Only ``passed`` and ``failed`` are stored as validation rows.
STATUSES = ("passed", "failed", "skipped", "not_applicable")


@dataclass(frozen=True)
class CheckInput:
    """What a validator may look at besides the pixels."""

    expected_text: str | None = None
    """The text the image should show (the prompt's quoted strings, or ``--text``)."""
    requested_size: tuple[int, int] | None = None
    """The (width, height) the model was asked for."""
    allowed_sizes: tuple[tuple[int, int], ...] = ()
    """Sizes the model can produce, when it only offers a few (the nearest one counts)."""
    size_multiple: int = 1
    """The model rounds width and height to a multiple of this."""
    max_cer: float = 0.05
    """Typography passes when the character error rate is at most this."""
    expected_texts: tuple[str, ...] = ()
    """Several texts the image should show, each checked on its own, in any order (used
    instead of ``expected_text`` when given)."""
    strict: bool = False
    """Typography counts text nobody asked for (a tagline, small print) as errors."""

    @property
    def texts(self) -> tuple[str, ...]:
        """Every expected text: ``expected_texts``, else ``expected_text`` if set."""
        if self.expected_texts:
            return self.expected_texts
        return (self.expected_text,) if self.expected_text else ()


@dataclass(frozen=True)
class CheckResult:
    """One validator's verdict on one image."""

    name: str
    version: str
    status: str
    """``passed``, ``failed``, ``skipped`` (the validator cannot run here) or
    ``not_applicable`` (nothing to check, e.g. no expected text)."""
    score: float | None = None
    """In [0, 1], higher is better; None when skipped or not applicable."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """True or False for a verdict; None when skipped or not applicable."""
        if self.status == "passed":
            return True
        if self.status == "failed":
            return False
        return None

    @property
    def applicable(self) -> bool:
        """Whether this result is a verdict worth storing."""
        return self.status in ("passed", "failed")

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape ``chatimg check --json`` prints."""
        return {
            "name": self.name, "version": self.version, "status": self.status,
            "passed": self.passed, "score": self.score, "details": dict(self.details),
        }


class Validator(abc.ABC):
    """A pure check: pixels and a ``CheckInput`` in, a ``CheckResult`` out.

    Subclasses set ``name`` and ``version`` (bump the version when the verdict logic changes, so
    stored rows say which logic produced them) and implement ``check``.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    @abc.abstractmethod
    def check(self, image: Image, given: CheckInput) -> CheckResult:
        """Judge one image.

        Args:
            image: The decoded image (any mode).
            given: Expected text, requested size and thresholds.

        Returns:
            The verdict with a score in [0, 1] and details for people.
        """

    def result(self, status: str, score: float | None = None, **details: Any) -> CheckResult:
        """A result carrying this validator's name and version."""
        return CheckResult(self.name, self.version, status, score, details)
