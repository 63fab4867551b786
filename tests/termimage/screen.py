"""A tiny graphics terminal for tests: replays an escape stream onto a pixel canvas.

It knows what chatimg's frames use: cursor moves (``CSI r;c H``, ``ESC 7``/``ESC 8``, newline),
SGR colours on text cells (a ``▀`` cell paints its upper half in the foreground and its lower
half in the background, any other cell its background), Sixel (DCS ``q``), iTerm2 OSC 1337
``File=`` (stretched to its ``width x height`` cells) and Kitty APC transmissions plus
Unicode placeholder cells (recorded, not drawn: how a terminal scales a virtual placement
is its own business).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PIL import Image
from rich.cells import cell_len

from tests.termimage.decoders import (
    OSC_FILE,
    KittyImage,
    decode_iterm,
    decode_kitty,
    decode_sixel_layers,
)

_TOKEN = re.compile(
    r"(?P<sixel>\x1bP[0-9;]*q.*?\x1b\\)|(?P<apc>\x1b_G.*?\x1b\\)"
    r"|(?P<osc>\x1b\].*?(?:\x07|\x1b\\))|(?P<csi>\x1b\[[0-9;:?<>=$]*[ -/]*[@-~])"
    r"|(?P<esc>\x1b[78])|(?P<other_esc>\x1b.)|(?P<text>[^\x1b]+)", re.S)
_MARK = "\U0010eeee"


@dataclass
class Placeholder:
    """A Kitty placeholder cell: where it is, the image id its colour names, its marks."""

    x: int
    y: int
    image_id: int
    marks: str


@dataclass
class PixelScreen:
    """A ``cols x rows`` terminal with ``cell`` pixels per cell."""

    cols: int
    rows: int
    cell: tuple[int, int] = (10, 20)
    canvas: Image.Image = field(init=False)
    kitty: list[KittyImage] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)
    sixels_drawn: int = 0

    def __post_init__(self) -> None:
        self.canvas = Image.new("RGB", (self.cols * self.cell[0], self.rows * self.cell[1]))
        self.x = self.y = 0
        self.saved = (0, 0)
        self.fg: tuple[int, int, int] | None = None
        self.bg: tuple[int, int, int] = (0, 0, 0)
        self._apc = ""

    def feed(self, stream: str) -> PixelScreen:
        """Replay ``stream``; returns self."""
        for match in _TOKEN.finditer(stream):
            kind, text = match.lastgroup, match.group(0)
            if kind == "sixel":
                self._sixel(text)
            elif kind == "apc":  # chunks (m=1) gather until the last one (m=0)
                self._apc += text
                if ",m=1" not in text.split(";", 1)[0] and not text.startswith("\x1b_Gm=1"):
                    self.kitty.extend(decode_kitty(self._apc))
                    self._apc = ""
            elif kind == "osc" and OSC_FILE.match(text):
                self._iterm(text)
            elif kind == "csi":
                self._csi(text)
            elif kind == "esc":
                if text == "\x1b7":
                    self.saved = (self.x, self.y)
                else:
                    self.x, self.y = self.saved
            elif kind == "text":
                self._text(text)
        return self

    def region(self, x: int, y: int, width: int, height: int) -> Image.Image:
        """The pixels of a cell region."""
        cw, ch = self.cell
        return self.canvas.crop((x * cw, y * ch, (x + width) * cw, (y + height) * ch))

    def _sixel(self, text: str) -> None:
        image, mask = decode_sixel_layers(text)
        # unset pixels are transparent (P2=1): only what the stream set is drawn
        self.canvas.paste(image, (self.x * self.cell[0], self.y * self.cell[1]), mask)
        self.sixels_drawn += 1

    def _iterm(self, text: str) -> None:
        for args, image in decode_iterm(text):
            size = (int(args["width"]) * self.cell[0], int(args["height"]) * self.cell[1])
            self.canvas.paste(image.resize(size), (self.x * self.cell[0], self.y * self.cell[1]))

    def _csi(self, text: str) -> None:
        final, body = text[-1], text[2:-1]
        if final == "H" and not body.startswith("?"):
            parts = [int(p) if p else 1 for p in body.split(";")] if body else [1, 1]
            self.y, self.x = parts[0] - 1, (parts[1] if len(parts) > 1 else 1) - 1
        elif final == "m":
            self._sgr([int(p) if p else 0 for p in body.split(";")] if body else [0])

    def _sgr(self, codes: list[int]) -> None:
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                self.fg, self.bg = None, (0, 0, 0)
            elif code in (38, 48):
                assert codes[i + 1] == 2, "only truecolor is drawn (set COLORTERM=truecolor)"
                rgb = (codes[i + 2], codes[i + 3], codes[i + 4])
                if code == 38:
                    self.fg = rgb
                else:
                    self.bg = rgb
                i += 4
            elif (30 <= code <= 49 or 90 <= code <= 107) and code not in (39, 49):
                raise AssertionError(f"palette colour {code}: only truecolor is drawn")
            i += 1

    def _text(self, text: str) -> None:
        cw, ch = self.cell
        for char in text:
            if char == "\n":
                self.x, self.y = 0, self.y + 1
                continue
            width = cell_len(char)
            if width == 0:  # a combining mark: belongs to the previous cell
                if self.placeholders and self.placeholders[-1].x == self.x - 1 \
                        and self.placeholders[-1].y == self.y:
                    self.placeholders[-1].marks += char
                continue
            if not (0 <= self.y < self.rows):
                self.x += width
                continue
            left, top = self.x * cw, self.y * ch
            if char == _MARK:
                fg = self.fg or (0, 0, 0)
                self.placeholders.append(
                    Placeholder(self.x, self.y, fg[0] << 16 | fg[1] << 8 | fg[2], ""))
            if char == "▀" and self.fg is not None:
                self.canvas.paste(self.fg, (left, top, left + cw * width, top + ch // 2))
                self.canvas.paste(self.bg, (left, top + ch // 2, left + cw * width, top + ch))
            else:
                self.canvas.paste(self.bg, (left, top, left + cw * width, top + ch))
            self.x += width


__all__ = ["PixelScreen", "Placeholder"]
