"""The database: engine with the right SQLite pragmas, sessions, and Alembic migrations."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from chatimg import paths
from chatimg.errors import StoreError

BUSY_TIMEOUT_MS = 30_000


def default_url() -> str:
    """SQLite in the data dir."""
    return f"sqlite:///{paths.database_file()}"


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Write transactions take the write lock up front so busy_timeout applies to them
        # (a deferred read that later upgrades to a write fails at once with "locked").
        if connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """Owns the SQLAlchemy engine for one database URL.

    Args:
        url: SQLAlchemy URL; default SQLite in the data dir.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                self.sqlite_path: Path | None = Path(database)
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            else:
                self.sqlite_path = None
            self.engine = sa.create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
                poolclass=sa.pool.QueuePool if self.sqlite_path else sa.pool.StaticPool,
            )
            _install_sqlite_pragmas(self.engine)
        else:
            self.sqlite_path = None
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        self._write_engine = self.engine.execution_options(sqlite_immediate=True)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def display_url(self) -> str:
        """The URL with any password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading."""
        with self._guard(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with (
            self._guard(),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (sa.exc.DatabaseError, sqlite3.DatabaseError) as exc:
            raise _store_error(exc, self) from None

    # -- migrations ---------------------------------------------------------------------------

    def alembic_config(self) -> Any:
        """An Alembic ``Config`` for this database (no alembic.ini needed)."""
        from alembic.config import Config

        from chatimg.resources import resource_dir

        config = Config()
        config.set_main_option("script_location", str(resource_dir("migrations")))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Migrate to ``revision`` (default: the newest)."""
        from alembic import command

        with self._guard():
            command.upgrade(self.alembic_config(), revision)

    def downgrade(self, revision: str) -> None:
        """Migrate down to ``revision``."""
        from alembic import command

        with self._guard():
            command.downgrade(self.alembic_config(), revision)

    def current_revision(self) -> str | None:
        """The revision the database is at, or None for an empty database."""
        from alembic.runtime.migration import MigrationContext

        with self._guard(), self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str:
        """The newest revision the migrations know."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        assert head is not None
        return head

    def ensure_current(self) -> None:
        """Upgrade to head if the database is behind (what the app and CLI do on start).

        The common case (already at head) is checked without importing Alembic: one query and
        a scan of the revision files.
        """
        with self._guard():
            head = _head_from_files()
            if head is not None and self._stored_revisions() == {head}:
                return
            if self.current_revision() != self.head_revision():
                self.upgrade("head")

    def _stored_revisions(self) -> set[str]:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return set()
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return {row[0] for row in rows}

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)


def _head_from_files() -> str | None:
    """The single head revision, read from the migration files' ``revision`` lines."""
    from chatimg.resources import resource_dir

    revisions: set[str] = set()
    parents: set[str] = set()
    for script in resource_dir("migrations").joinpath("versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            found = re.findall(r"[\"']([^\"']+)[\"']", value)
            (revisions if name == "revision" else parents).update(found)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _store_error(exc: Exception, database: Database) -> StoreError:
    original = getattr(exc, "orig", None) or exc
    where = str(database.sqlite_path) if database.sqlite_path else database.display_url()
    text = str(original or exc).splitlines()[0]
    if isinstance(original, sqlite3.DatabaseError) and "not a database" in text:
        return StoreError(
            f"{where} is not a chatimg database (file is not a database)",
            "point CHATIMG_DATABASE_URL or CHATIMG_HOME elsewhere; the file was left untouched",
        )
    if "locked" in text:
        return StoreError(f"{where}: database is busy: {text}", "try again in a moment")
    return StoreError(f"database error on {where}: {text}")
