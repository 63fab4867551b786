"""Export a conversation as a bundle: ``manifest.json``, ``index.html`` and ``assets/``.

Images are stored in the zip as they are (PNG, JPEG and WebP are already compressed); the
manifest and gallery are deflated. The rows are read once, in one transaction
(``Repository.bundles``), and the zip is written to a temporary file next to the target and
renamed into place when complete, so a failed export leaves nothing behind.

Every image is checked against its row as it is copied: size, and (unless ``verify=False``)
its sha256, so a damaged store never produces a bundle that import would refuse. The zip is
fsynced before the rename and gets the permissions a new file of the user's would get.

Two things overlap the copying of the images, each with one hand-off: the manifest and the
gallery are deflated on a thread of their own (zlib lets go of the GIL for the whole call),
and written after the images while still listed first in the zip's directory; and on Linux
the kernel is asked to start writing each megabyte to disk as soon as it is written
(``sync_file_range``), so the fsync at the end has little left to wait for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from chatimg import __version__
from chatimg.bundle.gallery import render_index
from chatimg.bundle.manifest import INDEX_NAME, MANIFEST_NAME, asset_entry_name, build_manifest
from chatimg.bundle.zipwriter import Packed, ZipWriter, pack
from chatimg.collector import COLLECTOR
from chatimg.errors import StoreError
from chatimg.store.assets import sha_of, write_error
from chatimg.store.owner import current_owner
from chatimg.store.tables import utcnow

if TYPE_CHECKING:
    from chatimg.studio import Studio

#: ``progress(done, total)``: images written so far and how many there are.
ExportProgress = Callable[[int, int], None]

_BUFFER = 1 << 20
#: Deflate level for manifest.json and index.html: fast, and most of the gain.
_TEXT_LEVEL = 1
#: How an image file is opened (binary on Windows).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
#: How much is written between two requests to start writing it to disk.
_WRITEBACK_STEP = 1 << 20
#: A replaced file at least this large is let go of on a thread of its own (``_replace``).
_RELEASE_ON_THREAD = 1 << 20


def default_bundle_name(conversation_id: str) -> str:
    """``chatimg-<id>.zip``: the file name ``chatimg export`` uses without ``-o``."""
    return f"chatimg-{conversation_id}.zip"


def export_conversation(
    studio: Studio,
    conversation_id: str,
    path: Path | str,
    progress: ExportProgress | None = None,
    *,
    exported_at: datetime | None = None,
    verify: bool = True,
) -> Path:
    """Write a conversation's bundle to ``path``.

    Args:
        studio: The studio to read from.
        conversation_id: The conversation to export.
        path: The zip file to write (replaced atomically if it exists).
        progress: Called as ``progress(done, total)`` once at 0 and after each image.
        exported_at: Export time to record (default: now).
        verify: Re-hash every image and refuse to export a damaged one (default; sizes are
            always checked). ``benchmarks/bench_export.py`` shows what it costs.

    Returns:
        The path written.

    Raises:
        NotFoundError: No such conversation, or an image the thread refers to has no row.
        StoreError: An asset file is missing or does not match its hash; the target cannot be
            written. Nothing is left behind in either case.
    """
    # No cyclic collections while it runs (``chatimg.collector``): an export makes tens of
    # thousands of short-lived dicts and lists without cycles, and collections meanwhile only
    # promote the rows in use (about 8 ms per 1,000 images, averaged, for nothing). Remote
    # stores download first, which takes far longer than any collection: left on there.
    with contextlib.nullcontext() if studio.assets.is_remote else COLLECTOR.paused():
        return _export(studio, conversation_id, Path(path).expanduser(), progress,
                       exported_at or utcnow(), verify)


def _export(studio: Studio, conversation_id: str, target: Path, progress: ExportProgress | None,
            when: datetime, verify: bool) -> Path:
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    dump = studio.repo.bundles.dump(conversation_id)
    secrets = studio.settings.secret_values()
    report = progress or (lambda done, total: None)
    assets = dump["assets"]
    if studio.assets.is_remote:  # local, hash-checked copies first; a corrupted blob stops here
        verify = True
        for relative, problem in studio.assets.prefetch(a["store_path"] for a in assets).items():
            raise StoreError(f"image {sha_of(relative)[:12]} is {problem} in {studio.assets.url}",
                             "run `chatimg storage verify`; nothing was written")
    manifest_bytes, index_bytes = _render(dump, secrets, when)
    report(0, len(assets))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            prefix=f".chatimg-export-{current_owner().file_tag()}-", suffix=".part",
            dir=target.parent,
        )
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror}") from None
    texts = _Deflating((manifest_bytes, index_bytes), _TEXT_LEVEL)
    try:
        with open(fd, "wb", buffering=_BUFFER) as handle:
            archive = ZipWriter(handle, stamp)
            writeback = _Writeback(handle)
            root = str(studio.assets.root)
            for done, asset in enumerate(assets, start=1):
                archive.add(asset_entry_name(asset["sha256"], asset["mime"]),
                            _read_asset(root, asset, verify))
                writeback.advance(archive.offset)
                report(done, len(assets))
            manifest_entry, index_entry = texts.result()
            archive.add_packed(MANIFEST_NAME, manifest_entry, listed_at=0)
            archive.add_packed(INDEX_NAME, index_entry, listed_at=1)
            archive.close()
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(handle.fileno(), 0o666 & ~_umask())
        _replace(temp_name, target)
    except BaseException as exc:
        texts.wait()
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise write_error(exc, target) from None
        raise
    return target


class _Deflating:
    """Texts packed (CRC-32 and deflate) on a thread of their own, started at once.

    zlib holds the GIL only between its calls, so the thread runs beside the copying of the
    images without slowing it, and hands over once, at ``result``.
    """

    def __init__(self, texts: tuple[bytes, ...], level: int) -> None:
        self._packed: list[Packed] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(texts, level),
                                        name="chatimg-export-deflate", daemon=True)
        self._thread.start()

    def _run(self, texts: tuple[bytes, ...], level: int) -> None:
        try:
            self._packed = [pack(text, level) for text in texts]
        except BaseException as exc:  # handed to the exporting thread by ``result``
            self._error = exc

    def wait(self) -> None:
        """Until the thread has finished (it never runs on after a failed export)."""
        self._thread.join()

    def result(self) -> list[Packed]:
        """The packed texts, in order; raises what packing raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._packed


