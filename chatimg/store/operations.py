"""Whole-store operations on the asset store: migrate to another backend, verify, collect garbage.

Every operation is driven by the ``asset`` rows (what the history needs) and the backend's
listing (what the store holds). A migration is resumable because copies are conditional puts of
content-addressed blobs: a blob already in the target is skipped, never copied twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from chatimg.errors import StoreError
from chatimg.store.assets import AssetStore
from chatimg.store.database import Database
from chatimg.store.tables import AssetRow

#: ``progress(done, total)``: called after each blob.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AssetEntry:
    """What an ``asset`` row says about a blob."""

    sha256: str
    relative: str
    size: int


@dataclass
class Problem:
    """One thing wrong with a blob: ``missing``, ``damaged`` or ``unreadable``."""

    sha256: str
    kind: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind}: {self.sha256}{' ' + self.detail if self.detail else ''}"


@dataclass
class MigrateReport:
    """What ``migrate`` did."""

    total: int = 0
    copied: int = 0
    already: int = 0
    verified: int = 0
    problems: list[Problem] = field(default_factory=list)


def asset_entries(database: Database) -> list[AssetEntry]:
    """Every ``asset`` row, by sha256."""
    table = AssetRow.__table__  # type: ignore[attr-defined]
    with database.read() as session:
        rows = session.execute(
            sa.select(table.c.sha256, table.c.path, table.c.bytes).order_by(table.c.sha256))
        return [AssetEntry(sha, relative, int(size)) for sha, relative, size in rows]


def referenced_hashes(database: Database, candidates: Iterable[str]) -> set[str]:
    """Which of ``candidates`` an ``asset`` row names right now."""
    table = AssetRow.__table__  # type: ignore[attr-defined]
    wanted = list(candidates)
    found: set[str] = set()
    with database.read() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(session.execute(
                sa.select(table.c.sha256).where(table.c.sha256.in_(chunk))).scalars())
    return found


async def _read_source(source: AssetStore, entry: AssetEntry) -> bytes | None:
    if source.is_remote:
        from chatimg.store.objects import ObjectAssetStore

        assert isinstance(source, ObjectAssetStore)
        return await source.fetch_async(entry.relative)
    return source.fetch(entry.relative)


async def _write_target(target: AssetStore, entry: AssetEntry, data: bytes) -> bool:
    if target.is_remote:
        from chatimg.store.objects import ObjectAssetStore

        assert isinstance(target, ObjectAssetStore)
        return await target.put_blob_async(entry.relative, data)
    return await asyncio.to_thread(target.put_blob, entry.relative, data)


def migrate(database: Database, source: AssetStore, target: AssetStore,
            concurrency: int = 16, progress: Progress | None = None) -> MigrateReport:
    """Copy every blob the rows name from ``source`` to ``target``, then check the target.

    Blobs the target already holds (right size) are skipped, so an interrupted migration
    resumes where it stopped. Every byte is hashed before it is written: a blob that is
    damaged in the source is reported, not copied. ``source`` is only read.

    Returns:
        The counts and problems; ``problems`` empty means the target holds every blob.
    """
    entries = asset_entries(database)
    report = MigrateReport(total=len(entries))
    present = {blob.sha256: blob.size for blob in target.blobs()}
    todo = [e for e in entries if present.get(e.sha256) != e.size]
    report.already = len(entries) - len(todo)
    done = report.already
    tick = progress or (lambda done, total: None)
    tick(done, len(entries))

    async def one(entry: AssetEntry) -> None:
        try:
            data = await _read_source(source, entry)
            if data is None:
                report.problems.append(Problem(entry.sha256, "missing", source.url))
            elif hashlib.sha256(data).hexdigest() != entry.sha256:
                report.problems.append(Problem(entry.sha256, "damaged", source.url))
            else:
                created = await _write_target(target, entry, data)
                report.copied += created  # (read after the await: no lost update)
        except StoreError as exc:
            report.problems.append(Problem(entry.sha256, "unreadable", exc.message))

    if todo:
        _for_each(todo, one, concurrency, tick, done, len(entries))
    held = {blob.sha256: blob.size for blob in target.blobs()}
    failed = {p.sha256 for p in report.problems}
    for entry in entries:
        if held.get(entry.sha256) == entry.size:
            report.verified += 1
        elif entry.sha256 not in failed:
            report.problems.append(Problem(entry.sha256, "missing", f"not in {target.url}"))
    return report


def verify(database: Database, store: AssetStore, concurrency: int = 16,
           progress: Progress | None = None) -> tuple[int, list[Problem]]:
    """Hash every blob a row names; return (how many were checked, what is wrong)."""
    entries = asset_entries(database)
    problems: list[Problem] = []

    async def one(entry: AssetEntry) -> None:
        try:
            data = await _read_source(store, entry)
        except StoreError as exc:
            problems.append(Problem(entry.sha256, "unreadable", exc.message))
            return
        if data is None:
            problems.append(Problem(entry.sha256, "missing", entry.relative))
        elif len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            problems.append(Problem(entry.sha256, "damaged", entry.relative))

    _for_each(entries, one, concurrency, progress or (lambda done, total: None), 0, len(entries))
    problems.sort(key=lambda p: p.sha256)
    return len(entries), problems


def _for_each(entries: Sequence[AssetEntry], work: Callable[[AssetEntry], Awaitable[None]],
              concurrency: int, tick: Progress, done: int, total: int) -> None:
    """Run ``work`` on every entry, at most ``concurrency`` at once, ticking ``(done, total)``
    after each (counting on from ``done``)."""

    async def run() -> None:
        nonlocal done
        gate = asyncio.Semaphore(concurrency)

        async def one(entry: AssetEntry) -> None:
            nonlocal done
            async with gate:
                await work(entry)
            done += 1
            tick(done, total)

        await asyncio.gather(*(one(e) for e in entries))

    asyncio.run(run())


@dataclass
class GcReport:
    """What ``gc`` found and removed."""

    blobs: int = 0
    unreferenced: int = 0
    young: int = 0
    """Unreferenced but within the grace period (another client may be about to commit)."""
    removed: int = 0
    freed_bytes: int = 0


def gc(database: Database, store: AssetStore, older_than_s: float, *, dry_run: bool = False,
       now: float | None = None) -> GcReport:
    """Mark and sweep: remove blobs no row names that are older than the grace period.

    Mark: the rows' hashes. Sweep: each blob outside that set whose last write is older than
    ``older_than_s`` is checked against the rows once more just before it is removed, so a
    row committed meanwhile keeps its blob. Writers refresh an old blob they deduplicate
    against (``AssetStore.put``), so its age restarts before their row is committed.
    """
    now = time.time() if now is None else now
    report = GcReport()
    blobs = list(store.blobs())
    report.blobs = len(blobs)
    live = {entry.sha256 for entry in asset_entries(database)}
    candidates = [b for b in blobs if b.sha256 not in live]
    report.unreferenced = len(candidates)
    old = [b for b in candidates if now - b.modified >= older_than_s]
    report.young = len(candidates) - len(old)
    if dry_run or not old:
        return report
    still_live = referenced_hashes(database, (b.sha256 for b in old))
    for blob in old:
        if blob.sha256 in still_live:
            continue
        store.delete_blob(blob.relative)
        report.removed += 1
        report.freed_bytes += blob.size
    return report
