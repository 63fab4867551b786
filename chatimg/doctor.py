"""``chatimg doctor``: check the store the way ``git fsck`` checks a repository.

It reads everything and changes nothing: the database's own integrity and foreign keys, every
asset row's file (present, right size, right sha256), files no row names, leftover temp and
staging files, generations stuck ``running`` whose process is gone, and succeeded generations
whose checks never ran. Findings are either *problems* (something is wrong or lost; the command
exits 1) or *garbage* (space that ``--gc`` can reclaim; not an error). ``chatimg.restore`` fixes
what can be fixed.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from chatimg import paths
from chatimg.store.assets import is_stale_partial
from chatimg.store.owner import Owner, is_alive, tag_is_alive
from chatimg.store.tables import AssetRow, GenerationAssetRow, GenerationRow, ValidationRow

if TYPE_CHECKING:
    from chatimg import domain
    from chatimg.studio import Studio

#: Unreferenced files and rows younger than this are left alone (a writer may be about to link
#: them): one hour.
DEFAULT_GRACE_S = 3600.0
_ASSET_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]+$")
_EXPORT_PART = re.compile(r"^\.chatimg-export-(?:(?P<tag>[0-9a-f]{8}-\d+-\d+)-)?.*\.part$")

PROBLEM_KINDS = ("database", "foreign-key", "missing-file", "damaged-file", "stuck-generation",
                 "checks-missing")
GARBAGE_KINDS = ("orphan-file", "unreferenced-asset", "temp-file", "import-staging",
                 "export-part")


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found."""

    kind: str
    """One of ``PROBLEM_KINDS`` (wrong) or ``GARBAGE_KINDS`` (reclaimable)."""
    subject: str
    """What it is about: a path, an asset sha256 or a generation id."""
    detail: str
    generations: tuple[str, ...] = ()
    """Generations that use the image (for file findings)."""

    @property
    def is_problem(self) -> bool:
        """Whether this is something wrong (not only reclaimable space)."""
        return self.kind in PROBLEM_KINDS


@dataclass
class DoctorReport:
    """Everything one examination found, and what a repair did about it."""

    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    """How many assets, files and generations were looked at."""
    repaired: list[str] = field(default_factory=list)
    reclaimed: list[str] = field(default_factory=list)
    reclaimed_bytes: int = 0
    unrepaired: list[str] = field(default_factory=list)

    def problems(self) -> list[Finding]:
        """Findings that make the store wrong (the command exits 1 while any remain)."""
        return [f for f in self.findings if f.is_problem]

    def garbage(self) -> list[Finding]:
        """Findings that are only reclaimable space (``--gc``)."""
        return [f for f in self.findings if not f.is_problem]

    @property
    def ok(self) -> bool:
        """No problems (garbage is not a problem)."""
        return not self.problems()

    def as_dict(self) -> dict[str, Any]:
        """The report for ``--json``."""
        return {
            "ok": self.ok, "checked": dict(self.checked),
            "problems": [asdict(f) for f in self.problems()],
            "garbage": [asdict(f) for f in self.garbage()],
            "repaired": list(self.repaired), "unrepaired": list(self.unrepaired),
            "reclaimed": list(self.reclaimed), "reclaimed_bytes": self.reclaimed_bytes,
        }


