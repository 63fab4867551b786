"""Team mode: conversation owner and visibility, authors on messages, generations and assets;
on PostgreSQL also the row-level security policies (enabled by ``chatimg team init``) and the
change notifications (``LISTEN chatimg_team``) behind live updates.

SQLite gets the columns only: it is single-user, so there is nothing to enforce or notify.

Revision ID: 0004_team_mode_authorship
Revises: 0003_generation_owner_and_checks
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_team_mode_authorship"
down_revision = "0003_generation_owner_and_checks"
branch_labels = None
depends_on = None

#: Tables with an author column (who wrote the row: the database role, ``current_user``).
_AUTHORED = ("message", "generation", "asset")

#: A conversation the current role owns, seen from a row holding ``conversation_id``.
_OWN_CONVERSATION = (
    "EXISTS (SELECT 1 FROM conversation c WHERE c.id = {table}.conversation_id "
    "AND c.owner = current_user)"
)
#: ... from a row holding ``message_id``.
_OWN_MESSAGE = (
    "EXISTS (SELECT 1 FROM message m JOIN conversation c ON c.id = m.conversation_id "
    "WHERE m.id = {table}.message_id AND c.owner = current_user)"
)
#: ... from a row holding ``generation_id``.
_OWN_GENERATION = (
    "EXISTS (SELECT 1 FROM generation g JOIN message m ON m.id = g.message_id "
    "JOIN conversation c ON c.id = m.conversation_id "
    "WHERE g.id = {table}.generation_id AND c.owner = current_user)"
)

#: table -> (who may read, who may write). The read conditions look the parent row up through
#: its own policy, so a child is visible exactly when its conversation is.
POLICIES: dict[str, tuple[str, str]] = {
    "conversation": ("owner = current_user OR visibility = 'team'", "owner = current_user"),
    "message": (
        "EXISTS (SELECT 1 FROM conversation c WHERE c.id = message.conversation_id)",
        _OWN_CONVERSATION.format(table="message"),
    ),
    "pick": (
        "EXISTS (SELECT 1 FROM conversation c WHERE c.id = pick.conversation_id)",
        _OWN_CONVERSATION.format(table="pick"),
    ),
    "generation": (
        "EXISTS (SELECT 1 FROM message m WHERE m.id = generation.message_id)",
        _OWN_MESSAGE.format(table="generation"),
    ),
    "generation_asset": (
        "EXISTS (SELECT 1 FROM generation g WHERE g.id = generation_asset.generation_id)",
        _OWN_GENERATION.format(table="generation_asset"),
    ),
    "validation": (
        "generation_id IS NULL OR EXISTS (SELECT 1 FROM generation g "
        "WHERE g.id = validation.generation_id)",
        "generation_id IS NULL OR " + _OWN_GENERATION.format(table="validation"),
    ),
    "asset": (
        "author = current_user OR EXISTS (SELECT 1 FROM generation_asset ga "
        "WHERE ga.asset_sha256 = asset.sha256)",
        "author = current_user",
    ),
}

#: Extra checks on rows written: they carry the writer's name.
_WRITE_CHECKS = {"message": "author = current_user", "generation": "author = current_user"}

_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION chatimg_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    conversation_id text;
    visible text;
    owned_by text;
    payload text;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    IF TG_TABLE_NAME = 'conversation' THEN
        conversation_id := changed.id;
        visible := changed.visibility;
        owned_by := changed.owner;
        IF TG_OP = 'UPDATE' AND OLD.visibility = 'team' THEN
            visible := 'team';
        END IF;
    ELSE
        IF TG_TABLE_NAME = 'message' THEN
            conversation_id := changed.conversation_id;
        ELSE
            SELECT m.conversation_id INTO conversation_id FROM message m
                WHERE m.id = changed.message_id;
        END IF;
        SELECT c.visibility, c.owner INTO visible, owned_by FROM conversation c
            WHERE c.id = conversation_id;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    payload := json_build_object('kind', TG_TABLE_NAME, 'conversation', conversation_id)::text;
    IF visible = 'team' THEN
        PERFORM pg_notify('chatimg_team', payload);
    END IF;
    IF owned_by IS NOT NULL THEN
        PERFORM pg_notify('chatimg_user_' || md5(owned_by), payload);
    END IF;
    RETURN NULL;
END
$$
"""

_TRIGGERS = {
    "conversation_notify": "AFTER INSERT OR UPDATE OR DELETE ON conversation",
    "message_notify": "AFTER INSERT OR UPDATE OR DELETE ON message",
    "generation_notify_row": "AFTER INSERT OR DELETE ON generation",
    "generation_notify_status": (
        "AFTER UPDATE ON generation FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.checks_state IS DISTINCT FROM NEW.checks_state)"
    ),
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    by_role = sa.text("current_user") if postgres else None
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("owner", sa.String(63), nullable=True, server_default=by_role))
        batch.add_column(sa.Column("visibility", sa.String(10), nullable=False,
                                   server_default="private"))
    for table in _AUTHORED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("author", sa.String(63), nullable=True,
                                       server_default=by_role))
    if not postgres:
        return
    op.create_check_constraint("ck_conversation_visibility", "conversation",
                               "visibility IN ('private', 'team')")
    for table, (read, write) in POLICIES.items():
        check = write + (f" AND {_WRITE_CHECKS[table]}" if table in _WRITE_CHECKS else "")
        op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({read})")
        op.execute(f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({check})")
        op.execute(f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({write}) "
                   f"WITH CHECK ({check})")
        op.execute(f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({write})")
    op.execute(_NOTIFY_FUNCTION)
    for name, when in _TRIGGERS.items():
        each = "" if "FOR EACH ROW" in when else " FOR EACH ROW"
        op.execute(f"CREATE TRIGGER {name} {when}{each} EXECUTE FUNCTION chatimg_notify_change()")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for name, when in _TRIGGERS.items():
            table = when.split(" ON ")[1].split()[0]
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS chatimg_notify_change()")
        for table in POLICIES:
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
            for action in ("read", "insert", "update", "delete"):
                op.execute(f"DROP POLICY IF EXISTS {table}_{action} ON {table}")
        op.drop_constraint("ck_conversation_visibility", "conversation", type_="check")
    # Plain ALTER TABLE (SQLite 3.35+ too): a batch copy of ``message`` would lose the
    # full-text triggers that live on it.
    for table in reversed(_AUTHORED):
        op.execute(f"ALTER TABLE {table} DROP COLUMN author")
    op.execute("ALTER TABLE conversation DROP COLUMN visibility")
    op.execute("ALTER TABLE conversation DROP COLUMN owner")
