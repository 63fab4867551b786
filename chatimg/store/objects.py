"""Images in an object store (S3-compatible, GCS, memory) through obstore, with a local cache.

Keys are content-addressed: ``sha256/ab/cd/<hex>``. A write puts the blob first with a
conditional put (``mode="create"``: a blob that already exists is the same bytes, so that is a
successful deduplication), and only then does the caller commit the row that points at it. Reads
go through a size-capped local cache (the store's ``root``), and every byte that comes from the
remote store is hashed before it is used: a blob whose bytes changed is reported, never cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from chatimg.errors import StoreError
from chatimg.store.assets import AssetStore, BlobInfo, StoredFile, describe_image, sha_of

log = logging.getLogger(__name__)

#: A deduplicated blob older than this is rewritten (its age restarts; see ``storage gc``).
REFRESH_AGE_S = 3600.0
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
#: How many cache files are dropped at once when the cache grows past its cap (fraction).
_CACHE_LOW_WATER = 0.9


def _not_found_errors() -> tuple[type[BaseException], ...]:
    """obstore reports a missing object as ``FileNotFoundError`` (some paths: its own class)."""
    from obstore.exceptions import NotFoundError

    return (FileNotFoundError, NotFoundError)


def object_key(sha256: str) -> str:
    """The object-store key of a blob: ``sha256/ab/cd/<hex>``."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _remote_error(exc: BaseException, what: str) -> StoreError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(f"object store: cannot {what}: {text[:300]}",
                      "check [storage] url, endpoint and credentials")


