"""The database: engine with the right SQLite pragmas, sessions, and Alembic migrations."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session

from chatimg import paths
from chatimg.errors import ConfigError, NotPermittedError, StoreError
from chatimg.store.listing import head_from_files

BUSY_TIMEOUT_MS = 30_000
#: The PostgreSQL advisory lock key that serialises migrations ("chatimg" in ASCII).
MIGRATION_LOCK_KEY = 0x63686174696D67
_URL_HINT = "e.g. sqlite:////home/me/chatimg.db or postgresql+psycopg://me@host/chatimg"


def default_url() -> str:
    """SQLite in the data dir."""
    return f"sqlite:///{paths.database_file()}"


def _install_sqlite_pragmas(engine: Engine, writable: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if writable:
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
        parsed = _parse_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.writable = True
        """False when the SQLite file or its folder cannot be written (opened read-only)."""
        self.read_only_reason: str | None = None
        """Why it was opened read-only: ``read-only`` or ``disk full``."""
        self.sqlite_path: Path | None = None
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:" and not database.startswith("file:"):
                self.sqlite_path = Path(database)
                self.read_only_reason = _prepare_sqlite_file(self.sqlite_path,
                                                             explicit=url is not None)
                self.writable = self.read_only_reason is None
            connect_args: dict[str, Any] = {
                "check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000,
            }
            if self.sqlite_path is not None and not self.writable:
                self.engine = sa.create_engine(
                    "sqlite://", creator=_read_only_creator(self.sqlite_path),
                    poolclass=sa.pool.QueuePool,
                )
            else:
                self.engine = sa.create_engine(
                    self.url, connect_args=connect_args,
                    poolclass=sa.pool.QueuePool if self.sqlite_path else sa.pool.StaticPool,
                )
            _install_sqlite_pragmas(self.engine, self.writable)
        else:
            try:
                self.engine = sa.create_engine(self.url, pool_pre_ping=True)
            except (ImportError, sa.exc.ArgumentError) as exc:
                raise ConfigError(f"database_url: cannot use {parsed.drivername}: {exc}",
                                  _URL_HINT) from None
        self._write_engine = self.engine.execution_options(sqlite_immediate=True)
        self._user: str | None = None

    @property
    def user(self) -> str | None:
        """The database role this connection acts as (``current_user``); None on SQLite.

        On a team database every row written records it, and row-level security compares
        rows with it.
        """
        if self.is_sqlite:
            return None
        if self._user is None:
            with self._guard(), self.engine.connect() as connection:
                self._user = str(connection.exec_driver_sql("SELECT current_user").scalar())
        return self._user

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
        if not self.writable:
            if self.read_only_reason == "disk full":
                raise StoreError(f"the disk holding {self.sqlite_path} is full",
                                 "free some space; reading (ls, show, search, export) still "
                                 "works")
            raise StoreError(f"{self.sqlite_path} is read-only: nothing can be changed",
                             "reading (ls, show, search, export) still works")
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
        """Migrate to ``revision`` (default: the newest), one process at a time."""
        from alembic import command

        with self._guard(), self.migration_lock():
            command.upgrade(self.alembic_config(), revision)

    def downgrade(self, revision: str) -> None:
        """Migrate down to ``revision``, one process at a time."""
        from alembic import command

        with self._guard(), self.migration_lock():
            command.downgrade(self.alembic_config(), revision)

    @contextlib.contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Held while migrating, so simultaneous first starts take turns instead of failing.

        PostgreSQL: a session advisory lock. SQLite: an exclusive ``flock`` on a lock file
        beside the database (nothing to lock for an in-memory database).
        """
        if not self.writable:
            raise StoreError(f"{self.sqlite_path} is read-only and its schema is out of date",
                             "open it once with write access to upgrade it")
        if self.backend == "postgresql":
            with self.engine.connect() as connection:
                connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
                try:
                    yield
                finally:
                    connection.exec_driver_sql(
                        f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"
                    )
                    connection.commit()
            return
        if self.sqlite_path is None:
            yield
            return
        with _file_lock(self.sqlite_path.with_name(self.sqlite_path.name + ".migrate-lock")):
            yield

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
            head = head_from_files()
            if head is not None and self._stored_revisions() == {head}:
                return
            with self.migration_lock():
                # Another process may have migrated while this one waited for the lock.
                if self.current_revision() != self.head_revision():
                    from alembic import command

                    command.upgrade(self.alembic_config(), "head")

    def _stored_revisions(self) -> set[str]:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return set()
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return {row[0] for row in rows}

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _store_error(exc: Exception, database: Database) -> StoreError:
    original = getattr(exc, "orig", None) or exc
    where = str(database.sqlite_path) if database.sqlite_path else database.display_url()
    text = (str(original or exc).splitlines() or [type(exc).__name__])[0]
    if isinstance(original, sqlite3.DatabaseError) and "not a database" in text:
        return StoreError(
            f"{where} is not a chatimg database (file is not a database)",
            "point CHATIMG_DATABASE_URL or CHATIMG_HOME elsewhere, or run `chatimg doctor`; "
            f"to salvage a damaged file: sqlite3 {where} .recover | sqlite3 recovered.db",
        )
    if "malformed" in text:
        return StoreError(
            f"{where} is damaged ({text})",
            f"run `chatimg doctor`; to salvage rows: sqlite3 {where} .recover | sqlite3 "
            "recovered.db, then point database_url at recovered.db",
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{where} is read-only: {text}",
                          "reading (ls, show, search, export) still works")
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(f"{where}: {text}", "free some space on its disk and try again")
    if getattr(original, "sqlstate", None) == "42501":  # insufficient privilege / RLS
        return NotPermittedError(f"not permitted on {where}: {text}",
                                 "on a team database you change only your own conversations "
                                 "(chatimg team branch copies a teammate's); schema upgrades "
                                 "need the role that owns the tables")
    if "locked" in text:
        return StoreError(f"{where}: database is busy: {text}", "try again in a moment")
    return StoreError(f"database error on {where}: {text}")


