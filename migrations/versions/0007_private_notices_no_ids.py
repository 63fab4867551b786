"""Private change notices no longer name the conversation.

Revision 0004 announced a private conversation's changes on ``chatimg_user_<md5(owner)>`` with
the conversation's id. Any role may ``LISTEN`` on any channel, and the channel name is derived
from the owner's name, so a teammate could learn the ids (never the contents) of someone
else's private conversations and when they change. From here the per-person notice carries
only the kind of change; the owner's app refreshes what it shows, reading through row-level
security as always. Team-visible changes still name their conversation on the team channel.

Revision ID: 0007_private_notices_no_ids
Revises: 0006_pick_images
Create Date: 2026-11-30
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0007_private_notices_no_ids"
down_revision = "0006_pick_images"
branch_labels = None
depends_on = None

_PRIVATE_NOTICE_BEFORE = "PERFORM pg_notify('chatimg_user_' || md5(owned_by), payload);"
_PRIVATE_NOTICE_AFTER = (
    "PERFORM pg_notify('chatimg_user_' || md5(owned_by), "
    "json_build_object('kind', TG_TABLE_NAME)::text);"
)


def _team_mode_revision() -> ModuleType:
    """Revision 0004's module, whose trigger function this one amends (one SQL text, not two)."""
    path = Path(__file__).with_name("0004_team_mode_authorship.py")
    spec = importlib.util.spec_from_file_location("chatimg_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _function(private_notice: str) -> str:
    text = str(_team_mode_revision()._NOTIFY_FUNCTION)
    assert _PRIVATE_NOTICE_BEFORE in text, "revision 0004's notify function changed"
    return text.replace(_PRIVATE_NOTICE_BEFORE, private_notice)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(_PRIVATE_NOTICE_AFTER))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(_PRIVATE_NOTICE_BEFORE))
