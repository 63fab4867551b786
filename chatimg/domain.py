"""Domain records the Studio returns: frozen, plain data, never live ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatimg.spec import GenerationSpec, Receipt


@dataclass(frozen=True)
class Conversation:
    """A conversation summary."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    default_model: str | None = None
    message_count: int = 0
    owner: str | None = None
    """The database role that owns it (team databases; None on SQLite)."""
    visibility: str = "private"
    """``private`` or ``team`` (who else may read it on a team database)."""


@dataclass(frozen=True)
class AssetRef:
    """An image produced by a generation."""

    sha256: str
    path: str
    """Absolute path on this machine."""
    mime: str
    width: int
    height: int
    bytes: int
    index: int = 0
    seed: int | None = None
    revised_prompt: str | None = None
    state: str | None = None
    """``missing`` or ``damaged`` when the file was found so (None: present, or not checked)."""


@dataclass(frozen=True)
class ValidationResult:
    """One stored check on one image."""

    asset_sha256: str
    name: str
    version: str
    passed: bool
    score: float | None
    details: dict[str, Any] = field(default_factory=dict)
    generation_id: str | None = None


@dataclass(frozen=True)
class Generation:
    """One model run for one message: what was asked (``spec``) and what ran (``receipt``)."""

    id: str
    message_id: str
    requested_model: str
    resolved_model: str | None
    engine_kind: str | None
    model_id: str | None
    model_version: str | None
    asked: dict[str, Any]
    """The stored form of ``spec`` (the row's params column)."""
    status: str
    error: str | None
    route_reason: str | None
    fallback_of: str | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    latency_ms: float | None
    cost_usd: float | None
    cost_estimated: bool
    receipt_data: dict[str, Any]
    """The stored form of ``receipt`` (empty until the run finished)."""
    assets: tuple[AssetRef, ...] = ()
    validations: tuple[ValidationResult, ...] = ()
    author: str | None = None
    """The database role that asked for it (team databases; None on SQLite)."""

    @cached_property
    def spec(self) -> GenerationSpec:
        """What was asked (``None`` fields: the model's defaults)."""
        from chatimg.spec import GenerationSpec

        return GenerationSpec.from_stored(self.asked, lenient=True)

    @cached_property
    def receipt(self) -> Receipt | None:
        """What ran, once the generation finished (None before, and for failures)."""
        from chatimg.spec import Receipt

        return Receipt.from_stored(self.receipt_data)

    @property
    def ran(self) -> GenerationSpec:
        """The spec that ran (defaults filled, seed chosen), else the one asked."""
        receipt = self.receipt
        return receipt.run_spec if receipt is not None else self.spec

    @property
    def params(self) -> dict[str, Any]:
        """``ran`` as JSON, for display and ``--json``."""
        return self.ran.stored()

    @property
    def model(self) -> str:
        """The model that ran (or was asked for, when routing never picked one)."""
        return self.resolved_model or self.requested_model


@dataclass(frozen=True)
class Message:
    """A message and the generations made for it."""

    id: str
    conversation_id: str
    parent_id: str | None
    role: str
    text: str
    model: str | None
    params: dict[str, Any]
    created_at: datetime
    generations: tuple[Generation, ...] = ()
    author: str | None = None
    """The database role that wrote it (team databases; None on SQLite)."""


@dataclass(frozen=True)
class Pick:
    """A winner chosen in a comparison of images."""

    id: str
    conversation_id: str
    generation_ids: tuple[str, ...]
    winner_id: str
    picked_by: str | None
    created_at: datetime
    winner_image: int = 0
    """Which image of the winner won (index from 0)."""
    images: tuple[int, ...] = ()
    """The compared image of each of ``generation_ids`` (empty: their first images)."""


@dataclass(frozen=True)
class Thread:
    """A conversation with its messages in order."""

    conversation: Conversation
    messages: tuple[Message, ...]
    picks: tuple[Pick, ...] = ()
    earlier: int = 0
    """How many of the conversation's messages come before ``messages`` and were not loaded
    (a window of a long thread; 0 when loaded whole)."""
    parents: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Branch parents of ``messages`` that are not among them: id → (1-based place in the
    conversation, text)."""


@dataclass(frozen=True)
class SearchHit:
    """A search result: a conversation and the message that matched (if any)."""

    conversation_id: str
    conversation_title: str
    message_id: str | None
    snippet: str
    created_at: datetime


def to_jsonable(value: Any) -> Any:
    """Records → JSON-ready dicts (datetimes as ISO strings, tuples as lists)."""
    if isinstance(value, Generation):
        data = {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
        data["params"] = value.params
        data["receipt"] = data.pop("receipt_data")
        return data
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