class ObjectAssetStore(AssetStore):
    """An asset store whose blobs live in an obstore store; ``root`` is the local cache.

    Args:
        url: The ``[storage] url`` (for messages; it carries no secret).
        store: An obstore store (``S3Store``, ``GCSStore``, ``MemoryStore``).
        cache_root: The folder that holds local copies (``ab/<sha256>.<ext>``).
        cache_bytes: Cap on the cache's size in bytes (0: keep no copies beyond the current use).
        concurrency: Transfers in flight for batch operations.
    """

    is_remote = True

    def __init__(self, url: str, store: Any, cache_root: Path, cache_bytes: int,
                 concurrency: int = 16) -> None:
        super().__init__(cache_root)
        self._url = url
        self.store = store
        self.cache_bytes = cache_bytes
        self.concurrency = concurrency
        self._cache_used: int | None = None
        self._cache_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    # -- writes ---------------------------------------------------------------------------------

    def put(self, data: bytes, *, described: tuple[str, int, int] | None = None) -> StoredFile:
        """Upload ``data`` unless an object with its hash exists; keep a local copy."""
        mime, width, height = described or describe_image(data)
        sha = hashlib.sha256(data).hexdigest()
        relative = self.relative_path(sha, mime)
        self.put_blob(relative, data)
        self._cache_store(relative, data)
        return StoredFile(sha, mime, width, height, len(data), relative)

    def put_blob(self, relative: str, data: bytes) -> bool:
        """Conditional put of a blob whose hash the caller checked; False when already there.

        A blob found already there but older than ``REFRESH_AGE_S`` is written again, so its
        age restarts and ``storage gc`` cannot sweep it before the caller's row lands.
        """
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        key = object_key(sha_of(relative))
        try:
            obstore.put(self.store, key, data, mode="create")
        except (AlreadyExistsError, PreconditionError):
            self._refresh_if_old(key, data)
            return False
        except Exception as exc:
            raise _remote_error(exc, f"upload {sha_of(relative)[:12]}") from None
        return True

    def _refresh_if_old(self, key: str, data: bytes) -> None:
        """Rewrite an existing blob that is old (gc grace) or visibly not these bytes (its
        size, or an MD5 ETag as S3 servers give single-part objects, differs): a damaged
        blob is replaced by the verified bytes, as the file store replaces a damaged file."""
        import obstore

        try:
            meta = obstore.head(self.store, key)
            etag = str(meta.get("e_tag") or "").strip('"')
            damaged = int(meta["size"]) != len(data) or (
                _MD5_ETAG.match(etag) is not None and etag != hashlib.md5(data).hexdigest())
            if damaged or time.time() - meta["last_modified"].timestamp() > REFRESH_AGE_S:
                obstore.put(self.store, key, data)
        except Exception as exc:
            raise _remote_error(exc, f"refresh {key.rsplit('/', 1)[-1][:12]}") from None

    async def put_blob_async(self, relative: str, data: bytes) -> bool:
        """``put_blob`` without a thread: for concurrent copies on one event loop."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            await obstore.put_async(self.store, object_key(sha_of(relative)), data, mode="create")
        except (AlreadyExistsError, PreconditionError):
            return False
        except Exception as exc:
            raise _remote_error(exc, f"upload {sha_of(relative)[:12]}") from None
        return True

    def delete_blob(self, relative: str) -> None:
        import obstore

        try:
            obstore.delete(self.store, object_key(sha_of(relative)))
        except _not_found_errors():
            pass
        except Exception as exc:
            raise _remote_error(exc, f"delete {sha_of(relative)[:12]}") from None
        with contextlib.suppress(OSError):
            (self.root / relative).unlink()

    # -- reads ----------------------------------------------------------------------------------

    def fetch(self, relative: str) -> bytes | None:
        """The remote blob's bytes, unverified; None when there is no such object."""
        import obstore

        try:
            return bytes(obstore.get(self.store, object_key(sha_of(relative))).bytes())
        except _not_found_errors():
            return None
        except Exception as exc:
            raise _remote_error(exc, f"read {sha_of(relative)[:12]}") from None

    async def fetch_async(self, relative: str) -> bytes | None:
        """``fetch`` on an event loop."""
        import obstore

        try:
            result = await obstore.get_async(self.store, object_key(sha_of(relative)))
            return bytes(await result.bytes_async())
        except _not_found_errors():
            return None
        except Exception as exc:
            raise _remote_error(exc, f"read {sha_of(relative)[:12]}") from None

    def read(self, relative: str) -> bytes:
        """The verified bytes of a blob: from the cache when it holds a good copy, else remote.

        Raises:
            StoreError: the blob is missing, or its bytes do not hash to its name (corrupted).
        """
        sha = sha_of(relative)
        cached = self._cache_read(relative, sha)
        if cached is not None:
            return cached
        data = self.fetch(relative)
        self._check(relative, data)
        assert data is not None
        self._cache_store(relative, data)
        return data

    def _check(self, relative: str, data: bytes | None) -> None:
        sha = sha_of(relative)
        if data is None:
            raise StoreError(f"image {sha[:12]} is missing from {self.url}",
                             "run `chatimg storage verify`")
        if hashlib.sha256(data).hexdigest() != sha:
            raise StoreError(f"image {sha[:12]} is corrupted in {self.url} (sha256 mismatch)",
                             "run `chatimg storage verify`; restore it from a bundle")

    def local_path(self, relative: str) -> Path:
        """A verified local copy of the blob (downloaded into the cache when needed)."""
        path = self.root / relative
        if self._cache_read(relative, sha_of(relative)) is None:
            data = self.fetch(relative)
            self._check(relative, data)
            assert data is not None
            self._cache_store(relative, data, keep=True)
        return path

    def prefetch(self, relatives: Iterable[str]) -> dict[str, str]:
        """Bring blobs into the cache concurrently; return ``{relative: problem}`` for failures
        (``missing``, ``damaged`` or the error's line). Good copies are left untouched."""
        wanted = [r for r in dict.fromkeys(relatives)
                  if self._cache_read(r, sha_of(r)) is None]
        if not wanted:
            return {}
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: a worker thread or the CLI
            return asyncio.run(self._prefetch(wanted))
        # Called from a coroutine (a script's own event loop): run the transfers on a loop of
        # their own in another thread rather than fail (asyncio.run refuses to nest).
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1, thread_name_prefix="chatimg-prefetch") as pool:
            return pool.submit(lambda: asyncio.run(self._prefetch(wanted))).result()

    async def _prefetch(self, wanted: Sequence[str]) -> dict[str, str]:
        problems: dict[str, str] = {}
        gate = asyncio.Semaphore(self.concurrency)

        async def one(relative: str) -> None:
            async with gate:
                try:
                    data = await self.fetch_async(relative)
                except StoreError as exc:
                    problems[relative] = exc.message
                    return
            if data is None:
                problems[relative] = "missing"
            elif hashlib.sha256(data).hexdigest() != sha_of(relative):
                log.warning("image %s is corrupted in %s", sha_of(relative)[:12], self.url)
                problems[relative] = "damaged"
            else:
                await asyncio.to_thread(self._cache_store, relative, data, True)

        await asyncio.gather(*(one(r) for r in wanted))
        return problems

    def exists(self, relative: str) -> bool:
        return self.remote_size(relative) is not None

    def remote_size(self, relative: str) -> int | None:
        """The remote blob's size; None when there is no such object."""
        import obstore

        try:
            return int(obstore.head(self.store, object_key(sha_of(relative)))["size"])
        except _not_found_errors():
            return None
        except Exception as exc:
            raise _remote_error(exc, f"check {sha_of(relative)[:12]}") from None

    def holds(self, relative: str, sha256: str, size: int) -> bool:
        """Whether the remote store has this blob with this size (hashes: ``storage verify``)."""
        return sha_of(relative) == sha256 and self.remote_size(relative) == size

    def blobs(self) -> Iterator[BlobInfo]:
        import obstore

        try:
            for batch in obstore.list(self.store, "sha256/", chunk_size=1000):
                for meta in batch:
                    name = str(meta["path"]).rsplit("/", 1)[-1]
                    if len(name) == 64:
                        yield BlobInfo(name, int(meta["size"]),
                                       meta["last_modified"].timestamp(), f"{name[:2]}/{name}")
        except Exception as exc:
            raise _remote_error(exc, "list blobs") from None

    def sign_url(self, relative: str, ttl: timedelta) -> str | None:
        """A presigned GET URL valid for ``ttl``; None where the backend cannot sign."""
        import obstore
        from obstore.store import GCSStore, S3Store

        if not isinstance(self.store, S3Store | GCSStore):
            return None
        try:
            return str(obstore.sign(self.store, "GET", object_key(sha_of(relative)), ttl))
        except Exception as exc:
            raise _remote_error(exc, "sign a link") from None

    def share_file(self, data: bytes, extension: str, ttl: timedelta) -> str | None:
        import obstore
        from obstore.store import GCSStore, S3Store

        if not isinstance(self.store, S3Store | GCSStore):
            return None
        key = f"shares/{hashlib.sha256(data).hexdigest()}.{extension}"
        try:
            obstore.put(self.store, key, data)
            return str(obstore.sign(self.store, "GET", key, ttl))
        except Exception as exc:
            raise _remote_error(exc, "share a file") from None

    def partials(self) -> Iterator[Path]:
        return iter(())

    # -- cache ----------------------------------------------------------------------------------

    def _cache_read(self, relative: str, sha: str) -> bytes | None:
        path = self.root / relative
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != sha:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return data

    def _cache_store(self, relative: str, data: bytes, keep: bool = False) -> None:
        """Keep a local copy (temp + rename, no fsync: a torn copy fails its hash and is
        fetched again). ``keep``: the caller is about to open it, so it survives eviction."""
        if self.cache_bytes <= 0 and not keep:
            return
        target = self.root / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".cache-", suffix=".part", dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except OSError as exc:
            log.warning("cannot cache %s: %s", relative, exc)
            return
        with self._cache_lock:
            if self._cache_used is None:
                self._cache_used = sum(size for _, size, _ in self._cache_files())
            else:
                self._cache_used += len(data)
            if self._cache_used > self.cache_bytes:
                self._evict(keep_path=target if keep else None)

    def _cache_files(self) -> Iterator[tuple[Path, int, float]]:
        if not self.root.is_dir():
            return
        for folder in os.scandir(self.root):
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder.path):
                if entry.name.startswith("."):
                    continue
                with contextlib.suppress(OSError):
                    stat = entry.stat()
                    yield Path(entry.path), stat.st_size, stat.st_mtime

    def _evict(self, keep_path: Path | None) -> None:
        files = sorted(self._cache_files(), key=lambda item: item[2])
        used = sum(size for _, size, _ in files)
        goal = int(self.cache_bytes * _CACHE_LOW_WATER)
        for path, size, _ in files:
            if used <= goal:
                break
            if path == keep_path:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                used -= size
        self._cache_used = used
