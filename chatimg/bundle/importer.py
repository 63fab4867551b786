"""Import a bundle: check everything, stage the images, then one database transaction.

Order of work:

1. ``read_bundle`` checks the zip, the manifest and every asset without writing anything.
2. Conflicts are checked (the conversation, or any of its ids, already here).
3. Images are extracted into a staging folder next to the asset store, hashed again while they
   are written, then renamed into the content-addressed store (files first, then rows).
4. Every row lands in one transaction. If it fails, the files this import added are removed,
   so a refused or failed import leaves the database and the asset store as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg.bundle.manifest import generation_order, message_order
from chatimg.bundle.reader import CheckedBundle, Limits, read_bundle
from chatimg.errors import BundleInvalidError, ChatImgError, StoreError
from chatimg.ids import new_id
from chatimg.store.assets import AssetStore
from chatimg.store.bundle_rows import RowsExistError

if TYPE_CHECKING:
    from chatimg.studio import Studio


@dataclass(frozen=True)
class ImportReport:
    """What an import added."""

    conversation_id: str
    source_conversation_id: str
    """The conversation id inside the bundle (differs from ``conversation_id`` with as_copy)."""
    title: str
    as_copy: bool
    messages: int
    generations: int
    assets: int
    new_files: int
    """Images that were not already in the asset store."""
    validations: int
    picks: int
    bundle_version: int
    app_version: str


def import_bundle(studio: Studio, path: Path | str, as_copy: bool = False,
                  limits: Limits | None = None) -> ImportReport:
    """Import a bundle into ``studio``, all or nothing.

    Args:
        studio: Where to import.
        path: The bundle (zip) file.
        as_copy: Give the conversation, messages, generations and picks new ids (so a bundle
            can be imported next to the conversation it came from).
        limits: Size and ratio caps (defaults are generous for real bundles).

    Raises:
        BundleInvalidError: The bundle is unsafe, damaged, altered, from a newer chatimg, or
            its conversation is already here (without ``as_copy``). Nothing was written.
    """
    checked = read_bundle(path, limits)
    manifest = _with_new_ids(checked.manifest) if as_copy else checked.manifest
    thread = _thread_rows(manifest)
    clash = studio.repo.bundles.find_clash(thread)
    if clash is not None:
        raise _refusal(clash, as_copy)
    if studio.assets.is_remote:
        placed: list[Path] = []
        new_files = _upload_missing(studio.assets, checked, manifest)
    else:
        placed = _place_assets(studio.assets, checked, manifest)
        new_files = sum(1 for p in placed if p.is_file())
    try:
        studio.repo.bundles.insert(thread)
    except RowsExistError as exc:  # stored meanwhile, by another process
        remove_placed(placed)
        raise _refusal(exc, as_copy) from None
    except BaseException:
        remove_placed(placed)
        raise
    conv = manifest["conversation"]
    return ImportReport(
        conversation_id=conv["id"], source_conversation_id=checked.manifest["conversation"]["id"],
        title=conv["title"], as_copy=as_copy, messages=len(manifest["messages"]),
        generations=len(manifest["generations"]), assets=len(manifest["assets"]),
        new_files=new_files, validations=len(manifest["validations"]),
        picks=len(manifest["picks"]), bundle_version=manifest["version"],
        app_version=manifest["app_version"],
    )


# -- conflicts and copies ----------------------------------------------------------------------


def _refusal(clash: RowsExistError, as_copy: bool) -> BundleInvalidError:
    if clash.table == "conversation":
        return BundleInvalidError(
            f"conversation {clash.row_id} already exists; nothing was imported",
            "import it with --as-copy to add a copy with new ids",
        )
    return BundleInvalidError(
        f"{clash.table} {clash.row_id} from the bundle already exists in another"
        " conversation; nothing was imported",
        None if as_copy else "import it with --as-copy to add a copy with new ids",
    )


def _with_new_ids(manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy of the manifest with fresh ids and every reference remapped."""
    ids: dict[str, str] = {}

    def fresh(old: str) -> str:
        if old not in ids:
            ids[old] = new_id()
        return ids[old]

    def mapped(old: str | None) -> str | None:
        return None if old is None else ids[old]

    conversation = {**manifest["conversation"], "id": fresh(manifest["conversation"]["id"])}
    for item in (*manifest["messages"], *manifest["generations"], *manifest["picks"]):
        fresh(item["id"])
    messages = [
        {**m, "id": ids[m["id"]], "conversation_id": conversation["id"],
         "parent_id": mapped(m["parent_id"])}
        for m in manifest["messages"]
    ]
    generations = [
        {**g, "id": ids[g["id"]], "message_id": ids[g["message_id"]],
         "fallback_of": mapped(g["fallback_of"])}
        for g in manifest["generations"]
    ]
    validations = [{**v, "generation_id": mapped(v["generation_id"])}
                   for v in manifest["validations"]]
    picks = [
        {**p, "id": ids[p["id"]], "conversation_id": conversation["id"],
         "generation_ids": [ids[g] for g in p["generation_ids"]], "winner_id": ids[p["winner_id"]]}
        for p in manifest["picks"]
    ]
    return {**manifest, "conversation": conversation, "messages": messages,
            "generations": generations, "validations": validations, "picks": picks}


