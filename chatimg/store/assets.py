"""The content-addressed image store: ``assets/ab/<sha256>.<ext>``, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chatimg.errors import InvalidRequestError

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

    def __init__(self, root: Path) -> None:
        self.root = root

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
        if not (target.exists() and target.stat().st_size == len(data)):
            self._write_atomically(target, data)
        return StoredFile(sha, mime, width, height, len(data), relative)

    def put_file(self, source: Path, expected_sha256: str | None = None) -> StoredFile:
        """Store the bytes of ``source``, optionally checking their hash first."""
        data = source.read_bytes()
        if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
            raise InvalidRequestError(f"{source.name}: sha256 does not match")
        return self.put(data)

    def _write_atomically(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        _fsync_dir(target.parent)

    def read(self, relative: str) -> bytes:
        """The bytes of a stored file."""
        return (self.root / relative).read_bytes()

    def exists(self, relative: str) -> bool:
        """Whether a stored file is present."""
        return (self.root / relative).is_file()

    def sweep_partials(self) -> int:
        """Remove temp files a crashed writer left behind; return how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for partial in self.root.glob("*/.tmp-*.part"):
            with contextlib.suppress(OSError):
                partial.unlink()
                removed += 1
        return removed
