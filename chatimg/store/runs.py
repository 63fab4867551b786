"""Generations in progress and their owners: which runs are stuck, and marking them.

A generation records the process that runs it (host, pid, process start). A start, and
``chatimg doctor``, use that to tell a live run (left alone) from one whose process died
(``interrupted``); a run on another host is left alone, since its liveness cannot be told here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select

from chatimg.store.database import Database
from chatimg.store.owner import Owner, is_alive
from chatimg.store.tables import GenerationRow, utcnow

_DAMAGE = "image {short} is missing or damaged"


def stuck_generations(db: Database) -> list[str]:
    """Ids of queued or running generations whose process is gone (on this host).

    Rows from before owners were recorded count as stuck; rows whose owner runs on another host
    are left alone.
    """
    query = select(
        GenerationRow.id, GenerationRow.owner_host, GenerationRow.owner_pid,
        GenerationRow.owner_start,
    ).where(col(GenerationRow.status).in_(["queued", "running"]))
    with db.read() as session:
        rows = session.exec(query).all()
    return [
        generation_id for generation_id, host, pid, start in rows
        if host is None or pid is None or is_alive(Owner(host, pid, start or 0)) is False
    ]


def mark_interrupted(db: Database) -> int:
    """Generations whose process died while they were queued or running become
    ``interrupted``; a live process's generations are never touched.

    Reads first and writes only when something is stuck, so a start on a full or busy disk
    costs no write. Returns how many were marked.
    """
    stuck = stuck_generations(db)
    if not stuck:
        return 0
    with db.write() as session:
        result = session.execute(
            sa.update(GenerationRow)
            .where(col(GenerationRow.id).in_(stuck))
            .where(col(GenerationRow.status).in_(["queued", "running"]))
            .values(status="interrupted", error="interrupted: chatimg stopped while it ran",
                    finished_at=utcnow())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_damaged(db: Database, generation_ids: Sequence[str], sha256: str) -> None:
    """Say on each generation that its image ``sha256`` is missing or damaged."""
    if not generation_ids:
        return
    with db.write() as session:
        session.execute(
            sa.update(GenerationRow).where(col(GenerationRow.id).in_(list(generation_ids)))
            .values(error=_DAMAGE.format(short=sha256[:12]) + ": restore it with "
                    "chatimg doctor --repair --from-bundle FILE")
        )


def clear_damage(db: Database, generation_ids: Sequence[str], sha256: str) -> None:
    """Undo :func:`mark_damaged` once the image is restored."""
    if not generation_ids:
        return
    with db.write() as session:
        session.execute(
            sa.update(GenerationRow).where(col(GenerationRow.id).in_(list(generation_ids)))
            .where(col(GenerationRow.error).startswith(_DAMAGE.format(short=sha256[:12])))
            .values(error=None)
        )
