"""The layout engine's first renderer (``layout-1``), kept so images it made replay byte for byte.

Version 1 set quoted text in Pillow's bundled font on a translucent panel over a seeded gradient.
New images use ``chatimg.typeset`` (``layout-2``); receipts that name ``layout-1`` run this.
Changing anything here changes the bytes of every stored ``layout-1`` image: don't.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chatimg.prompts import colour_words, quoted_text

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

VERSION = "layout-1"


@lru_cache(maxsize=64)
def _font(size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def _luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (channel / 255 for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _wrap(text: str, font: FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        current = ""
        for word in words:
            trial = f"{current} {word}".strip()
            if current and font.getlength(trial) > max_width:
                lines.append(current)
                current = word
            else:
                current = trial
        lines.append(current)
    return [line for line in lines if line] or [text]


def render(prompt: str, seed: int, width: int, height: int) -> Any:
    """Draw one image (a PIL image) for ``prompt`` and ``seed``; pure and deterministic."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    named = colour_words(prompt)
    palette = list(named) or []
    while len(palette) < 2:
        palette.append((rng.randrange(30, 230), rng.randrange(30, 230), rng.randrange(30, 230)))
    start, end = np.array(palette[0], dtype=np.float32), np.array(palette[1], dtype=np.float32)

    # Diagonal gradient at a seeded angle, computed on a small grid and scaled up (fast).
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    t = (xs / small_w - 0.5) * np.cos(angle) + (ys / small_h - 0.5) * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    grid = start[None, None, :] * (1 - t[..., None]) + end[None, None, :] * t[..., None]
    background = Image.fromarray(grid.clip(0, 255).astype(np.uint8), "RGB").resize(
        (width, height), Image.Resampling.BILINEAR
    )

    # Seeded soft shapes in the palette's colours.
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    shapes_palette = palette + ([palette[2]] if len(palette) > 2 else [])
    for _ in range(rng.randint(3, 7)):
        colour = rng.choice(shapes_palette)
        radius = rng.uniform(0.08, 0.35) * min(width, height)
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        alpha = rng.randint(40, 90)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=(*colour, alpha))
        else:
            draw.rectangle(box, fill=(*colour, alpha))
    image = Image.alpha_composite(background.convert("RGBA"), overlay)

    texts = quoted_text(prompt)
    if texts:
        image = _typeset(image, "\n".join(texts))
    return image.convert("RGB")


def _typeset(image: Any, text: str) -> Any:
    from PIL import Image, ImageDraw

    width, height = image.size
    margin = 0.08
    box_w, box_h = width * (1 - 2 * margin), height * (1 - 2 * margin)
    size = max(8, int(min(height * 0.22, width * 0.22)))
    while True:
        font = _font(size)
        lines = _wrap(text, font, box_w)
        ascent, descent = font.getmetrics()
        line_h = (ascent + descent) * 1.15
        widest = max(font.getlength(line) for line in lines)
        if (widest <= box_w and line_h * len(lines) <= box_h) or size <= 8:
            break
        size = max(8, int(size * 0.9))
    total_h = line_h * len(lines)
    # A translucent panel behind the text keeps it legible on any background.
    sample = image.resize((1, 1)).getpixel((0, 0))[:3]
    light_text = _luminance(sample) < 0.5
    ink = (250, 250, 250, 255) if light_text else (15, 15, 20, 255)
    panel = (0, 0, 0, 110) if light_text else (255, 255, 255, 130)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    top = (height - total_h) / 2
    pad = size * 0.3
    draw.rounded_rectangle(
        ((width - widest) / 2 - pad, top - pad, (width + widest) / 2 + pad, top + total_h + pad),
        radius=pad,
        fill=panel,
    )
    for index, line in enumerate(lines):
        line_w = font.getlength(line)
        draw.text(((width - line_w) / 2, top + index * line_h), line, font=font, fill=ink)
    return Image.alpha_composite(image, layer)
