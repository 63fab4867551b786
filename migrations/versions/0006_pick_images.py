"""Picks address images: which image of each compared generation, and of the winner.

Both columns are NULL for picks made before (they compared first images), so those rows read
exactly as they did.

Revision ID: 0006_pick_images
Revises: 0005_bench_result_key
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pick_images"
down_revision = "0005_bench_result_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pick") as batch:
        batch.add_column(sa.Column("winner_image", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("images", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pick") as batch:
        batch.drop_column("images")
        batch.drop_column("winner_image")
