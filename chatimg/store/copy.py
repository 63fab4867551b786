"""Copy a whole history between databases (SQLite ↔ PostgreSQL): ``chatimg db copy``.

Rows go table by table in foreign-key order, in batches, each batch one transaction inserted
with ``ON CONFLICT DO NOTHING``: a copy killed midway is resumed by running it again, and rows
the target already has (a team database holds other people's too) are left as they are. The
source is only read. At the end every source row's key is looked up in the target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from chatimg.errors import InvalidRequestError
from chatimg.store import tables  # noqa: F401 - registers every table on SQLModel.metadata
from chatimg.store.database import Database

#: ``progress(table, done, total)``.
CopyProgress = Callable[[str, int, int], None]
#: Rows per transaction by default.
BATCH = 500


@dataclass
class CopyReport:
    """Rows per table: in the source, newly inserted, and found in the target at the end."""

    source: dict[str, int] = field(default_factory=dict)
    inserted: dict[str, int] = field(default_factory=dict)
    verified: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.source == self.verified


def copied_tables() -> list[sa.Table]:
    """The tables a history holds, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "alembic_version"]


def _order(table: sa.Table) -> list[Any]:
    """Parents before children inside self-referencing tables (by creation time), then keys."""
    columns = [table.c[name] for name in ("created_at", "queued_at") if name in table.c]
    return [*columns[:1], *table.primary_key.columns]


def _insert(target: Database, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    if target.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement: Any = sqlite_insert(table).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).on_conflict_do_nothing()
    with target.engine.begin() as connection:
        result = connection.execute(statement, list(rows))
        return max(int(result.rowcount or 0), 0)


def _present(target: Database, table: sa.Table, keys: Sequence[tuple[Any, ...]]) -> int:
    primary = list(table.primary_key.columns)
    if not keys:
        return 0
    with target.engine.connect() as connection:
        if len(primary) == 1:
            query = sa.select(sa.func.count()).select_from(table).where(
                primary[0].in_([k[0] for k in keys]))
        else:
            query = sa.select(sa.func.count()).select_from(table).where(
                sa.tuple_(*primary).in_(list(keys)))
        return int(connection.execute(query).scalar_one())


def _surrogate(table: sa.Table) -> sa.Column[Any] | None:
    """The integer id of a table whose rows are numbered by each database itself."""
    primary = list(table.primary_key.columns)
    if len(primary) == 1 and isinstance(primary[0].type, sa.Integer):
        return primary[0]
    return None


def _natural_match(table: sa.Table, row: dict[str, Any], surrogate: sa.Column[Any]) -> Any:
    """A row equal to ``row`` in every comparable column but its own id (JSON has no ``=``)."""
    return sa.and_(*(
        column.is_not_distinct_from(row[column.name]) for column in table.columns
        if column is not surrogate and not isinstance(column.type, sa.JSON)
    ))


def _copy_numbered(target: Database, table: sa.Table, rows: Sequence[dict[str, Any]],
                   surrogate: sa.Column[Any]) -> tuple[int, int]:
    """Rows with a database-assigned id: insert those the target lacks (by their content),
    with new ids; return (inserted, now present)."""
    inserted = 0
    with target.engine.begin() as connection:
        for row in rows:
            match = _natural_match(table, row, surrogate)
            found = connection.execute(
                sa.select(sa.func.count()).select_from(table).where(match)).scalar_one()
            if not found:
                values = {k: v for k, v in row.items() if k != surrogate.name}
                connection.execute(sa.insert(table).values(**values))
                inserted += 1
    return inserted, len(rows)


def copy_database(source: Database, target: Database, progress: CopyProgress | None = None,
                  batch: int = BATCH) -> CopyReport:
    """Copy every row of ``source`` into ``target`` (upgraded to the newest schema first).

    Args:
        source: Read only.
        target: Filled; rows it already has are kept.
        progress: Called per batch.
        batch: Rows per transaction (what a killed copy may have to redo).

    Raises:
        InvalidRequestError: the source is not at the newest schema, or is the target.
    """
    if source.display_url() == target.display_url():
        raise InvalidRequestError("--from and --to name the same database")
    head = target.head_revision()
    current = source.current_revision()
    if current != head:
        raise InvalidRequestError(
            f"{source.display_url()} is at schema {current or '(empty)'}, not {head}",
            "upgrade it first: CHATIMG_DATABASE_URL=... chatimg db upgrade")
    target.ensure_current()
    report = CopyReport()
    tick = progress or (lambda table, done, total: None)
    for table in copied_tables():
        _copy_table(source, target, table, report, tick, batch)
    return report


def _copy_table(source: Database, target: Database, table: sa.Table, report: CopyReport,
                tick: CopyProgress, batch_rows: int) -> None:
    primary = list(table.primary_key.columns)
    surrogate = _surrogate(table)
    with source.engine.connect() as connection:
        total = int(connection.execute(
            sa.select(sa.func.count()).select_from(table)).scalar_one())
    report.source[table.name] = total
    report.inserted[table.name] = 0
    report.verified[table.name] = 0
    done = 0
    tick(table.name, 0, total)
    with source.engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(
            sa.select(table).order_by(*_order(table)))
        for batch in result.mappings().partitions(batch_rows):
            rows = [dict(row) for row in batch]
            if surrogate is not None:
                added, present = _copy_numbered(target, table, rows, surrogate)
            else:
                added = _insert(target, table, rows)
                present = _present(target, table,
                                   [tuple(row[c.name] for c in primary) for row in rows])
            report.inserted[table.name] += added
            report.verified[table.name] += present
            done += len(rows)
            tick(table.name, done, total)
