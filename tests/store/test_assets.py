"""The content-addressed asset store."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from chatimg.errors import InvalidRequestError
from chatimg.pngmeta import embed_parameters, read_parameters
from chatimg.store.assets import AssetStore


def png(colour: tuple[int, int, int], size: tuple[int, int] = (16, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    first = store.put(png((255, 0, 0)))
    again = store.put(png((255, 0, 0)))
    other = store.put(png((0, 0, 255)))
    assert first == again and first.sha256 != other.sha256
    files = sorted(p for p in (tmp_path / "assets").rglob("*") if p.is_file())
    assert len(files) == 2
    path = store.path_of(first.path)
    assert path.parent.name == first.sha256[:2] and path.name == f"{first.sha256}.png"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == first.sha256
    assert (first.width, first.height, first.mime) == (16, 8, "image/png")


def test_non_images_are_refused(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    with pytest.raises(InvalidRequestError):
        store.put(b"not an image at all")
    with pytest.raises(InvalidRequestError):
        store.put(png((1, 2, 3))[:40])  # truncated
    assert not (tmp_path / "assets").exists() or not any((tmp_path / "assets").rglob("*.png"))


def test_png_parameters_survive_and_pixels_do_not_change() -> None:
    data = png((10, 20, 30))
    tagged = embed_parameters(data, {"model": "layout", "seed": 7, "prompt": "café ☕"})
    assert read_parameters(tagged) == {"model": "layout", "seed": 7, "prompt": "café ☕"}
    with Image.open(io.BytesIO(tagged)) as image:
        image.load()
        assert image.getpixel((0, 0)) == (10, 20, 30)
        assert "chatimg" in image.info
    assert read_parameters(data) is None