# -- files -----------------------------------------------------------------------------------


def _place_assets(store: AssetStore, checked: CheckedBundle,
                  manifest: dict[str, Any]) -> list[Path]:
    """Stage every image, then move it into the store; return what this created (new files and
    folders, in order), so a failure afterwards can remove exactly that.

    A file already in the store is trusted only when its bytes hash to the asset's sha256; a
    damaged one (even of the same size) is replaced by the bundle's verified copy, and is not
    listed, so a failed import never removes an image the store had before.
    """
    pending = []
    for asset in manifest["assets"]:
        relative = store.relative_path(asset["sha256"], asset["mime"])
        if not store.holds(relative, asset["sha256"], asset["bytes"]):
            pending.append((asset, store.path_of(relative)))
    if not pending:
        return []
    parent = store.root.parent
    placed: list[Path] = []
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".chatimg-import-", dir=parent))
    except OSError as exc:
        raise StoreError(f"cannot write to {parent}: {exc.strerror}") from None
    try:
        with zipfile.ZipFile(checked.path) as archive:
            staged = [(_stage(archive, checked.entries[a["sha256"]], a, staging), target)
                      for a, target in pending]
        for source, target in staged:
            _make_dirs(target.parent, placed)
            existed = target.exists()
            os.replace(source, target)
            if not existed:
                placed.append(target)
        for directory in {target.parent for _, target in staged}:
            _fsync_dir(directory)
    except BaseException as exc:
        remove_placed(placed)
        if isinstance(exc, ChatImgError):
            raise
        if isinstance(exc, OSError):
            raise StoreError(f"cannot store the bundle's images: {exc}") from None
        if isinstance(exc, Exception):  # the zip changed or broke since it was checked
            raise BundleInvalidError(f"bundle could not be read while importing: {exc}") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return placed


def _upload_missing(store: AssetStore, checked: CheckedBundle,
                    manifest: dict[str, Any]) -> int:
    """Upload the bundle's images an object store lacks (blobs before rows); return how many.

    Nothing is removed on a later failure: an uploaded blob no row names is what
    ``chatimg storage gc`` sweeps after its grace period, and other clients may share it.
    """
    uploaded = 0
    with zipfile.ZipFile(checked.path) as archive:
        for asset in manifest["assets"]:
            relative = store.relative_path(asset["sha256"], asset["mime"])
            if store.remote_size(relative) == asset["bytes"]:
                continue
            data = archive.read(checked.entries[asset["sha256"]])
            if len(data) != asset["bytes"] or hashlib.sha256(data).hexdigest() != asset["sha256"]:
                raise BundleInvalidError(f"{asset['path']} changed while it was imported")
            uploaded += store.put_blob(relative, data)
    return uploaded


def _make_dirs(directory: Path, placed: list[Path]) -> None:
    """Create ``directory`` (and parents), listing each created one in ``placed`` first."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for folder in reversed(missing):
        folder.mkdir()
        placed.append(folder)


def remove_placed(placed: list[Path]) -> None:
    """Undo ``_place_assets``: remove the files, then the folders it created (newest first)."""
    for path in reversed(placed):
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()


def _stage(archive: zipfile.ZipFile, info: zipfile.ZipInfo, asset: dict[str, Any],
           staging: Path) -> Path:
    """Extract one asset to the staging folder, hashing it again as it is written."""
    target = staging / f"{asset['sha256']}.part"
    digest = hashlib.sha256()
    size = 0
    with archive.open(info) as stream, open(target, "wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > asset["bytes"]:
                break
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != asset["bytes"] or digest.hexdigest() != asset["sha256"]:
        raise BundleInvalidError(f"{asset['path']} changed while it was imported")
    return target


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- rows ------------------------------------------------------------------------------------


def _thread_rows(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest in the order rows can be inserted, each asset with its store path."""
    return {
        "conversation": manifest["conversation"],
        "messages": message_order(manifest),
        "generations": generation_order(manifest),
        "assets": [{**a, "store_path": AssetStore.relative_path(a["sha256"], a["mime"])}
                   for a in manifest["assets"]],
        "validations": manifest["validations"],
        "picks": manifest["picks"],
    }
