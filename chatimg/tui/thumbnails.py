"""Thumbnails at card size: scaled once with Pillow, cached in memory and on disk.

A card shows an image in a box of cells. For half-cell rendering the box is ``cols x rows*2``
pixels; for Sixel/Kitty it is the box in real pixels. Scaling a 512² PNG on every repaint is
what makes terminal images slow, so the scaled copy is made once per (asset, box).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from chatimg import paths

if TYPE_CHECKING:
    from PIL.Image import Image

_LOCK = threading.Lock()
_MEMORY: OrderedDict[tuple[str, int, int], Image] = OrderedDict()
MEMORY_ITEMS = 256


def fit(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest size with the image's aspect ratio inside ``box_w x box_h`` (at least 1x1)."""
    if width <= 0 or height <= 0:
        return box_w, box_h
    scale = min(box_w / width, box_h / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def shrink(rgb: Image, box_w: int, box_h: int) -> Image:
    """An RGB image scaled to fit ``box_w x box_h`` pixels (aspect kept), as thumbnails are:
    a picture not stored yet is drawn with the same pixels its stored file will give."""
    from PIL import Image as PILImage

    # reducing_gap: a box filter shrinks by whole factors first, then Lanczos finishes
    # (several times faster from 1024 px down to a card, the same to the eye)
    return rgb.resize(fit(rgb.width, rgb.height, box_w, box_h), PILImage.Resampling.LANCZOS,
                      reducing_gap=3.0)


def thumbnail(source: Path, sha256: str, box_w: int, box_h: int) -> Image:
    """The image at ``source`` scaled to fit ``box_w x box_h`` pixels, RGB.

    Cached in memory (LRU) and under ``cache_dir()/thumbs``. Raises ``OSError`` when the
    source cannot be read.
    """
    key = (sha256, box_w, box_h)
    with _LOCK:
        cached = _MEMORY.get(key)
        if cached is not None:
            _MEMORY.move_to_end(key)
            return cached
    from PIL import Image as PILImage

    disk = paths.cache_dir() / "thumbs" / sha256[:2] / f"{sha256}-{box_w}x{box_h}.png"
    image: Image | None = None
    if disk.is_file():
        try:
            with PILImage.open(disk) as opened:
                image = opened.convert("RGB")
        except OSError:
            image = None
    if image is None:
        with PILImage.open(source) as opened:
            opened.draft("RGB", (box_w, box_h))
            image = shrink(opened.convert("RGB"), box_w, box_h)
        try:
            disk.parent.mkdir(parents=True, exist_ok=True)
            temp = disk.with_suffix(f".{threading.get_ident()}.tmp")
            image.save(temp, format="PNG")
            temp.replace(disk)
        except OSError:
            pass
    with _LOCK:
        _MEMORY[key] = image
        while len(_MEMORY) > MEMORY_ITEMS:
            _MEMORY.popitem(last=False)
    return image
