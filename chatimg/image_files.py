"""Writing generated images out of the asset store as files (``chatimg gen -o FILE|DIR``).

A FILE target takes exactly one image; a DIR target (an existing folder, a path ending in a
separator, or a path without a suffix) takes any number, named ``<generation id prefix>-<n>.<ext>``
with a prefix long enough to be unique among the generations written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from chatimg import domain
from chatimg.errors import InvalidRequestError

PREFIX_LENGTH = 12
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def is_directory_target(target: str | Path) -> bool:
    """Whether ``target`` names a folder: it is one, ends with a separator, or has no suffix."""
    text = str(target)
    path = Path(text).expanduser()
    return path.is_dir() or text.endswith((os.sep, "/")) or not path.suffix


def check_target(target: str | Path, most_images: int) -> None:
    """Refuse a FILE target before anything runs when more than one image may come back.

    Raises:
        InvalidRequestError: ``target`` is a file name and ``most_images`` > 1.
    """
    if most_images > 1 and not is_directory_target(target):
        raise InvalidRequestError(
            f"-o {target} names one file but this can make {most_images} images",
            "give a folder instead (e.g. -o out/)",
        )


def _unique_prefixes(ids: list[str]) -> dict[str, str]:
    """Each id's shortest prefix of at least ``PREFIX_LENGTH`` characters unique among ``ids``."""
    distinct = list(dict.fromkeys(ids))
    length = PREFIX_LENGTH
    while length < max((len(i) for i in distinct), default=0):
        if len({i[:length] for i in distinct}) == len(distinct):
            break
        length += 1
    return {i: i[:length] for i in distinct}


def write_images(generations: list[domain.Generation], target: str | Path) -> list[Path]:
    """Copy every image of ``generations`` to ``target`` (a FILE or a DIR, see the module).

    A FILE whose suffix differs from the image's format is converted with Pillow (the embedded
    generation parameters are kept only when the format stays PNG).

    Returns:
        The files written, in generation and image order.

    Raises:
        InvalidRequestError: several images for one FILE, no image at all, or a write failed.
    """
    images = [(g, asset) for g in generations for asset in g.assets]
    if not images:
        raise InvalidRequestError("no image to write", "see the errors above")
    path = Path(target).expanduser()
    try:
        if not is_directory_target(target):
            if len(images) > 1:
                check_target(target, len(images))
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_one(images[0][1], path)
            return [path]
        path.mkdir(parents=True, exist_ok=True)
        prefixes = _unique_prefixes([g.id for g, _ in images])
        written: list[Path] = []
        for generation, asset in images:
            extension = _EXTENSIONS.get(asset.mime, ".png")
            name = f"{prefixes[generation.id]}-{asset.index + 1}{extension}"
            _write_one(asset, path / name)
            written.append(path / name)
        return written
    except OSError as exc:
        raise InvalidRequestError(f"{target}: cannot write: {exc.strerror or exc}") from None


def _write_one(asset: domain.AssetRef, destination: Path) -> None:
    wanted = destination.suffix.lower()
    own = _EXTENSIONS.get(asset.mime, ".png")
    if wanted in ("", own) or (wanted == ".jpeg" and own == ".jpg"):
        shutil.copyfile(asset.path, destination)
        return
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(asset.path) as image:
            converted = image.convert("RGB") if wanted in (".jpg", ".jpeg") else image.copy()
        converted.save(destination)
    except (ValueError, KeyError, UnidentifiedImageError):
        raise InvalidRequestError(
            f"{destination}: cannot write images as {wanted!r}", "use .png, .jpg or .webp"
        ) from None
