"""Team mode on PostgreSQL: group roles, people's login roles, and row-level security switched on.

The policies themselves are schema (migration ``0004_team_mode_authorship``): a person reads
their own and team-visible conversations with everything in them, and writes only their own.
``init`` creates the three group roles, grants them the tables and turns the policies on
(``ENABLE`` and ``FORCE``, so they bind the tables' owner too); ``add_user`` creates one login
role per person in a group. Passwords are hashed by libpq on this machine (SCRAM-SHA-256), so
the server, its logs and chatimg's own never see them in clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from chatimg.errors import ConfigError, InvalidRequestError, StoreError
from chatimg.store.database import Database

#: A person's role in the team -> the PostgreSQL group role that carries its privileges.
GROUPS = {"viewer": "chatimg_viewer", "editor": "chatimg_editor", "admin": "chatimg_admin"}
#: Tables under row-level security (each has policies in the migration).
SECURED = ("conversation", "message", "pick", "generation", "generation_asset", "validation",
           "asset")
#: Tables shared by the whole team without per-row rules (benchmarks, model versions).
SHARED = ("bench_run", "bench_result", "model_version")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Member:
    """A login role of the team."""

    name: str
    role: str
    """``viewer``, ``editor`` or ``admin``."""


def _require_postgres(database: Database) -> None:
    if database.backend != "postgresql":
        raise ConfigError("team mode needs a PostgreSQL database",
                          "set database_url = \"postgresql+psycopg://you@host/chatimg\"")


def _quote(connection: sa.Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def is_enabled(database: Database) -> bool:
    """Whether row-level security is on (``team init`` ran); False on SQLite."""
    if database.backend != "postgresql":
        return False
    with database.engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass('conversation')"
        ).scalar()
    return bool(found)


def init(database: Database) -> int:
    """Create the group roles, grant them the tables and turn row-level security on.

    Safe to run again. Rows written before (no owner or author) become the caller's.
    Must run as the role that owns the tables (the one that ran the migrations) and may
    create roles.

    Returns:
        How many conversations were given to the caller.

    Raises:
        ConfigError: not PostgreSQL.
        StoreError: the caller may not create roles or does not own the tables.
    """
    _require_postgres(database)
    database.ensure_current()
    with database._guard(), database.engine.begin() as connection:
        viewer, editor, admin = (_quote(connection, GROUPS[r]) for r in GROUPS)
        for group in GROUPS.values():
            connection.exec_driver_sql(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                f"'{group}') THEN CREATE ROLE {_quote(connection, group)} NOLOGIN; "
                "END IF; END $$"
            )
        schema = _quote(connection, str(connection.exec_driver_sql(
            "SELECT current_schema()").scalar()))
        every = ", ".join((*SECURED, *SHARED))
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {viewer}, {editor}, "
                                   f"{admin}")
        connection.exec_driver_sql(f"GRANT SELECT ON {every}, alembic_version TO {viewer}")
        connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {every} "
                                   f"TO {editor}, {admin}")
        connection.exec_driver_sql(f"GRANT SELECT ON alembic_version TO {editor}, {admin}")
        connection.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} "
                                   f"TO {editor}, {admin}")
        adopted = connection.exec_driver_sql(
            "UPDATE conversation SET owner = current_user WHERE owner IS NULL"
        ).rowcount
        for table in ("message", "generation", "asset"):
            connection.exec_driver_sql(
                f"UPDATE {table} SET author = current_user WHERE author IS NULL")
        for table in SECURED:
            connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            connection.exec_driver_sql(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    return int(adopted or 0)


def check_name(name: str) -> None:
    """Refuse a user name that is not a plain lower-case identifier (or is reserved).

    Raises:
        InvalidRequestError: it cannot be a team member's role name.
    """
    if not _NAME.match(name) or name.startswith("pg_") or name in GROUPS.values():
        raise InvalidRequestError(f"{name!r} cannot be a user name",
                                  "use lower-case letters, digits and underscores")


def add_user(database: Database, name: str, role: str, password: str | None) -> None:
    """Create (or update) a person's login role in the group for ``role``.

    Args:
        database: The team database (connected as an admin).
        name: The login name (lower-case letters, digits, underscores).
        role: ``viewer``, ``editor`` or ``admin`` (admins may add people too).
        password: Their password, or None to log in without one (trust or peer auth).

    Raises:
        InvalidRequestError: a bad name or role.
        StoreError: the caller may not create roles.
    """
    _require_postgres(database)
    if role not in GROUPS:
        raise InvalidRequestError(f"role {role!r} is not one of " + ", ".join(GROUPS))
    check_name(name)
    with database._guard(), database.engine.begin() as connection:
        user = _quote(connection, name)
        secret = "NULL"
        if password is not None:
            raw = connection.connection.driver_connection
            hashed = raw.pgconn.encrypt_password(  # type: ignore[union-attr]
                password.encode("utf-8"), name.encode("utf-8"), b"scram-sha-256")
            secret = "'" + hashed.decode("ascii").replace("'", "''") + "'"
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %(name)s", {"name": name}).first()
        verb = "ALTER" if exists else "CREATE"
        extra = " CREATEROLE" if role == "admin" else " NOCREATEROLE"
        connection.exec_driver_sql(f"{verb} ROLE {user} LOGIN{extra} PASSWORD {secret}")
        for group in GROUPS.values():
            connection.exec_driver_sql(f"REVOKE {_quote(connection, group)} FROM {user}")
        groups = [GROUPS[role]] if role != "admin" else list(GROUPS.values())
        option = " WITH ADMIN OPTION" if role == "admin" else ""
        connection.exec_driver_sql(
            f"GRANT {', '.join(_quote(connection, g) for g in groups)} TO {user}{option}")


def members(database: Database) -> list[Member]:
    """Every login role in a team group, by name (the highest role each holds)."""
    _require_postgres(database)
    order = {group: index for index, group in enumerate(GROUPS.values())}
    found: dict[str, str] = {}
    try:
        with database.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT r.rolname, g.rolname FROM pg_auth_members m "
                "JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid "
                "WHERE g.rolname IN ('chatimg_viewer', 'chatimg_editor', 'chatimg_admin') "
                "AND r.rolcanlogin"
            ).all()
    except sa.exc.DatabaseError as exc:
        raise StoreError(f"cannot list the team: {exc.orig}") from None
    for name, group in rows:
        if name not in found or order[group] > order[found[name]]:
            found[name] = group
    by_group = {group: role for role, group in GROUPS.items()}
    return [Member(name, by_group[found[name]]) for name in sorted(found)]
