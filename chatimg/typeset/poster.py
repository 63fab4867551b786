"""A poster from a prompt: seeded background, a template chosen by the seed, the quoted text set
as a headline and supporting lines in the prompt's style. Pure and deterministic.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.errors import InvalidRequestError
from chatimg.prompts import TextStyle, quoted_text, text_style
from chatimg.typeset.fit import (
    LINE_SPACING,
    Cancel,
    Measured,
    Setting,
    check_cancel,
    check_length,
    fit,
    measure,
)
from chatimg.typeset.fonts import font_chain

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageDraw import ImageDraw

RGB = tuple[int, int, int]
#: Layout templates; image ``seed`` uses ``TEMPLATES[seed % len(TEMPLATES)]``.
TEMPLATES = ("centred", "left", "banner", "badge", "label")
LIGHT_SURFACE: RGB = (246, 241, 230)
DARK_SURFACE: RGB = (22, 22, 30)


@dataclass(frozen=True)
class Poster:
    """A rendered poster and what it was made with (for the receipt)."""

    image: Image
    template: str
    fonts: tuple[str, ...]
    sizes: tuple[int, ...]
    """The pixel size of each block (headline first)."""


def template_for(seed: int) -> str:
    """The template an image with ``seed`` uses."""
    return TEMPLATES[seed % len(TEMPLATES)]


def luminance(rgb: RGB) -> float:
    """Relative luminance (WCAG) of an sRGB colour, 0..1."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours (1..21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _random_colour(rng: random.Random) -> RGB:
    return (rng.randrange(30, 230), rng.randrange(30, 230), rng.randrange(30, 230))