def _parse_url(url: str) -> URL:
    """The parsed ``database_url``, or a ConfigError naming what is wrong with it."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(f"database_url {url!r} is not a database URL", _URL_HINT) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database_url: {parsed.get_backend_name()!r} databases are not supported",
            "use SQLite or PostgreSQL: " + _URL_HINT,
        )
    return parsed


def _holds_images(assets: Path) -> bool:
    with contextlib.suppress(OSError):
        for folder in assets.iterdir():
            if folder.is_dir() and any(p.suffix in (".png", ".jpg", ".webp", ".gif")
                                       for p in folder.iterdir()):
                return True
    return False


#: Below this much free space the database opens read-only: SQLite could not even create the
#: shared-memory file a WAL reader needs, and reading should still work on a full disk.
MIN_FREE_BYTES = 1 << 20


def _prepare_sqlite_file(path: Path, *, explicit: bool) -> str | None:
    """Check an SQLite file's place before opening it; return why it must be opened read-only
    (``read-only`` or ``disk full``), or None when it can be written.

    Raises:
        StoreError: the folder named by an explicit ``database_url`` does not exist, or the
            database is missing or empty while the asset folder beside it holds images (a
            wiped store must not silently become a new, empty history).
    """
    folder = path.parent
    if not folder.is_dir():
        inside_data = folder.resolve().is_relative_to(paths.data_dir().resolve())
        if explicit and not inside_data:
            raise StoreError(f"database_url names {path}, but the folder {folder} does not exist",
                             "fix the path in database_url (or create the folder)")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {folder}: {exc.strerror or exc}") from None
    try:
        empty = path.stat().st_size == 0
    except FileNotFoundError:
        empty = True
    if empty and _holds_images(folder / "assets"):
        what = "is empty" if path.exists() else "is missing"
        raise StoreError(
            f"the database {path} {what}, but {folder / 'assets'} holds images",
            "restore the database from a backup (or move the assets folder away to start a "
            "new history); nothing was created",
        )
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        if not path.exists():
            raise StoreError(f"no database at {path}, and its folder is read-only")
        return "read-only"
    if path.exists() and _free_bytes(folder) < MIN_FREE_BYTES:
        return "disk full"
    return None


def _free_bytes(folder: Path) -> int:
    try:
        info = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows: assume room
        return MIN_FREE_BYTES
    return info.f_bavail * info.f_frsize


def _read_only_creator(path: Path) -> Any:
    """Connections for a database whose folder cannot be written.

    ``mode=ro`` reads a WAL database only when its ``-shm`` file can be used; otherwise the
    file is opened ``immutable`` (no locks, no side files), which is right for a read-only home.
    """
    from urllib.parse import quote

    base = f"file:{quote(str(path.resolve()))}"

    def connect() -> sqlite3.Connection:
        for options in ("mode=ro", "immutable=1"):
            connection = sqlite3.connect(f"{base}?{options}", uri=True, check_same_thread=False,
                                         timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError:
                connection.close()
                continue
            return connection
        raise StoreError(f"cannot open {path} for reading")

    return connect


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if needed), held for the block."""
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's own locking is all there is
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
