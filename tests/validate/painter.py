"""Paints labelled typography images the way model outputs look, deterministically.

Pillow and fonts from Debian packages (``.ci/install-fonts.sh``) only: backgrounds (flat,
gradient, textured, photo-like), text effects (outline, shadow) and shapes (rotation,
perspective, arcs, cloth waves). The same case always gives the same pixels.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: Font name → file installed by the Debian packages in .ci/install-fonts.sh.
FONTS: dict[str, str] = {
    "sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "arial": "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    "serif": "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "open": "/usr/share/fonts/truetype/open-sans/OpenSans-Bold.ttf",
    "poster": "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Regular.otf",
    "comic": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf",
    "script": "/usr/share/fonts/opentype/dancingscript/DancingScript-Bold.otf",
    "lobster": "/usr/share/fonts/opentype/lobster/lobster.otf",
}


def missing_fonts() -> list[str]:
    """Font files the labelled set needs that are not installed."""
    return [path for path in FONTS.values() if not Path(path).exists()]


@dataclass(frozen=True)
class Line:
    """One line of text to paint."""

    text: str
    size: int
    font: str = "sans"
    rise: int = 0
    """Pixels the line's second half sits higher (a script word set a little above)."""


@dataclass(frozen=True)
class Scene:
    """Everything that decides an image's pixels."""

    lines: tuple[Line, ...]
    seed: int
    background: str = "flat"
    effect: str = ""
    shape: str = ""
    angle: float = 0.0
    size: tuple[int, int] = (512, 384)
    dark_text: bool = False
    extras: dict[str, float] = field(default_factory=dict)


