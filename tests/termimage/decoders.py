"""Decoders for the escape streams chatimg writes: each turns a stream back into pixels.

They are written from the protocols' specifications, independently of the encoders, so a
round trip checks the bytes a terminal would read: Sixel (DCS ``q``), Kitty graphics APC
(``f=24/32/100``, chunked ``m=1``, base64, zlib ``o=z``), iTerm2 OSC 1337 ``File=`` and
half-block cells (two pixels per ``▀`` cell from its foreground and background).
"""

from __future__ import annotations

import base64
import io
import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

SIXEL = re.compile(r"\x1bP([0-9;]*)q(.*?)\x1b\\", re.S)
APC = re.compile(r"\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\", re.S)
OSC_FILE = re.compile(r"\x1b\]1337;File=([^:]*):([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)")


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two RGB images of one size, in dB (inf when equal)."""
    assert a.size == b.size, (a.size, b.size)
    x = np.asarray(a.convert("RGB"), dtype=np.float64)
    y = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = float(np.mean((x - y) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def decode_sixel(stream: str, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """Draw the first sixel sequence in ``stream`` on ``background``."""
    image, _ = decode_sixel_layers(stream, background)
    return image


def decode_sixel_layers(stream: str, background: tuple[int, int, int] = (0, 0, 0)
                        ) -> tuple[Image.Image, Image.Image]:
    """The first sixel sequence in ``stream`` as (pixels on ``background``, mask of the pixels
    it set). The size comes from the raster attributes, else from the pixels set."""
    match = SIXEL.search(stream)
    assert match, "no sixel sequence in the stream"
    body = match.group(2)
    registers: dict[int, tuple[int, int, int]] = {}
    drawn: list[tuple[int, int, tuple[int, int, int]]] = []
    size: tuple[int, int] | None = None
    colour: tuple[int, int, int] | None = None
    x = y = 0
    i = 0

    def numbers(start: int) -> tuple[list[int], int]:
        end = start
        while end < len(body) and (body[end].isdigit() or body[end] == ";"):
            end += 1
        return [int(p) if p else 0 for p in body[start:end].split(";")], end

    def put(count: int, sixel: int) -> None:
        assert colour is not None, "pixels drawn before any colour was selected"
        for bit in range(6):
            if sixel >> bit & 1:
                drawn.extend((x + dx, y + bit, colour) for dx in range(count))

    while i < len(body):
        char = body[i]
        if char == '"':
            values, i = numbers(i + 1)
            if len(values) >= 4:
                size = (values[2], values[3])
        elif char == "#":
            values, i = numbers(i + 1)
            if len(values) >= 5:
                assert values[1] == 2, "only RGB colour definitions are expected"
                registers[values[0]] = (round(values[2] * 255 / 100),
                                        round(values[3] * 255 / 100),
                                        round(values[4] * 255 / 100))
            else:
                colour = registers[values[0]]
        elif char == "!":
            values, i = numbers(i + 1)
            put(values[0], ord(body[i]) - 63)
            x, i = x + values[0], i + 1
        elif char == "$":
            x, i = 0, i + 1
        elif char == "-":
            x, y, i = 0, y + 6, i + 1
        elif "?" <= char <= "~":
            put(1, ord(char) - 63)
            x, i = x + 1, i + 1
        else:
            i += 1
    if size is None:
        size = (max(p[0] for p in drawn) + 1, max(p[1] for p in drawn) + 1)
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    pixels[:, :] = background
    mask = np.zeros((size[1], size[0]), dtype=np.uint8)
    for px, py, rgb in drawn:
        if px < size[0] and py < size[1]:
            pixels[py, px] = rgb
            mask[py, px] = 255
    return Image.fromarray(pixels, "RGB"), Image.fromarray(mask, "L")


@dataclass
class KittyImage:
    """An image the Kitty APC commands transmitted, with the keys of its first command."""

    keys: dict[str, str]
    image: Image.Image
    commands: list[dict[str, str]] = field(default_factory=list)


def _keys(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(",") if part)


def decode_kitty(stream: str) -> list[KittyImage]:
    """Every image transmitted by the Kitty graphics APC commands in ``stream``."""
    images: list[KittyImage] = []
    pending: dict[str, str] | None = None
    payload = ""
    for match in APC.finditer(stream):
        keys, data = _keys(match.group(1)), match.group(2) or ""
        if pending is None:
            if keys.get("a", "t") not in ("t", "T"):
                continue
            pending, payload = keys, ""
        payload += data
        if keys.get("m", "0") == "1":
            continue
        raw = base64.standard_b64decode(payload)
        if pending.get("o") == "z":
            raw = zlib.decompress(raw)
        fmt = pending.get("f", "32")
        if fmt == "100":
            image = Image.open(io.BytesIO(raw)).convert("RGB")
        else:
            mode = "RGB" if fmt == "24" else "RGBA"
            size = (int(pending["s"]), int(pending["v"]))
            assert len(raw) == size[0] * size[1] * len(mode), "pixel data has the wrong length"
            image = Image.frombytes(mode, size, raw).convert("RGB")
        images.append(KittyImage(pending, image))
        pending = None
    return images


def decode_iterm(stream: str) -> list[tuple[dict[str, str], Image.Image]]:
    """Every OSC 1337 ``File=`` image in ``stream``, with its arguments."""
    out = []
    for match in OSC_FILE.finditer(stream):
        args = dict(part.split("=", 1) for part in match.group(1).split(";") if "=" in part)
        data = base64.standard_b64decode(match.group(2))
        assert int(args["size"]) == len(data), "size= does not match the payload"
        out.append((args, Image.open(io.BytesIO(data)).convert("RGB")))
    return out


def decode_halfcells(rows: Iterable[Iterable[tuple[str, object]]]) -> Image.Image:
    """Pixels from rows of ``(text, rich Style)`` cells: ``▀`` gives fg over bg."""
    grid: list[list[tuple[int, int, int]]] = []
    for row in rows:
        upper: list[tuple[int, int, int]] = []
        lower: list[tuple[int, int, int]] = []
        for text, style in row:
            for char in text:
                assert char == "▀", f"not a half-block cell: {char!r}"
                fg = style.color.get_truecolor()  # type: ignore[attr-defined]
                bg = style.bgcolor.get_truecolor()  # type: ignore[attr-defined]
                upper.append((fg.red, fg.green, fg.blue))
                lower.append((bg.red, bg.green, bg.blue))
        grid.extend([upper, lower])
    array = np.array(grid, dtype=np.uint8)
    return Image.fromarray(array, "RGB")
