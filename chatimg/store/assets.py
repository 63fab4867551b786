"""The content-addressed image store: ``assets/ab/<sha256>.<ext>``, written atomically.

``AssetStore`` is the ``file://`` backend and the interface the object-store backends
(``chatimg.store.objects``) extend; ``chatimg.store.backends.open_asset_store`` picks one from
``[storage] url``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from chatimg.errors import InvalidRequestError, StoreError
from chatimg.store.owner import current_owner, tag_is_alive

#: A temp file whose writer is gone is removed once it is this old (seconds).
DEAD_OWNER_GRACE_S = 60.0
#: A temp file whose writer cannot be checked (another host, an old name) waits this long.
UNKNOWN_OWNER_GRACE_S = 24 * 3600.0
_TEMP_NAME = re.compile(r"^\.tmp-(?:(?P<tag>[0-9a-f]{8}-\d+-\d+)-)?.*\.part$")

MIME_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}
_PIL_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class StoredFile:
    """A file in the asset store."""

    sha256: str
    mime: str
    width: int
    height: int
    bytes: int
    path: str
    """Relative to the asset root, with forward slashes."""


@dataclass(frozen=True)
class BlobInfo:
    """A blob as the backend lists it."""

    sha256: str
    size: int
    modified: float
    """Seconds since the epoch."""
    relative: str
    """The path the store knows it by (object stores ignore the extension)."""


def sha_of(relative: str) -> str:
    """The sha256 a stored path is named after (``ab/<sha256>.png`` → ``<sha256>``)."""
    return relative.rsplit("/", 1)[-1].split(".", 1)[0]


def describe_image(data: bytes) -> tuple[str, int, int]:
    """The mime type, width and height of encoded image bytes.

    Raises:
        InvalidRequestError: the bytes are not an image Pillow can read.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidRequestError(f"not a readable image: {exc}") from None
    mime = _PIL_MIME.get(fmt)
    if mime is None:
        raise InvalidRequestError(f"unsupported image format {fmt or 'unknown'}")
    return mime, width, height


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class AssetStore:
    """Stores image bytes by their sha256; the same bytes twice are one file.

    Args:
        root: The folder that holds ``ab/<sha256>.<ext>`` files.
    """

    is_remote = False
    """Whether blobs live outside this machine (object stores); ``root`` is then a cache."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def url(self) -> str:
        """The store's ``[storage] url``."""
        return self.root.as_uri() if self.root.is_absolute() else f"file:{self.root}"

    @staticmethod
    def relative_path(sha256: str, mime: str) -> str:
        """Where the file with this hash and type lives, relative to the root."""
        return f"{sha256[:2]}/{sha256}.{MIME_EXTENSIONS.get(mime, 'bin')}"

    def path_of(self, relative: str) -> Path:
        """The absolute path of a stored file."""
        return self.root / relative

    def put(self, data: bytes, *, described: tuple[str, int, int] | None = None) -> StoredFile:
        """Write ``data`` (encoded image bytes) unless already present; return what was stored.

        The file appears under its final name only once complete and flushed to disk, so a crash
        never leaves a half-written asset behind its real name.

        Args:
            data: Encoded image bytes.
            described: (mime, width, height) when the caller already decoded the image;
                otherwise the bytes are checked here.
        """
        mime, width, height = described or describe_image(data)
        sha = hashlib.sha256(data).hexdigest()
        relative = self.relative_path(sha, mime)
        target = self.root / relative
        if not self.holds(relative, sha, len(data)):
            self._write_atomically(target, data)
        else:  # deduplicated: its age restarts, so `storage gc` leaves it to the row to come
            with contextlib.suppress(OSError):
                os.utime(target)
        return StoredFile(sha, mime, width, height, len(data), relative)

    def holds(self, relative: str, sha256: str, size: int) -> bool:
        """Whether the stored file at ``relative`` is present with exactly this size and hash.

        A damaged file (same size, other bytes) counts as absent, so storing the same image
        again replaces it.
        """
        try:
            with open(self.root / relative, "rb") as handle:
                if os.fstat(handle.fileno()).st_size != size:
                    return False
                return hashlib.file_digest(handle, "sha256").hexdigest() == sha256
        except OSError:
            return False

    def adopt(self, stored: StoredFile) -> StoredFile:
        """Take an image another process (a Ray replica) put in this store: checked present
        with its size and hash (object stores: by its content-addressed key and size).

        Raises:
            StoreError: it is not there, or not with these bytes.
        """
        relative = self.relative_path(stored.sha256, stored.mime)
        if not self.holds(relative, stored.sha256, stored.bytes):
            raise StoreError(f"image {stored.sha256[:12]} the replica stored is not in {self.url}",
                             "check that the replicas and this machine share [storage] url")
        return replace(stored, path=relative)

    def put_file(self, source: Path, expected_sha256: str | None = None) -> StoredFile:
        """Store the bytes of ``source``, optionally checking their hash first."""
        data = source.read_bytes()
        if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
            raise InvalidRequestError(f"{source.name}: sha256 does not match")
        return self.put(data)

    def _write_atomically(self, target: Path, data: bytes) -> None:
        """Temp file (named after its owner process) + fsync + rename.

        Raises:
            StoreError: the file cannot be written (disk full, read-only, ...); nothing is left.
        """
        temp_name = ""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(
                prefix=f".tmp-{current_owner().file_tag()}-", suffix=".part", dir=target.parent
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException as exc:
            if temp_name:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
            if isinstance(exc, OSError):
                raise write_error(exc, target) from None
            raise
        _fsync_dir(target.parent)

    def put_blob(self, relative: str, data: bytes) -> bool:
        """Store bytes the caller already checked under ``relative``; False when the intact
        file was already there."""
        if self.holds(relative, sha_of(relative), len(data)):
            return False
        self._write_atomically(self.root / relative, data)
        return True

    def delete_blob(self, relative: str) -> None:
        """Remove a blob (``chatimg storage gc``); a missing one is no error."""
        with contextlib.suppress(FileNotFoundError):
            (self.root / relative).unlink()

    def fetch(self, relative: str) -> bytes | None:
        """The blob's bytes, unverified; None when it is missing."""
        try:
            return (self.root / relative).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {self.root / relative}: {exc.strerror}") from None

    def read(self, relative: str) -> bytes:
        """The bytes of a stored file, checked against the sha256 it is named after.

        Raises:
            StoreError: the file is missing or its bytes changed.
        """
        data = self.fetch(relative)
        sha = sha_of(relative)
        if data is None:
            raise StoreError(f"image {sha[:12]} is missing: {self.root / relative}",
                             "run `chatimg storage verify`")
        if hashlib.sha256(data).hexdigest() != sha:
            raise StoreError(f"image {sha[:12]} is corrupted: {self.root / relative}",
                             "run `chatimg storage verify`; restore it from a bundle")
        return data

    def local_path(self, relative: str) -> Path:
        """A local file holding the blob (for an object store: a verified cached copy)."""
        return self.root / relative

    def prefetch(self, relatives: Iterable[str]) -> dict[str, str]:
        """Bring blobs into the local cache; ``{relative: problem}`` for those that failed.
        Files are already local here, so nothing is fetched."""
        return {}

    def remote_size(self, relative: str) -> int | None:
        """The blob's size; None when it is missing."""
        try:
            return (self.root / relative).stat().st_size
        except OSError:
            return None

    def blobs(self) -> Iterator[BlobInfo]:
        """Every blob in the store (temp files left out)."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*.*"):
            name = path.name.split(".", 1)[0]
            if path.name.startswith(".") or len(name) != 64:
                continue
            with contextlib.suppress(OSError):
                stat = path.stat()
                yield BlobInfo(name, stat.st_size, stat.st_mtime,
                               path.relative_to(self.root).as_posix())

    def sign_url(self, relative: str, ttl: timedelta) -> str | None:
        """A presigned URL for the blob, where the backend can make one (files cannot)."""
        return None

    def share_file(self, data: bytes, extension: str, ttl: timedelta) -> str | None:
        """Store ``data`` under ``shares/`` and return a presigned URL; None where the backend
        cannot sign (nothing is stored then)."""
        return None

    def exists(self, relative: str) -> bool:
        """Whether a stored file is present."""
        return (self.root / relative).is_file()

    def partials(self) -> Iterator[Path]:
        """Every temp file under the root (live writers' included)."""
        if self.root.is_dir():
            yield from self.root.glob("*/.tmp-*.part")

    def sweep_partials(self, now: float | None = None) -> int:
        """Remove temp files crashed writers left behind; return how many.

        A temp file is removed only when its writer is gone and it is older than
        ``DEAD_OWNER_GRACE_S`` (or, when its writer cannot be checked, older than
        ``UNKNOWN_OWNER_GRACE_S``): a live process's half-written file is never touched.
        """
        removed = 0
        for partial in self.partials():
            if is_stale_partial(partial, now):
                with contextlib.suppress(OSError):
                    partial.unlink()
                    removed += 1
        return removed


def is_stale_partial(path: Path, now: float | None = None, grace_s: float | None = None) -> bool:
    """Whether a temp file's writer is gone and the file is old enough to remove.

    Args:
        path: A ``.tmp-*.part`` file.
        now: The current time (default: ``time.time()``).
        grace_s: Override both grace periods (``chatimg doctor --grace``).
    """
    match = _TEMP_NAME.match(path.name)
    if match is None:
        return False
    try:
        age = (now if now is not None else time.time()) - path.stat().st_mtime
    except OSError:
        return False
    alive = tag_is_alive(match["tag"]) if match["tag"] else None
    if alive:
        return False
    if grace_s is not None:
        return age >= grace_s
    return age >= (DEAD_OWNER_GRACE_S if alive is False else UNKNOWN_OWNER_GRACE_S)


def write_error(exc: OSError, target: Path) -> StoreError:
    """A one-line error for a failed write (disk full, read-only, permissions)."""
    if exc.errno == errno.ENOSPC:
        return StoreError(f"cannot write {target.name}: the disk is full",
                          f"free some space on the disk holding {target.parent}")
    if exc.errno == errno.EROFS:
        return StoreError(f"cannot write {target.name}: the file system is read-only")
    return StoreError(f"cannot write {target}: {exc.strerror or exc}")