#: ``sync_file_range``'s flag that starts writing the range to disk without waiting for it.
_SYNC_FILE_RANGE_WRITE = 2


@lru_cache(maxsize=1)
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range`` (Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    call.restype = ctypes.c_int
    return call  # type: ignore[no-any-return]


class _Writeback:
    """Asks the kernel to start writing each megabyte to disk once it is written.

    Without it the kernel starts only at the fsync, and the export waits for all of it
    there; with it most of the file is on its way while the images are still being copied.
    The fsync still follows and is what makes the file durable: where the request is not
    available (not Linux) or fails (some file systems), nothing else changes.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._call = _sync_file_range()
        self._started = 0

    def advance(self, offset: int) -> None:
        """The file now holds ``offset`` bytes: start writing them if a step has passed."""
        if self._call is None or offset - self._started < _WRITEBACK_STEP:
            return
        self._handle.flush()
        if self._call(self._handle.fileno(), self._started, offset - self._started,
                      _SYNC_FILE_RANGE_WRITE) != 0:
            self._call = None  # not supported here: the fsync at the end does it all
        self._started = offset


def _replace(temp_name: str, target: Path) -> None:
    """``os.replace``, with a replaced bundle's space freed on a thread of its own.

    Replacing a file drops the last link to the old one, and the kernel frees its blocks and
    cached pages there and then: 10-25 ms for a 25 MB bundle, which the export would wait
    for (re-exporting to the default name replaces the last bundle). Holding the old file
    open across the rename moves that work to the moment it is closed, which a short-lived
    thread does (``close`` lets go of the GIL). The old file is gone from the folder at the
    rename either way.
    """
    old = _hold_replaced(target)
    try:
        os.replace(temp_name, target)
    except BaseException:
        if old is not None:
            os.close(old)
        raise
    if old is not None:
        try:
            threading.Thread(target=os.close, args=(old,), name="chatimg-export-release",
                             daemon=True).start()
        except RuntimeError:  # no thread to be had: free it here
            os.close(old)


def _hold_replaced(target: Path) -> int | None:
    """A descriptor of the file ``target`` names when it is worth freeing on a thread: a
    large regular file with no other link, on POSIX (Windows refuses to replace an open
    file). None otherwise, or when it cannot be opened."""
    if os.name != "posix":
        return None
    try:
        seen = os.lstat(target)
        if (not stat.S_ISREG(seen.st_mode) or seen.st_nlink != 1
                or seen.st_size < _RELEASE_ON_THREAD):
            return None
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    held = os.fstat(fd)
    if (held.st_dev, held.st_ino) != (seen.st_dev, seen.st_ino):  # replaced meanwhile
        os.close(fd)
        return None
    return fd


def _umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _render(dump: dict[str, Any], secrets: list[str], when: datetime) -> tuple[bytes, bytes]:
    """The manifest (secrets hidden) and the gallery built from it, encoded."""
    manifest, text = build_manifest(dump, app_version=__version__, exported_at=when,
                                    secrets=secrets)
    return text.encode("utf-8"), render_index(manifest).encode("utf-8")


def _read_asset(root: str, asset: dict[str, Any], verify: bool) -> bytes:
    path = os.path.join(root, asset["store_path"])
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            # Read one byte more than the row says, so a grown file shows as a mismatch.
            chunks, remaining = [], asset["bytes"] + 1
            while remaining > 0 and (chunk := os.read(fd, remaining)):
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(fd)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError:
        raise StoreError(f"image {asset['sha256'][:12]} is missing: {path}",
                         "run `chatimg doctor --repair`; nothing was written") from None
    if len(data) != asset["bytes"] or (
        verify and hashlib.sha256(data).hexdigest() != asset["sha256"]
    ):
        raise StoreError(f"image {asset['sha256'][:12]} is damaged: {path}",
                         "run `chatimg doctor --repair`; nothing was written")
    return data
