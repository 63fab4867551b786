"""One stored result per bench run, model, prompt and seed, so a resumed run never repeats one.

Revision ID: 0005_bench_result_key
Revises: 0004_team_mode_authorship
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005_bench_result_key"
down_revision = "0004_team_mode_authorship"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bench_result") as batch:
        batch.create_unique_constraint(
            "uq_bench_result_key", ["run_id", "model", "prompt_index", "seed"])


def downgrade() -> None:
    with op.batch_alter_table("bench_result") as batch:
        batch.drop_constraint("uq_bench_result_key", type_="unique")
