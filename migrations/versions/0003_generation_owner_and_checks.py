"""Who runs a generation (host, pid, process start) and whether its checks still have to run.

Revision ID: 0003_generation_owner_and_checks
Revises: 0002_bench_and_versions
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_generation_owner_and_checks"
down_revision = "0002_bench_and_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation") as batch:
        batch.add_column(sa.Column("owner_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("owner_start", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("checks_state", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation") as batch:
        batch.drop_column("checks_state")
        batch.drop_column("owner_start")
        batch.drop_column("owner_pid")
        batch.drop_column("owner_host")
