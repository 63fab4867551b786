"""Bench runs and their results; model versions and their validation state.

Revision ID: 0002_bench_and_versions
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_bench_and_versions"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "bench_run",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("prompts_name", sa.String(500), nullable=False),
        sa.Column("prompts_sha256", sa.String(64), nullable=False),
        sa.Column("prompt_count", sa.Integer(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("seeds", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(26), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        _ts("created_at", False),
        _ts("finished_at", True),
        sa.PrimaryKeyConstraint("id", name="pk_bench_run"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversation.id"], ondelete="SET NULL",
            name="fk_bench_run_conversation_id_conversation",
        ),
    )
    op.create_index("ix_bench_run_created_at", "bench_run", ["created_at"])

    op.create_table(
        "bench_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=True),
        sa.Column("prompt_index", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("generation_id", sa.String(26), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("cer", sa.Float(), nullable=True),
        sa.Column("checks_passed", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bench_result"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["bench_run.id"], ondelete="CASCADE",
            name="fk_bench_result_run_id_bench_run",
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"], ["generation.id"], ondelete="SET NULL",
            name="fk_bench_result_generation_id_generation",
        ),
    )
    op.create_index("ix_bench_result_run_id", "bench_result", ["run_id"])
    op.create_index("ix_bench_result_model", "bench_result", ["model"])

    op.create_table(
        "model_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        _ts("first_seen", False),
        _ts("validated_at", True),
        sa.Column("validated_by", sa.String(26), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_version"),
        sa.UniqueConstraint("model", "version", name="uq_model_version_model"),
        sa.ForeignKeyConstraint(
            ["validated_by"], ["bench_run.id"], ondelete="SET NULL",
            name="fk_model_version_validated_by_bench_run",
        ),
    )


def downgrade() -> None:
    op.drop_table("model_version")
    op.drop_index("ix_bench_result_model", table_name="bench_result")
    op.drop_index("ix_bench_result_run_id", table_name="bench_result")
    op.drop_table("bench_result")
    op.drop_index("ix_bench_run_created_at", table_name="bench_run")
    op.drop_table("bench_run")