def _background(scene: Scene, rng: random.Random) -> Image.Image:
    width, height = scene.size
    base = np.array([rng.randint(20, 90) for _ in range(3)], dtype=np.float32)
    if scene.dark_text:
        base = 255 - base * 0.6
    gen = np.random.default_rng(scene.seed)
    if scene.background == "gradient":
        ramp = np.linspace(0.7, 1.2, height, dtype=np.float32)[:, None, None]
        pixels = np.broadcast_to(base * ramp, (height, width, 3)).copy()
    elif scene.background == "texture":
        noise = gen.normal(0, 1, (height // 8 + 1, width // 8 + 1, 1)).astype(np.float32)
        grain = np.asarray(Image.fromarray(((noise[:, :, 0] + 3) * 40).clip(0, 255)
                                           .astype(np.uint8)).resize((width, height),
                                                                     Image.Resampling.BICUBIC),
                           dtype=np.float32)[:, :, None]
        fine = gen.normal(0, 6, (height, width, 1)).astype(np.float32)
        pixels = base + (grain - 120) * 0.25 + fine
    elif scene.background == "photo":
        pixels = np.broadcast_to(base, (height, width, 3)).copy()
        canvas = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(canvas)
        for _ in range(14):
            x, y = rng.randint(-60, width), rng.randint(-60, height)
            r = rng.randint(30, 140)
            shade = tuple(int(c + rng.randint(-40, 40)) for c in base)
            draw.ellipse((x, y, x + r, y + r), fill=shade)
        pixels = np.asarray(canvas.filter(ImageFilter.GaussianBlur(18)), dtype=np.float32)
    else:
        pixels = np.broadcast_to(base, (height, width, 3)) + gen.normal(0, 2, (height, width, 1))
    return Image.fromarray(np.asarray(pixels).clip(0, 255).astype(np.uint8), "RGB")


def _text_layer(scene: Scene, rng: random.Random) -> Image.Image:
    """The lines, centred, white (or dark) on transparent, with the scene's effect."""
    width, height = scene.size
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    fill = (25, 25, 30, 255) if scene.dark_text else (250, 248, 240, 255)
    stroke = (10, 10, 10, 255) if not scene.dark_text else (250, 250, 250, 255)
    heights = []
    for line in scene.lines:
        size = line.size
        while True:  # shrink until the line fits with a margin
            font = ImageFont.truetype(FONTS[line.font], size)
            box = draw.textbbox((0, 0), line.text, font=font)
            if box[2] - box[0] <= 0.86 * width or size <= 12:
                break
            size -= 2
        heights.append((font, box))
    gap = 14
    total = sum(b[3] - b[1] for _, b in heights) + gap * (len(heights) - 1)
    y = (height - total) / 2
    for line, (font, box) in zip(scene.lines, heights, strict=True):
        x = (width - (box[2] - box[0])) / 2 - box[0]
        top = y - box[1]
        if scene.effect == "shadow":
            shadow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
            ImageDraw.Draw(shadow).text((x + 5, top + 5), line.text, font=font,
                                        fill=(0, 0, 0, 200))
            layer.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(3)))
        width_of_stroke = max(2, line.size // 18) if scene.effect == "outline" else 0
        if line.rise:
            first, _, rest = line.text.partition(" ")
            draw.text((x, top), first, font=font, fill=fill, stroke_width=width_of_stroke,
                      stroke_fill=stroke)
            offset = draw.textlength(first + " ", font=font)
            draw.text((x + offset, top - line.rise), rest, font=font, fill=fill,
                      stroke_width=width_of_stroke, stroke_fill=stroke)
        else:
            draw.text((x, top), line.text, font=font, fill=fill, stroke_width=width_of_stroke,
                      stroke_fill=stroke)
        y += box[3] - box[1] + gap
    return layer


def _arc_layer(scene: Scene) -> Image.Image:
    """One line set along an arc (letters turned to follow it)."""
    width, height = scene.size
    line = scene.lines[0]
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    font = ImageFont.truetype(FONTS[line.font], line.size)
    fill = (25, 25, 30, 255) if scene.dark_text else (250, 248, 240, 255)
    radius = scene.extras.get("radius", 420.0)
    advances = [font.getlength(ch) for ch in line.text]
    total = sum(advances)
    cx, cy = width / 2, height / 2 + radius - line.size / 2
    position = -total / 2
    for ch, advance in zip(line.text, advances, strict=True):
        theta = (position + advance / 2) / radius
        position += advance
        if ch == " ":
            continue
        glyph = Image.new("RGBA", (line.size * 2, line.size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((line.size, line.size), ch, font=font, fill=fill,
                                   anchor="mm")
        turned = glyph.rotate(-math.degrees(theta), resample=Image.Resampling.BICUBIC)
        gx = cx + radius * math.sin(theta) - line.size
        gy = cy - radius * math.cos(theta) - line.size
        layer.alpha_composite(turned, (round(gx), round(gy)))
    return layer


def _wave(layer: Image.Image, amplitude: float, wavelength: float) -> Image.Image:
    """Cloth folds: every column shifted up or down along a sine."""
    pixels = np.asarray(layer)
    height, width = pixels.shape[:2]
    shifts = (amplitude * np.sin(np.arange(width) * 2 * math.pi / wavelength)).astype(int)
    rows = (np.arange(height)[:, None] - shifts[None, :]) % height
    return Image.fromarray(pixels[rows, np.arange(width)[None, :]], "RGBA")


def _perspective(layer: Image.Image, squeeze: float) -> Image.Image:
    """The layer seen from the side: the right edge shorter than the left by ``squeeze``."""
    width, height = layer.size
    inset = squeeze * height / 2
    target = [(0, 0), (width, inset), (width, height - inset), (0, height)]
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = [c for point in source for c in point]
    coeffs = np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))
    return layer.transform(layer.size, Image.Transform.PERSPECTIVE, tuple(coeffs),
                           Image.Resampling.BICUBIC)


def paint(scene: Scene) -> Image.Image:
    """The scene as an RGB image."""
    rng = random.Random(scene.seed)
    image = _background(scene, rng)
    layer = _arc_layer(scene) if scene.shape == "arc" else _text_layer(scene, rng)
    if scene.shape == "wave":
        layer = _wave(layer, scene.extras.get("amplitude", 7.0),
                      scene.extras.get("wavelength", 160.0))
    elif scene.shape == "perspective":
        layer = _perspective(layer, scene.extras.get("squeeze", 0.3))
    if scene.angle:
        layer = layer.rotate(scene.angle, resample=Image.Resampling.BICUBIC)
    image = image.convert("RGBA")
    image.alpha_composite(layer)
    return image.convert("RGB")
