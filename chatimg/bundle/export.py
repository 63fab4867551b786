"""Export a conversation as a bundle: ``manifest.json``, ``index.html`` and ``assets/``.

Images are stored in the zip as they are (PNG, JPEG and WebP are already compressed); the
manifest and gallery are deflated. Each image's bytes are hashed while they are copied, so a
damaged asset store never produces a bundle that would be refused on import. The zip is written
to a temporary file next to the target and renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chatimg import __version__, domain
from chatimg.bundle.gallery import render_index
from chatimg.bundle.manifest import (
    INDEX_NAME,
    MANIFEST_NAME,
    asset_entry_name,
    build_manifest,
    referenced_asset_hashes,
)
from chatimg.errors import ChatImgError, NotFoundError, StoreError
from chatimg.store.tables import utcnow

if TYPE_CHECKING:
    from chatimg.studio import Studio

#: ``progress(done, total)``: images written so far and how many there are.
ExportProgress = Callable[[int, int], None]

_FILE_MODE = (stat.S_IFREG | 0o644) << 16


def default_bundle_name(conversation: domain.Conversation) -> str:
    """``chatimg-<id>.zip``: the file name ``chatimg export`` uses without ``-o``."""
    return f"chatimg-{conversation.id}.zip"


def collect_assets(studio: Studio, thread: domain.Thread) -> list[domain.AssetRef]:
    """Every asset a thread needs: outputs in thread order, then source and mask images."""
    found: dict[str, domain.AssetRef] = {}
    extra: list[str] = []
    for message in thread.messages:
        for g in message.generations:
            for asset in g.assets:
                found.setdefault(asset.sha256, asset)
            extra.extend(referenced_asset_hashes(g))
        for key in ("source_asset", "mask_asset"):
            value = message.params.get(key)
            if isinstance(value, str):
                extra.append(value)
    for sha in extra:
        if sha not in found:
            try:
                found[sha] = studio.repo.get_asset(sha)
            except NotFoundError:
                raise StoreError(
                    f"asset {sha[:12]} that the thread refers to is not in the store",
                    "the bundle would be incomplete; nothing was written",
                ) from None
    return list(found.values())


def export_conversation(
    studio: Studio,
    conversation_id: str,
    path: Path | str,
    progress: ExportProgress | None = None,
    *,
    exported_at: datetime | None = None,
) -> Path:
    """Write a conversation's bundle to ``path``.

    Args:
        studio: The studio to read from.
        conversation_id: The conversation to export.
        path: The zip file to write (replaced atomically if it exists).
        progress: Called as ``progress(done, total)`` after each image (and once at 0).
        exported_at: Export time to record (default: now).

    Returns:
        The path written.

    Raises:
        NotFoundError: No such conversation.
        StoreError: An asset file is missing or does not match its hash.
    """
    target = Path(path).expanduser()
    when = exported_at or utcnow()
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    thread = studio.load_thread(conversation_id)
    assets = collect_assets(studio, thread)
    manifest = build_manifest(
        thread, assets, app_version=__version__, exported_at=when,
        secrets=studio.settings.secret_values(),
    )
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    index_bytes = render_index(manifest).encode("utf-8")
    report = progress or (lambda done, total: None)
    total = len(assets)
    report(0, total)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".chatimg-export-", suffix=".part",
                                         dir=target.parent)
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(
            handle, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        ) as archive:
            _write_entry(archive, MANIFEST_NAME, manifest_bytes, zipfile.ZIP_DEFLATED, stamp)
            _write_entry(archive, INDEX_NAME, index_bytes, zipfile.ZIP_DEFLATED, stamp)
            for done, asset in enumerate(assets, start=1):
                data = _read_asset(asset)
                _write_entry(archive, asset_entry_name(asset.sha256, asset.mime), data,
                             zipfile.ZIP_STORED, stamp)
                report(done, total)
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError) and not isinstance(exc, ChatImgError):
            raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    return target


def _read_asset(asset: domain.AssetRef) -> bytes:
    try:
        data = Path(asset.path).read_bytes()
    except OSError:
        raise StoreError(f"asset file {asset.path} is missing",
                         "the bundle would be incomplete; nothing was written") from None
    if hashlib.sha256(data).hexdigest() != asset.sha256:
        raise StoreError(f"asset file {asset.path} does not match its sha256",
                         "the asset store is damaged; nothing was written")
    return data


def _write_entry(archive: zipfile.ZipFile, name: str, data: bytes, method: int,
                 stamp: tuple[int, int, int, int, int, int]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = method
    info.external_attr = _FILE_MODE
    archive.writestr(info, data)
