"""The small family of errors chatimg shows to people: a message and a hint, never a traceback."""

from __future__ import annotations


class ChatImgError(Exception):
    """An expected failure that a person can act on.

    Args:
        message: One line that says what went wrong.
        hint: One line that says what to do about it (optional).
    """

    kind = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and hint on a single line, as the CLI and TUI print them."""
        text = " ".join(self.message.split())
        if self.hint:
            text = f"{text} ({' '.join(self.hint.split())})"
        return text

    def __str__(self) -> str:
        return self.one_line()


class ConfigError(ChatImgError):
    """The config file or an environment override is invalid."""

    kind = "config"


class StoreError(ChatImgError):
    """The database or asset store cannot be used (not a database, migration failed, ...)."""

    kind = "store"


class NotPermittedError(StoreError):
    """A team database refused a write: the row belongs to another person."""

    kind = "not-permitted"


class NotFoundError(ChatImgError):
    """A conversation, message, generation or asset id does not exist."""

    kind = "not-found"


class InvalidRequestError(ChatImgError):
    """A generation request or a command's arguments are invalid."""

    kind = "invalid-request"


class EngineUnavailableError(ChatImgError):
    """A model cannot run here: weights not cached, library missing, server unreachable."""

    kind = "engine-unavailable"


class EngineRequestError(ChatImgError):
    """A model ran but the request failed (provider error, bad output, timeout).

    Args:
        message: What went wrong.
        hint: What to do about it.
        retryable: Whether a fallback or retry may succeed (timeouts, 429, 5xx).
        status: The HTTP status, for remote engines.
        reason: A short machine-readable reason (``timeout``, ``rate_limited``, ``server_error``,
            ``safety``, ``bad_response``, ``auth``, ...), used by routing.
    """

    kind = "engine-request"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        retryable: bool = False,
        status: int | None = None,
        reason: str = "request_failed",
    ) -> None:
        super().__init__(message, hint)
        self.retryable = retryable
        self.status = status
        self.reason = reason


class NeedsKeyError(EngineUnavailableError):
    """A remote model needs an API key that is not set."""

    kind = "needs-key"


class CancelledError(ChatImgError):
    """The person cancelled the job."""

    kind = "cancelled"


class BundleInvalidError(ChatImgError):
    """A bundle is refused on import (unsafe, corrupt, wrong version, hash mismatch)."""

    kind = "bundle-invalid"
