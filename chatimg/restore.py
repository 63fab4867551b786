"""What ``chatimg doctor --repair`` and ``--gc`` (and ``rm``) do about the doctor's findings.

Repairs are safe: a damaged file is moved aside (never deleted) before anything replaces it; a
missing or damaged image is restored only from bytes whose sha256 matches the row, taken from a
bundle or regenerated from the generation's receipt on a deterministic engine; stuck
generations become ``interrupted``; checks that never ran are run. Garbage collection removes
only what nothing refers to and what is older than the grace period.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chatimg import paths
from chatimg.doctor import DoctorReport, Finding
from chatimg.errors import ChatImgError
from chatimg.store import runs
from chatimg.store.tables import AssetRow

if TYPE_CHECKING:
    from chatimg.studio import Studio


def damaged_dir() -> Path:
    """Where damaged files are moved aside: ``<data>/damaged``."""
    return paths.data_dir() / "damaged"


def bundle_sources(bundles: Sequence[Path]) -> dict[str, tuple[Path, str]]:
    """sha256 → (bundle, entry name) for every image of every readable bundle given.

    Raises:
        BundleInvalidError: a bundle is damaged or not a bundle.
    """
    from chatimg.bundle.reader import read_bundle

    found: dict[str, tuple[Path, str]] = {}
    for bundle in bundles:
        checked = read_bundle(bundle)
        for sha, info in checked.entries.items():
            found.setdefault(sha, (checked.path, info.filename))
    return found


async def repair(studio: Studio, report: DoctorReport,
                 bundles: Sequence[Path] = ()) -> None:
    """Fix every problem in ``report`` that can be fixed; record what was done in it."""
    sources = bundle_sources(bundles) if bundles else {}
    stuck = [f.subject for f in report.problems() if f.kind == "stuck-generation"]
    if stuck:
        marked = studio.repo.mark_interrupted()
        report.repaired.append(f"{marked} stuck generation(s) marked interrupted")
    for finding in report.problems():
        if finding.kind in ("missing-file", "damaged-file"):
            await _restore(studio, finding, sources, report)
        elif finding.kind == "checks-missing":
            await _run_checks(studio, finding.subject, report)
        elif finding.kind in ("database", "foreign-key"):
            report.unrepaired.append(
                f"{finding.kind} {finding.subject}: {finding.detail} (back up the database; "
                "for SQLite: sqlite3 FILE .recover | sqlite3 recovered.db)"
            )


async def _restore(studio: Studio, finding: Finding, sources: dict[str, tuple[Path, str]],
                   report: DoctorReport) -> None:
    sha = finding.subject
    asset = studio.repo.get_asset(sha)
    target = Path(asset.path)
    if finding.kind == "damaged-file" and target.exists():
        aside = damaged_dir() / f"{target.name}.{int(time.time())}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), aside)
        report.repaired.append(f"moved damaged {target.name} aside to {aside}")
    data = _from_bundle(sha, sources) or await _from_receipt(studio, sha, finding.generations)
    if data is not None:
        studio.assets.put(data)
        report.repaired.append(f"restored {sha[:12]} ({target.name})")
        runs.clear_damage(studio.db, finding.generations, sha)
        return
    runs.mark_damaged(studio.db, finding.generations, sha)
    report.unrepaired.append(
        f"image {sha[:12]} is {finding.kind.split('-')[0]} and could not be restored "
        "(give a bundle that holds it with --from-bundle)"
    )


def _from_bundle(sha: str, sources: dict[str, tuple[Path, str]]) -> bytes | None:
    if sha not in sources:
        return None
    bundle, name = sources[sha]
    with contextlib.suppress(OSError, KeyError, zipfile.BadZipFile):
        with zipfile.ZipFile(bundle) as archive:
            data = archive.read(name)
        if hashlib.sha256(data).hexdigest() == sha:
            return data
    return None


async def _from_receipt(studio: Studio, sha: str, generation_ids: Iterable[str]) -> bytes | None:
    """Regenerate the image from a generation's receipt; the bytes only if they match."""
    for generation_id in generation_ids:
        receipt = studio.repo.get_generation(generation_id).receipt
        if receipt is None or not receipt.deterministic:
            continue
        try:
            _, encoded = await studio.regenerate(generation_id)
        except ChatImgError:
            continue
        for data in encoded:
            if data is not None and hashlib.sha256(data).hexdigest() == sha:
                return data
    return None


async def _run_checks(studio: Studio, generation_id: str, report: DoctorReport) -> None:
    """Run the enabled checks a crash left undone, on the stored images; mark them done."""
    import asyncio

    from chatimg.validate import load_image, validate_images

    generation = studio.get_generation(generation_id)
    try:
        images = [load_image(asset.path) for asset in sorted(generation.assets,
                                                             key=lambda a: a.index)]
        results = await asyncio.to_thread(validate_images, generation, images, None,
                                          studio.settings)
    except ChatImgError as exc:
        report.unrepaired.append(f"checks of {generation_id}: {exc.one_line()}")
        return
    studio.repo.add_validations(results, completes=generation_id)
    report.repaired.append(f"ran {len(results)} missing check(s) of {generation_id}")


def collect_garbage(studio: Studio, report: DoctorReport) -> None:
    """Remove the garbage ``report`` lists (it is already past the grace period)."""
    for finding in report.garbage():
        path = Path(finding.subject) if finding.kind != "unreferenced-asset" else None
        if finding.kind == "unreferenced-asset":
            freed = reclaim_assets(studio, [finding.subject])
            if freed[0]:
                report.reclaimed.append(f"unreferenced image {finding.subject[:12]}")
                report.reclaimed_bytes += freed[1]
            continue
        assert path is not None
        size = _size(path)
        with contextlib.suppress(OSError):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            report.reclaimed.append(f"{finding.kind} {path}")
            report.reclaimed_bytes += size


def _size(path: Path) -> int:
    with contextlib.suppress(OSError):
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    return 0


def conversation_assets(studio: Studio, conversation_id: str) -> set[str]:
    """Every image hash a conversation's generations produced or started from."""
    thread = studio.load_thread(conversation_id)
    found: set[str] = set()
    for message in thread.messages:
        for generation in message.generations:
            found.update(a.sha256 for a in generation.assets)
            for key in ("source_asset", "mask_asset"):
                if isinstance(generation.params.get(key), str):
                    found.add(generation.params[key])
    return found


def reclaim_assets(studio: Studio, hashes: Iterable[str]) -> tuple[int, int]:
    """Delete the rows and files of those ``hashes`` that nothing refers to any more.

    Returns:
        (images removed, bytes freed).
    """
    from chatimg.doctor import _referenced_hashes

    candidates = set(hashes) - _referenced_hashes(studio)
    if not candidates:
        return 0, 0
    table = AssetRow.__table__  # type: ignore[attr-defined]
    with studio.db.write() as session:
        rows = session.execute(
            sa.select(table.c.sha256, table.c.path).where(table.c.sha256.in_(candidates))
        ).all()
        session.execute(sa.delete(table).where(table.c.sha256.in_([r[0] for r in rows])))
    freed = 0
    for _, relative in rows:
        path = studio.assets.path_of(relative)
        size = _size(path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            freed += size
    return len(rows), freed