def _background(style: TextStyle, rng: random.Random, width: int,
                height: int) -> tuple[Image, RGB]:
    """The seeded gradient with soft shapes, and its average colour."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

    if style.background is not None:
        shade = (0, 0, 0) if luminance(style.background) > 0.2 else (255, 255, 255)
        palette = [style.background, _mix(style.background, shade, 0.12)]
    else:
        palette = list(style.palette)
    while len(palette) < 2:
        palette.append(_random_colour(rng))
    start, end = np.array(palette[0], np.float32), np.array(palette[1], np.float32)
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    t = (xs / small_w - 0.5) * np.cos(angle) + (ys / small_h - 0.5) * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    grid = start[None, None, :] * (1 - t[..., None]) + end[None, None, :] * t[..., None]
    small = PILImage.fromarray(grid.clip(0, 255).astype(np.uint8), "RGB").convert("RGBA")
    # Soft seeded shapes, drawn at the small size too (then scaled with the gradient: fast).
    overlay = PILImage.new("RGBA", small.size, (0, 0, 0, 0))
    draw = PILImageDraw.Draw(overlay)
    alpha_cap = 40 if style.background is not None else 90
    for _ in range(rng.randint(3, 7)):
        colour = rng.choice(palette)
        radius = rng.uniform(0.08, 0.35) * min(small_w, small_h)
        cx, cy = rng.uniform(0, small_w), rng.uniform(0, small_h)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        fill = (*colour, rng.randint(20, alpha_cap))
        if rng.random() < 0.5:
            draw.ellipse(box, fill=fill)
        else:
            draw.rectangle(box, fill=fill)
    small = PILImage.alpha_composite(small, overlay).convert("RGB")
    average: RGB = small.resize((1, 1), PILImage.Resampling.BOX).getpixel(
        (0, 0))  # type: ignore[assignment]
    return small.resize((width, height), PILImage.Resampling.BILINEAR), average


def _colours(style: TextStyle, average: RGB, needs_surface: bool) -> tuple[RGB, RGB | None]:
    """(ink, surface): the text colour and the colour of what it sits on (None: nothing)."""
    ink = style.text_colour
    if ink is None:
        ink = (250, 250, 250) if luminance(average) < 0.4 else (18, 18, 24)
    readable = contrast(ink, average) >= 4.5
    if style.background is not None and readable:
        return ink, style.background if needs_surface else None
    if not needs_surface and readable:
        return ink, None
    return ink, DARK_SURFACE if luminance(ink) > 0.3 else LIGHT_SURFACE


def render_poster(prompt: str, width: int, height: int, seed: int,
                  cancel: Cancel | None = None) -> Poster:
    """Draw the poster for ``prompt`` at ``width`` x ``height`` with ``seed``.

    Raises:
        InvalidRequestError: the quoted text does not fit at the smallest legible size.
        EngineUnavailableError: a character no installed font has (the hint names a package).
        CancelledError: ``cancel`` was set meanwhile.
    """
    from PIL import ImageDraw as PILImageDraw

    check_cancel(cancel)
    quoted = quoted_text(prompt)
    check_length(quoted)
    rng = random.Random(seed)
    style = text_style(prompt)
    image, average = _background(style, rng, width, height)
    texts = [unicodedata.normalize("NFC", " ".join(text.split())) for text in quoted]
    texts = [text.upper() if style.uppercase else text for text in texts if text]
    template = template_for(seed)
    if not texts:
        return Poster(image, template, (), ())
    headline = font_chain(style.family, style.weight)
    supporting = font_chain(style.family, "regular" if style.weight == "bold" else style.weight)
    paragraphs = [measure(text, headline if i == 0 else supporting, cancel)
                  for i, text in enumerate(texts)]
    try:
        placed = _compose(template, image, style, average, paragraphs, rng, cancel)
    except InvalidRequestError:
        if template == "centred":
            raise
        template = "centred"  # the roomiest template, before giving up
        placed = _compose(template, image, style, average, paragraphs, rng, cancel)
    setting, ink, x, top, align = placed
    check_cancel(cancel)
    _draw_setting(PILImageDraw.Draw(image), setting, ink, x, top, align, cancel)
    fonts = tuple(dict.fromkeys(
        name for block in setting.blocks for line in block.lines
        for name in block.chain.fonts_used(line)))
    return Poster(image, template, fonts, tuple(block.size for block in setting.blocks))


class _Painter:
    """Draws translucent shapes straight onto an RGB image, touching only each shape's box
    (an RGBA overlay composited over the whole image costs more than the rest together)."""

    def __init__(self, image: Image) -> None:
        self.image = image

    def _paint(self, box: tuple[float, float, float, float], rgba: tuple[int, ...] | None,
               kind: str, **options: Any) -> None:
        from PIL import Image as PILImage
        from PIL import ImageDraw as PILImageDraw

        if rgba is None:
            return
        if len(rgba) < 4 or rgba[3] == 255:  # opaque: draw straight onto the image
            key = "outline" if "width" in options else "fill"
            getattr(PILImageDraw.Draw(self.image), kind)(box, **options, **{key: tuple(rgba[:3])})
            return
        x0, y0 = max(0, int(box[0]) - 1), max(0, int(box[1]) - 1)
        x1 = min(self.image.width, int(box[2]) + 2)
        y1 = min(self.image.height, int(box[3]) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        mask = PILImage.new("L", (x1 - x0, y1 - y0), 0)
        local = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
        getattr(PILImageDraw.Draw(mask), kind)(local, **options, **{
            "outline" if "width" in options else "fill": rgba[3] if len(rgba) > 3 else 255})
        self.image.paste(tuple(rgba[:3]), (x0, y0, x1, y1), mask)

    def shape(self, kind: str, box: tuple[float, float, float, float], *,
              fill: tuple[int, ...] | None = None, outline: tuple[int, ...] | None = None,
              width: int = 1, **options: Any) -> None:
        self._paint(box, fill, kind, **options)
        self._paint(box, outline, kind, width=width, **options)

    def ellipse(self, box: tuple[float, float, float, float], **options: Any) -> None:
        self.shape("ellipse", box, **options)

    def rectangle(self, box: tuple[float, float, float, float], **options: Any) -> None:
        self.shape("rectangle", box, **options)

    def rounded_rectangle(self, box: tuple[float, float, float, float], **options: Any) -> None:
        self.shape("rounded_rectangle", box, **options)


def _largest(box_height: float, cap: float) -> int:
    """The largest headline size worth trying: one line filling the box, within ``cap``."""
    return int(min(box_height / LINE_SPACING, cap))


def _compose(template: str, image: Image, style: TextStyle, average: RGB,
             paragraphs: list[Measured], rng: random.Random,
             cancel: Cancel | None) -> tuple[Setting, RGB, float, float, str]:
    """Fit the text to ``template`` and draw its shapes; (setting, ink, x, top, alignment).

    Nothing is drawn when the text does not fit (``InvalidRequestError``).
    """
    width, height = image.size
    ink, surface = _colours(style, average, template in ("banner", "badge", "label"))
    short, long_side = min(width, height), max(width, height)
    shapes = _Painter(image)
    align = "left" if template == "left" else "centre"
    x, top = width / 2, 0.0
    if template == "badge" and 0.6 < width / height < 1.6:
        diameter = short * 0.9
        side = diameter * 0.68
        setting = fit(paragraphs, (side, side), int(side * 0.3), cancel, canvas=(width, height))
        left, top = (width - diameter) / 2, (height - diameter) / 2
        text_top = (height - setting.height) / 2
        ring = max(2, round(diameter * 0.018))
        shapes.ellipse((left, top, left + diameter, top + diameter),
                       fill=(*(surface or LIGHT_SURFACE), 255), outline=(*ink, 255), width=ring)
        inner = ring * 2.5
        shapes.ellipse((left + inner, top + inner, left + diameter - inner,
                        top + diameter - inner), outline=(*ink, 255), width=max(1, ring // 2))
        top = text_top
    elif template in ("banner", "label", "badge"):
        box_w = width * (0.86 if template == "banner" else 0.72)
        box_h = height * (0.6 if template == "banner" else 0.62)
        setting = fit(paragraphs, (box_w, box_h), _largest(box_h, long_side * 0.2), cancel,
                      canvas=(width, height))
        pad = max(6.0, setting.blocks[0].size * 0.45)
        text_w, text_h = setting.width(), setting.height
        if template == "banner":
            middle = height * rng.choice((0.5, 0.5, 0.38, 0.62))
            band = (0, middle - text_h / 2 - pad, width, middle + text_h / 2 + pad)
            top = middle - text_h / 2
            shapes.rectangle(band, fill=(*(surface or DARK_SURFACE), 255))
            edge = max(2, round(pad * 0.18))
            for y in (band[1], band[3] - edge):
                shapes.rectangle((0, y, width, y + edge), fill=(*ink, 255))
        else:
            rect = ((width - text_w) / 2 - 2 * pad, (height - text_h) / 2 - 1.6 * pad,
                    (width + text_w) / 2 + 2 * pad, (height + text_h) / 2 + 1.6 * pad)
            line = max(2, round(pad * 0.12))
            shapes.rectangle(rect, fill=(*(surface or LIGHT_SURFACE), 255), outline=(*ink, 255),
                             width=line)
            top = (height - text_h) / 2
            inset = line * 3
            shapes.rectangle((rect[0] + inset, rect[1] + inset, rect[2] - inset, rect[3] - inset),
                             outline=(*ink, 255), width=max(1, line // 2))
    else:
        margin = 0.08
        box_h = height * (1 - 2 * margin)
        setting = fit(paragraphs, (width * (1 - 2 * margin), box_h),
                      _largest(box_h, long_side * 0.22), cancel, canvas=(width, height))
        pad = setting.blocks[0].size * 0.3
        text_w, text_h = setting.width(), setting.height
        x0 = width * margin if align == "left" else (width - text_w) / 2
        top = (height - text_h) / 2
        x = x0 if align == "left" else width / 2
        if surface is not None:
            shapes.rounded_rectangle((x0 - pad, top - pad, x0 + text_w + pad, top + text_h + pad),
                                     radius=pad, fill=(*surface, 170))
        if align == "left":
            bar = max(2.0, setting.blocks[0].size * 0.1)
            shapes.rectangle((max(0.0, x0 - pad - bar), top, max(bar, x0 - pad), top + text_h),
                             fill=(*ink, 255))
    return setting, ink, x, top, align


def _draw_setting(draw: ImageDraw, setting: Setting, ink: RGB, x: float, top: float,
                  align: str, cancel: Cancel | None) -> None:
    """Draw the blocks from ``top``: lines start at ``x`` (left) or are centred on it."""
    y = top
    for block, widths in zip(setting.blocks, setting.line_widths, strict=True):
        ascent = block.chain.primary.face(block.size).getmetrics()[0]
        baseline_shift = min(float(ascent), block.line_height * 0.86)
        for line, line_width in zip(block.lines, widths, strict=True):
            check_cancel(cancel)
            runs = block.chain.runs(line)
            cursor = x if align == "left" else x - line_width / 2
            for font, part in runs:
                face = font.face(block.size)
                draw.text((cursor, y + baseline_shift), part, font=face, fill=ink, anchor="ls")
                cursor += face.getlength(part)
            y += block.line_height
        y += setting.gap


def typeset_poster(prompt: str, width: int, height: int, seed: int,
                   cancel: Cancel | None = None) -> Image:
    """The poster image for ``prompt`` (see ``render_poster``)."""
    return render_poster(prompt, width, height, seed, cancel).image
