"""SQLModel tables. Alembic (``migrations/``) owns the schema; these classes describe it.

Widgets and the CLI never see these rows: the repository converts them to domain records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

#: Generation statuses.
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
#: Who may read a conversation on a team database: its owner only, or the whole team.
VISIBILITIES = ("private", "team")


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


def _ts(**kwargs: Any) -> Any:
    return sa.Column(sa.DateTime(timezone=True), **kwargs)


class ConversationRow(SQLModel, table=True):
    """A conversation: a thread of messages."""

    __tablename__ = "conversation"

    id: str = Field(primary_key=True, max_length=26)
    title: str = Field(default="", max_length=500)
    default_model: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    updated_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    owner: str | None = Field(default=None, max_length=63)
    """The database role that owns it (PostgreSQL fills in ``current_user``; None on SQLite)."""
    visibility: str = Field(default="private", max_length=10)
    """``private`` (the owner only) or ``team`` (every role of the team may read it)."""


class MessageRow(SQLModel, table=True):
    """A message; ``parent_id`` lets a message branch from an earlier one."""

    __tablename__ = "message"

    id: str = Field(primary_key=True, max_length=26)
    conversation_id: str = Field(
        sa_column=sa.Column(
            sa.String(26),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    parent_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("message.id", ondelete="SET NULL"), nullable=True
        ),
    )
    role: str = Field(default="user", max_length=20)
    text: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    model: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    author: str | None = Field(default=None, max_length=63)
    """The database role that wrote it (``current_user`` on PostgreSQL; None on SQLite)."""


class GenerationRow(SQLModel, table=True):
    """One run of one model for one message, with everything needed to reproduce it."""

    __tablename__ = "generation"

    id: str = Field(primary_key=True, max_length=26)
    message_id: str = Field(
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("message.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    requested_model: str = Field(max_length=200)
    resolved_model: str | None = Field(default=None, max_length=200)
    engine_kind: str | None = Field(default=None, max_length=50)
    model_id: str | None = Field(default=None, max_length=500)
    model_version: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    status: str = Field(default="queued", max_length=20, index=True)
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    route_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    fallback_of: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("generation.id", ondelete="SET NULL"), nullable=True
        ),
    )
    queued_at: datetime = Field(sa_column=_ts(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    latency_ms: float | None = None
    cost_usd: float | None = None
    cost_estimated: bool = True
    receipt: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    owner_host: str | None = Field(default=None, max_length=255)
    """The host of the process that runs (or ran) it; with pid and start, tells a live run."""
    owner_pid: int | None = None
    owner_start: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, nullable=True)
    )
    """The owner process's start time in clock ticks since boot (0 when unknown)."""
    checks_state: str | None = Field(default=None, max_length=20)
    """``pending`` from success until the checks are stored, then ``done``; None: no checks."""
    author: str | None = Field(default=None, max_length=63)
    """The database role that asked for it (``current_user`` on PostgreSQL; None on SQLite)."""


class AssetRow(SQLModel, table=True):
    """An image file in the content-addressed store."""

    __tablename__ = "asset"

    sha256: str = Field(primary_key=True, max_length=64)
    mime: str = Field(max_length=50)
    width: int
    height: int
    bytes: int
    path: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    author: str | None = Field(default=None, max_length=63)
    """The role that stored it first (PostgreSQL); others see it through their own links."""


def insert_asset(session: Any, **values: Any) -> None:
    """Insert an ``asset`` row unless one with that sha256 exists, in one statement.

    Safe when another process inserts the same image at the same moment (``ON CONFLICT DO
    NOTHING`` on SQLite and PostgreSQL), unlike a read followed by an insert.

    Args:
        session: An open write session.
        **values: The row's columns (sha256, mime, width, height, bytes, path, created_at).
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(AssetRow).values(**values).on_conflict_do_nothing(index_elements=["sha256"])
    )


class GenerationAssetRow(SQLModel, table=True):
    """Links a generation to the images it produced, in order, with the seed actually used."""

    __tablename__ = "generation_asset"

    generation_id: str = Field(
        sa_column=sa.Column(
            sa.String(26),
            sa.ForeignKey("generation.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    index: int = Field(primary_key=True)
    asset_sha256: str = Field(
        sa_column=sa.Column(
            sa.String(64), sa.ForeignKey("asset.sha256"), nullable=False, index=True
        )
    )
    seed: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    revised_prompt: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class ValidationRow(SQLModel, table=True):
    """The result of one check on one image."""

    __tablename__ = "validation"

    id: int | None = Field(default=None, primary_key=True)
    asset_sha256: str = Field(
        sa_column=sa.Column(
            sa.String(64), sa.ForeignKey("asset.sha256"), nullable=False, index=True
        )
    )
    generation_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("generation.id", ondelete="CASCADE"), nullable=True,
            index=True,
        ),
    )
    check_name: str = Field(max_length=100)
    check_version: str = Field(max_length=50)
    passed: bool
    score: float | None = None
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class PickRow(SQLModel, table=True):
    """A comparison's images (generations and, since 0004, which image of each) and the
    chosen winner."""

    __tablename__ = "pick"

    id: str = Field(primary_key=True, max_length=26)
    conversation_id: str = Field(
        sa_column=sa.Column(
            sa.String(26),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    generation_ids: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    winner_id: str = Field(
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("generation.id", ondelete="CASCADE"), nullable=False
        )
    )
    picked_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    winner_image: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    """Which image of the winner won (index from 0); NULL: its first (picks made before
    images were compared one by one)."""
    images: list[int] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(none_as_null=True), nullable=True))
    """The compared image of each of ``generation_ids`` (index from 0); NULL: first images."""


class BenchRunRow(SQLModel, table=True):
    """One ``chatimg bench`` run: prompts by models by seeds, and its per-model summary."""

    __tablename__ = "bench_run"

    id: str = Field(primary_key=True, max_length=26)
    prompts_name: str = Field(max_length=500)
    prompts_sha256: str = Field(max_length=64)
    prompt_count: int
    models: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    seeds: int
    conversation_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("conversation.id", ondelete="SET NULL"), nullable=True
        ),
    )
    summary: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    created_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class BenchResultRow(SQLModel, table=True):
    """One prompt, model and seed of a bench run."""

    __tablename__ = "bench_result"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "model", "prompt_index", "seed", name="uq_bench_result_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("bench_run.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    model: str = Field(max_length=200, index=True)
    model_version: str | None = Field(default=None, max_length=200)
    prompt_index: int
    seed: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    generation_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("generation.id", ondelete="SET NULL"), nullable=True
        ),
    )
    status: str = Field(max_length=20)
    latency_ms: float | None = None
    cost_usd: float | None = None
    cer: float | None = None
    checks_passed: bool | None = None


class ModelVersionRow(SQLModel, table=True):
    """A version of a catalog model seen on this install, and whether a bench run validated it."""

    __tablename__ = "model_version"
    __table_args__ = (sa.UniqueConstraint("model", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    model: str = Field(max_length=200)
    version: str = Field(max_length=200)
    first_seen: datetime = Field(sa_column=_ts(nullable=False))
    validated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    validated_by: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(26), sa.ForeignKey("bench_run.id", ondelete="SET NULL"), nullable=True
        ),
    )
