"""Initial schema: conversations, messages, generations, assets, validations, picks, prompt search.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("default_model", sa.String(200), nullable=True),
        _ts("created_at", False),
        _ts("updated_at", False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation"),
    )
    op.create_index("ix_conversation_updated_at", "conversation", ["updated_at"])

    op.create_table(
        "message",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("conversation_id", sa.String(26), nullable=False),
        sa.Column("parent_id", sa.String(26), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        _ts("created_at", False),
        sa.PrimaryKeyConstraint("id", name="pk_message"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversation.id"], ondelete="CASCADE",
            name="fk_message_conversation_id_conversation",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["message.id"], ondelete="SET NULL",
            name="fk_message_parent_id_message",
        ),
    )
    op.create_index("ix_message_conversation_id", "message", ["conversation_id"])

    op.create_table(
        "generation",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("message_id", sa.String(26), nullable=False),
        sa.Column("requested_model", sa.String(200), nullable=False),
        sa.Column("resolved_model", sa.String(200), nullable=True),
        sa.Column("engine_kind", sa.String(50), nullable=True),
        sa.Column("model_id", sa.String(500), nullable=True),
        sa.Column("model_version", sa.String(200), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("route_reason", sa.Text(), nullable=True),
        sa.Column("fallback_of", sa.String(26), nullable=True),
        _ts("queued_at", False),
        _ts("started_at", True),
        _ts("finished_at", True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("cost_estimated", sa.Boolean(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_generation"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], ondelete="CASCADE",
            name="fk_generation_message_id_message",
        ),
        sa.ForeignKeyConstraint(
            ["fallback_of"], ["generation.id"], ondelete="SET NULL",
            name="fk_generation_fallback_of_generation",
        ),
    )
    op.create_index("ix_generation_message_id", "generation", ["message_id"])
    op.create_index("ix_generation_status", "generation", ["status"])

    op.create_table(
        "asset",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mime", sa.String(50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        _ts("created_at", False),
        sa.PrimaryKeyConstraint("sha256", name="pk_asset"),
    )

    op.create_table(
        "generation_asset",
        sa.Column("generation_id", sa.String(26), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("asset_sha256", sa.String(64), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("revised_prompt", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("generation_id", "index", name="pk_generation_asset"),
        sa.ForeignKeyConstraint(
            ["generation_id"], ["generation.id"], ondelete="CASCADE",
            name="fk_generation_asset_generation_id_generation",
        ),
        sa.ForeignKeyConstraint(
            ["asset_sha256"], ["asset.sha256"],
            name="fk_generation_asset_asset_sha256_asset",
        ),
    )
    op.create_index("ix_generation_asset_asset_sha256", "generation_asset", ["asset_sha256"])

    op.create_table(
        "validation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_sha256", sa.String(64), nullable=False),
        sa.Column("generation_id", sa.String(26), nullable=True),
        sa.Column("check_name", sa.String(100), nullable=False),
        sa.Column("check_version", sa.String(50), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _ts("created_at", False),
        sa.PrimaryKeyConstraint("id", name="pk_validation"),
        sa.ForeignKeyConstraint(
            ["asset_sha256"], ["asset.sha256"], name="fk_validation_asset_sha256_asset"
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"], ["generation.id"], ondelete="CASCADE",
            name="fk_validation_generation_id_generation",
        ),
    )
    op.create_index("ix_validation_asset_sha256", "validation", ["asset_sha256"])
    op.create_index("ix_validation_generation_id", "validation", ["generation_id"])

    op.create_table(
        "pick",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("conversation_id", sa.String(26), nullable=False),
        sa.Column("generation_ids", sa.JSON(), nullable=False),
        sa.Column("winner_id", sa.String(26), nullable=False),
        sa.Column("picked_by", sa.String(200), nullable=True),
        _ts("created_at", False),
        sa.PrimaryKeyConstraint("id", name="pk_pick"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversation.id"], ondelete="CASCADE",
            name="fk_pick_conversation_id_conversation",
        ),
        sa.ForeignKeyConstraint(
            ["winner_id"], ["generation.id"], ondelete="CASCADE",
            name="fk_pick_winner_id_generation",
        ),
    )
    op.create_index("ix_pick_conversation_id", "pick", ["conversation_id"])

    _create_search()


def _create_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5 index over message.text, kept in sync by triggers.
        op.execute(
            "CREATE VIRTUAL TABLE message_fts USING fts5("
            "text, content='message', content_rowid='rowid', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
            "INSERT INTO message_fts(rowid, text) VALUES (new.rowid, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN "
            "INSERT INTO message_fts(message_fts, rowid, text) "
            "VALUES ('delete', old.rowid, old.text); END"
        )
        op.execute(
            "CREATE TRIGGER message_fts_au AFTER UPDATE OF text ON message BEGIN "
            "INSERT INTO message_fts(message_fts, rowid, text) "
            "VALUES ('delete', old.rowid, old.text); "
            "INSERT INTO message_fts(rowid, text) VALUES (new.rowid, new.text); END"
        )
    else:
        op.execute(
            "CREATE INDEX ix_message_text_fts ON message "
            "USING gin (to_tsvector('simple', text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("message_fts_ai", "message_fts_ad", "message_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS message_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_text_fts")
    for table in ("pick", "validation", "generation_asset", "asset", "generation", "message",
                  "conversation"):
        op.drop_table(table)
