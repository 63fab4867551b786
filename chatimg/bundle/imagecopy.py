"""Copy a bundle's images into its zip, with their checksums computed on a second thread.

The calling thread reads the images about a megabyte at a time (each one's size checked against
its row as it is read) and hands each batch to a checksum thread, which computes every image's
CRC-32 (the zip entry's header needs it before the data) and, when verifying, its sha256.
While that thread works on one batch, the calling thread reads the next and writes the one
before. ``zlib`` and ``hashlib`` let go of the GIL while they work, so on a machine with a second
core the checksums cost little wall time. Nothing is skipped: an image is written only after
its checksums are done, and a damaged one stops the copy.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import zlib
from collections.abc import Callable
from typing import Any

from chatimg.bundle.manifest import asset_entry_name
from chatimg.bundle.zipwriter import ZipWriter
from chatimg.errors import StoreError

#: Bytes of images read before they go to the checksum thread as one batch.
_BATCH_BYTES = 1 << 20


class _Batch:
    """Images read together, and what the checksum thread found for them."""

    def __init__(self) -> None:
        self.images: list[tuple[dict[str, Any], str, bytes]] = []  # asset row, path, bytes
        self.size = 0
        self.crcs: list[int] = []
        self.failure: BaseException | None = None
        self.done = threading.Event()


def copy_images(archive: ZipWriter, root: str, assets: list[dict[str, Any]], verify: bool,
                report: Callable[[int, int], None]) -> None:
    """Add every asset's file under ``root`` to ``archive``, stored, in ``assets`` order.

    Args:
        archive: The zip being written.
        root: The asset store's folder (``store_path`` is relative to it).
        assets: Asset rows (``sha256``, ``mime``, ``bytes``, ``store_path``).
        verify: Check every image's sha256 too (its size is always checked).
        report: Called as ``report(done, total)`` after each image is written.

    Raises:
        StoreError: An image is missing or damaged (nothing after it is written).
    """
    jobs: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
    worker = threading.Thread(target=_checksums, args=(jobs, verify),
                              name="chatimg-export-checksums", daemon=True)
    worker.start()
    written = 0
    try:
        waiting: _Batch | None = None
        batch = _Batch()
        for asset in assets:
            path = os.path.join(root, asset["store_path"])
            data = read_asset(path, asset)
            batch.images.append((asset, path, data))
            batch.size += len(data)
            if batch.size >= _BATCH_BYTES:
                jobs.put(batch)
                if waiting is not None:
                    written = _write(archive, waiting, written, len(assets), report)
                waiting, batch = batch, _Batch()
        if batch.images:
            jobs.put(batch)
        for last in (waiting, batch):
            if last is not None and last.images:
                written = _write(archive, last, written, len(assets), report)
    finally:
        jobs.put(None)
        worker.join()


def _checksums(jobs: queue.SimpleQueue[_Batch | None], verify: bool) -> None:
    """The checksum thread: CRC-32 (and sha256 when verifying) of each batch, in order."""
    while (batch := jobs.get()) is not None:
        try:
            for asset, path, data in batch.images:
                if verify and hashlib.sha256(data).hexdigest() != asset["sha256"]:
                    batch.failure = damaged(asset, path)
                    break
                batch.crcs.append(zlib.crc32(data))
        except BaseException as exc:  # handed to the copying thread
            batch.failure = exc
        finally:
            batch.done.set()


def _write(archive: ZipWriter, batch: _Batch, written: int, total: int,
           report: Callable[[int, int], None]) -> int:
    batch.done.wait()
    if batch.failure is not None:
        raise batch.failure
    for (asset, _, data), crc in zip(batch.images, batch.crcs, strict=True):
        archive.add(asset_entry_name(asset["sha256"], asset["mime"]), data, crc=crc)
        written += 1
        report(written, total)
    return written


def read_asset(path: str, asset: dict[str, Any]) -> bytes:
    """The image's bytes, refused unless there are exactly as many as its row says.

    Raises:
        StoreError: The file is missing or unreadable, or its size is not the row's.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
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
    if len(data) != asset["bytes"]:
        raise damaged(asset, path)
    return data


def damaged(asset: dict[str, Any], path: str) -> StoreError:
    """The error for an image whose bytes are not the ones its row describes."""
    return StoreError(f"image {asset['sha256'][:12]} is damaged: {path}",
                      "run `chatimg doctor --repair`; nothing was written")
