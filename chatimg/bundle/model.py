"""The bundle manifest as a typed model: the same shape and limits as ``manifest.schema.json``.

The JSON Schema ships for other tools (and is what import validates with); this model is the
same contract for Python readers: ``Manifest.model_validate(json.loads(text))`` gives typed
objects. ``tests/bundle/test_manifest_model.py`` keeps the two in step: the same members and
required lists, the members of ``chatimg.store.bundle_rows.FIELDS``, and the same verdict on
hundreds of altered manifests. Objects may carry extra members, which this version ignores.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _integral(value: Any) -> Any:
    """JSON Schema counts ``5.0`` as an integer; so does the model (and only such floats)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Integral = BeforeValidator(_integral)
Id = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, Field(max_length=200)]
Timestamp = Annotated[str, Field(
    max_length=64,
    pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})$",
)]
Seed = Annotated[int, Integral, Field(ge=-(2**63), le=2**63 - 1)]
Amount = Annotated[float, Field(ge=0, le=1e15)]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
Mime = Literal["image/png", "image/jpeg", "image/webp", "image/gif"]
Many = 1_000_000


class _Part(BaseModel):
    """Strict (no coercion: ``"1"`` is not an integer), extra members allowed and ignored."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class Conversation(_Part):
    """The exported conversation."""

    id: Id
    title: Annotated[str, Field(max_length=500)]
    default_model: Name | None
    created_at: Timestamp
    updated_at: Timestamp


class Message(_Part):
    """One message; ``parent_id`` makes branches."""

    id: Id
    conversation_id: Id
    parent_id: Id | None
    role: Annotated[str, Field(min_length=1, max_length=20)]
    text: str
    model: Name | None
    params: dict[str, Any]
    created_at: Timestamp


class Image(_Part):
    """One output image of a generation."""

    index: Annotated[int, Integral, Field(ge=0, le=100_000)]
    sha256: Sha256
    seed: Seed | None
    revised_prompt: str | None


class Generation(_Part):
    """One run of a message on one model, with its receipt (what ran)."""

    id: Id
    message_id: Id
    requested_model: Name
    resolved_model: Name | None
    engine_kind: Annotated[str, Field(max_length=50)] | None
    model_id: Annotated[str, Field(max_length=500)] | None
    model_version: Name | None
    params: dict[str, Any]
    status: Status
    error: str | None
    route_reason: str | None
    fallback_of: Id | None
    queued_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    latency_ms: Amount | None
    cost_usd: Amount | None
    cost_estimated: bool
    receipt: dict[str, Any]
    images: Annotated[list[Image], Field(max_length=10_000)]


class Asset(_Part):
    """One image file in the bundle, at ``path``."""

    sha256: Sha256
    path: Annotated[str, Field(pattern=r"^assets/[0-9a-f]{64}\.(png|jpg|webp|gif)$")]
    mime: Mime
    width: Annotated[int, Integral, Field(ge=1, le=65535)]
    height: Annotated[int, Integral, Field(ge=1, le=65535)]
    bytes: Annotated[int, Integral, Field(ge=1, le=2_147_483_647)]


class Validation(_Part):
    """One check result on an image."""

    asset_sha256: Sha256
    generation_id: Id | None
    name: Annotated[str, Field(min_length=1, max_length=100)]
    version: Annotated[str, Field(max_length=50)]
    passed: bool
    score: Annotated[float, Field(ge=-1e15, le=1e15)] | None
    details: dict[str, Any]


class Pick(_Part):
    """A comparison's images (generations, and which image of each) and its winner."""

    id: Id
    conversation_id: Id
    generation_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]
    winner_id: Id
    picked_by: Name | None
    created_at: Timestamp
    winner_image: Annotated[int, Integral, Field(ge=0, le=100_000)] | None = None
    """Which image of the winner won (from 0); absent: its first (bundles before images)."""
    images: Annotated[list[Annotated[int, Integral, Field(ge=0, le=100_000)]],
                      Field(min_length=1, max_length=1000)] | None = None
    """The compared image of each of ``generation_ids``; absent: first images."""


class Manifest(_Part):
    """``manifest.json``: a whole conversation, version 1."""

    format: Literal["chatimg.bundle"]
    version: Annotated[Literal[1], Integral]
    app_version: Name
    exported_at: Timestamp
    conversation: Conversation
    messages: Annotated[list[Message], Field(max_length=Many)]
    generations: Annotated[list[Generation], Field(max_length=Many)]
    assets: Annotated[list[Asset], Field(max_length=Many)]
    validations: Annotated[list[Validation], Field(max_length=Many)]
    picks: Annotated[list[Pick], Field(max_length=Many)]


#: Manifest object name (as in ``bundle_rows.FIELDS``) -> its model.
PARTS: dict[str, type[BaseModel]] = {
    "conversation": Conversation, "message": Message, "generation": Generation,
    "image": Image, "asset": Asset, "validation": Validation, "pick": Pick,
}