def file_state(path: Path, sha256: str, size: int) -> str | None:
    """``None`` when the file is intact; ``missing`` or ``damaged`` otherwise."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != size:
                return "damaged"
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "damaged"
    return None if digest == sha256 else "damaged"


def with_file_states(thread: domain.Thread, *, deep: bool = False,
                     problems: Mapping[str, str] | None = None) -> domain.Thread:
    """The thread with each image's ``state`` set: ``missing``, ``damaged`` or None.

    Args:
        thread: A loaded thread.
        deep: Hash every file (``chatimg show``); otherwise only presence and size are checked
            (cheap enough for every thread the app opens).
        problems: sha256 → ``missing``/``damaged`` already found (an object store's blob that
            failed its hash), which win over what the local copy says.
    """
    from dataclasses import replace

    def check(asset: domain.AssetRef) -> domain.AssetRef:
        state: str | None
        if problems and asset.sha256 in problems:
            known = problems[asset.sha256]
            state = known if known in ("missing", "damaged") else "missing"
        elif asset.state is not None:  # already found (an object store's blob failed its hash)
            state = asset.state
        elif deep:
            state = file_state(Path(asset.path), asset.sha256, asset.bytes)
        else:
            try:
                state = None if os.stat(asset.path).st_size == asset.bytes else "damaged"
            except FileNotFoundError:
                state = "missing"
            except OSError:
                state = "damaged"
        return asset if state == asset.state else replace(asset, state=state)

    def generation(old: domain.Generation) -> domain.Generation:
        assets = tuple(check(a) for a in old.assets)
        return old if _same(assets, old.assets) else replace(old, assets=assets)

    def message(old: domain.Message) -> domain.Message:
        generations = tuple(generation(g) for g in old.generations)
        return old if _same(generations, old.generations) else replace(
            old, generations=generations)

    # copies only what changed: with every file in place (the usual case) the thread itself
    messages = tuple(message(m) for m in thread.messages)
    return thread if _same(messages, thread.messages) else replace(thread, messages=messages)


def _same(new: tuple[Any, ...], old: tuple[Any, ...]) -> bool:
    """Whether ``new`` holds the very objects of ``old`` (nothing was replaced)."""
    return all(a is b for a, b in zip(new, old, strict=True))


def examine(studio: Studio, *, grace_s: float = DEFAULT_GRACE_S,
            now: float | None = None) -> DoctorReport:
    """Check the whole store; change nothing.

    Args:
        studio: The store to check.
        grace_s: Unreferenced files and rows younger than this are not garbage yet.
        now: The current time (default: ``time.time()``).
    """
    now = time.time() if now is None else now
    report = DoctorReport()
    report.findings.extend(_database_findings(studio))
    assets = _asset_rows(studio)
    users = _asset_users(studio)
    referenced = _referenced_hashes(studio)
    remote = studio.assets.is_remote  # blobs elsewhere: `chatimg storage verify` checks them
    for sha, (relative, size, created) in assets.items():
        if remote:
            continue
        state = file_state(studio.assets.path_of(relative), sha, size)
        if state is not None:
            report.findings.append(Finding(
                f"{state}-file", sha, str(studio.assets.path_of(relative)),
                tuple(users.get(sha, ())),
            ))
        elif sha not in referenced and now - created >= grace_s:
            report.findings.append(Finding("unreferenced-asset", sha,
                                           str(studio.assets.path_of(relative))))
    known = {relative for relative, _, _ in assets.values()}
    files = 0
    for path in () if remote else _asset_files(studio.assets.root):
        files += 1
        relative = path.relative_to(studio.assets.root).as_posix()
        if path.name.startswith(".tmp-"):
            if is_stale_partial(path, now, grace_s):
                report.findings.append(Finding("temp-file", str(path), "left by a dead writer"))
        elif relative not in known and _age(path, now) >= grace_s:
            report.findings.append(Finding("orphan-file", str(path), "no asset row names it"))
    report.findings.extend(_leftovers(now, grace_s))
    for generation_id in studio.repo.stuck_generations():
        report.findings.append(Finding("stuck-generation", generation_id,
                                       "running, but its process is gone"))
    for generation_id in _checks_missing(studio):
        report.findings.append(Finding("checks-missing", generation_id,
                                       "succeeded, but its checks never ran"))
    generations = _count(studio, GenerationRow)
    report.checked = {"assets": len(assets), "files": files, "generations": generations}
    return report


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


def _asset_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir():
            yield from sorted(p for p in folder.iterdir() if p.is_file())
        elif folder.is_file():
            yield folder


def _leftovers(now: float, grace_s: float) -> list[Finding]:
    """Import staging folders in the data dir and export ``.part`` files (data dir and the
    current folder, where ``chatimg export`` writes by default) whose writer is gone."""
    found: list[Finding] = []
    data = paths.data_dir()
    if data.is_dir():
        for staging in data.glob(".chatimg-import-*"):
            if staging.is_dir() and _age(staging, now) >= grace_s:
                found.append(Finding("import-staging", str(staging), "left by a killed import"))
    for folder in {data, Path.cwd()}:
        if not folder.is_dir():
            continue
        for part in folder.glob(".chatimg-export-*.part"):
            match = _EXPORT_PART.match(part.name)
            alive = tag_is_alive(match["tag"]) if match and match["tag"] else None
            if not alive and _age(part, now) >= grace_s:
                found.append(Finding("export-part", str(part), "left by a killed export"))
    return found


def _database_findings(studio: Studio) -> list[Finding]:
    found: list[Finding] = []
    if studio.db.backend != "sqlite":
        return found  # PostgreSQL enforces its foreign keys and checksums its pages itself
    with studio.db.engine.connect() as connection:
        rows = [r[0] for r in connection.exec_driver_sql("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            found.extend(Finding("database", str(studio.db.sqlite_path), r) for r in rows[:20])
        for table, rowid, parent, _ in connection.exec_driver_sql(
            "PRAGMA foreign_key_check"
        ).fetchall()[:50]:
            found.append(Finding("foreign-key", f"{table}:{rowid}",
                                 f"refers to a missing {parent} row"))
    return found


def _asset_rows(studio: Studio) -> dict[str, tuple[str, int, float]]:
    table = AssetRow.__table__  # type: ignore[attr-defined]
    out: dict[str, tuple[str, int, float]] = {}
    with studio.db.read() as session:
        for sha, relative, size, created in session.execute(
            sa.select(table.c.sha256, table.c.path, table.c.bytes, table.c.created_at)
        ):
            stamp = created.timestamp() if hasattr(created, "timestamp") else 0.0
            out[sha] = (relative, int(size), stamp)
    return out


def _asset_users(studio: Studio) -> dict[str, list[str]]:
    link = GenerationAssetRow.__table__  # type: ignore[attr-defined]
    users: dict[str, list[str]] = {}
    with studio.db.read() as session:
        for sha, generation_id in session.execute(
            sa.select(link.c.asset_sha256, link.c.generation_id)
        ):
            users.setdefault(sha, []).append(generation_id)
    return users


def _referenced_hashes(studio: Studio) -> set[str]:
    """Hashes any row still needs: linked outputs, checked images, and sources or masks named
    in generation parameters (img2img, inpaint, upscale)."""
    link = GenerationAssetRow.__table__  # type: ignore[attr-defined]
    checks = ValidationRow.__table__  # type: ignore[attr-defined]
    gen = GenerationRow.__table__  # type: ignore[attr-defined]
    with studio.db.read() as session:
        found = {row[0] for row in session.execute(sa.select(link.c.asset_sha256).distinct())}
        found |= {row[0] for row in session.execute(sa.select(checks.c.asset_sha256).distinct())}
        for params, receipt in session.execute(sa.select(gen.c.params, gen.c.receipt)):
            for values in (params or {}, (receipt or {}).get("request") or {}):
                for key in ("source_asset", "mask_asset"):
                    if isinstance(values.get(key), str):
                        found.add(values[key])
    return found


def _checks_missing(studio: Studio) -> list[str]:
    """Succeeded generations still ``pending`` checks whose process is gone."""
    gen = GenerationRow.__table__  # type: ignore[attr-defined]
    with studio.db.read() as session:
        rows = session.execute(
            sa.select(gen.c.id, gen.c.owner_host, gen.c.owner_pid, gen.c.owner_start)
            .where(gen.c.status == "succeeded", gen.c.checks_state == "pending")
        ).all()
    return [gid for gid, host, pid, start in rows
            if host is None or pid is None or is_alive(Owner(host, pid, start or 0)) is False]


def _count(studio: Studio, table: Any) -> int:
    with studio.db.read() as session:
        return int(session.execute(
            sa.select(sa.func.count()).select_from(table.__table__)
        ).scalar_one())


def format_report(report: DoctorReport) -> list[str]:
    """Lines for the terminal: each finding, what was repaired or reclaimed, then a summary."""
    from chatimg.safetext import shown

    lines: list[str] = []
    for finding in report.problems():
        used = f" (used by {', '.join(finding.generations[:3])})" if finding.generations else ""
        lines.append(f"problem  {finding.kind}: {shown(finding.subject)}: "
                     f"{shown(finding.detail)}{used}")
    for finding in report.garbage():
        lines.append(f"garbage  {finding.kind}: {shown(finding.subject)}")
    lines.extend(f"repaired {shown(item)}" for item in report.repaired)
    lines.extend(f"not repaired {shown(item)}" for item in report.unrepaired)
    lines.extend(f"reclaimed {shown(item)}" for item in report.reclaimed)
    checked = ", ".join(f"{n} {name}" for name, n in report.checked.items())
    problems, garbage = len(report.problems()), len(report.garbage())
    verdict = "OK" if report.ok else "PROBLEMS"
    hint = ""
    if problems:
        hint = " (chatimg doctor --repair fixes what it can)"
    elif garbage:
        hint = " (chatimg doctor --gc reclaims it)"
    lines.append(f"checked {checked}: {problems} problems, {garbage} garbage -> {verdict}{hint}")
    return lines
