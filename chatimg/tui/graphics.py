"""Terminal images as Textual strips: one way per protocol, built off the UI loop.

``prepare`` (run in a worker thread) scales an asset to a card's cell box once and encodes it
for the protocol in use: half-cell strips always (the fallback, also under modal screens),
plus one Sixel or iTerm2 sequence per text row, or one Kitty transmission.
``kitty_strips`` and ``sequence_strip`` (on the UI loop) then only join cached text for the
rows the compositor asks for:

* Kitty: placeholder cells, ordinary text the compositor scrolls and clips; the image itself
  is transmitted once, in the first frame that shows it, and deleted from the terminal in a
  later frame once no widget shows it (``hold``/``let_go``).
* Sixel and iTerm2: each row is written as background cells followed by that row's slice of
  the image, placed by absolute cursor position (cursor saved and restored). A row is redrawn
  exactly when the compositor redraws its cells, so scrolling never leaves parts of an image
  behind (text written over graphics erases them) and rows that did not change are not
  touched (no flicker). Rows under a toast draw only their visible spans.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.strip import Strip

from chatimg.termimage import Protocol, halfcell, iterm, kitty, sixel
from chatimg.tui.thumbnails import thumbnail

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

_CONTROL = ((ControlType.CURSOR_FORWARD, 0),)  # marks escape text as zero-width for Rich
_SAVE, _RESTORE = "\x1b7", "\x1b8"
PREPARED_ITEMS = 256


_HEX = [f"{value:02x}" for value in range(256)]


def _truecolor(rgb: tuple[int, int, int], cache: dict[tuple[int, int, int], Color]) -> Color:
    """``Color.from_rgb`` without its per-call formatting (the same value), cached per image:
    a photo-like frame has thousands of distinct colours, and this was most of its cost."""
    color = cache.get(rgb)
    if color is None:
        red, green, blue = rgb
        color = cache[rgb] = Color(f"#{_HEX[red]}{_HEX[green]}{_HEX[blue]}",
                                   ColorType.TRUECOLOR, triplet=ColorTriplet(red, green, blue))
    return color


def halfcell_strips(image: PILImage) -> list[Strip]:
    """Rows of ``▀`` cells: the upper pixel is the foreground, the lower the background."""
    styles: dict[tuple[tuple[int, int, int], tuple[int, int, int]], Style] = {}
    colors: dict[tuple[int, int, int], Color] = {}
    strips: list[Strip] = []
    upper_half = halfcell.UPPER_HALF
    for row in halfcell.cell_colours(image):
        segments: list[Segment] = []
        last: Style | None = None
        run = 0
        for pair in row:
            style = styles.get(pair)
            if style is None:
                upper, lower = pair
                style = styles[pair] = Style.from_color(_truecolor(upper, colors),
                                                        _truecolor(lower, colors))
            if style is last:  # one style object per colour pair: equal runs by identity
                run += 1
                continue
            if last is not None:
                segments.append(Segment(upper_half * run, last))
            last, run = style, 1
        if last is not None:
            segments.append(Segment(upper_half * run, last))
        strips.append(Strip(segments, len(row)))
    return strips


@dataclass
class Prepared:
    """An asset ready to draw in a ``cols x rows`` cell box."""

    protocol: Protocol
    cols: int
    rows: int
    cell: tuple[int, int]
    halfcells: list[Strip]
    pixels: PILImage | None = None
    indexed: sixel.Indexed | None = None
    row_sequences: list[str] = field(default_factory=list)
    image_id: int = 0
    transmission: str = ""
    _cropped: dict[tuple[int, int, int], str] = field(default_factory=dict)

    def row_sequence(self, row: int, first: int, last: int) -> str:
        """The escape sequence drawing columns ``first:last`` of text row ``row``."""
        if first == 0 and last >= self.cols and row < len(self.row_sequences):
            return self.row_sequences[row]
        key = (row, first, last)
        found = self._cropped.get(key)
        if found is None:
            found = self._cropped[key] = self._encode_row(row, first, last)
            if len(self._cropped) > 4 * self.rows:
                self._cropped.pop(next(iter(self._cropped)))
        return found

    def _encode_row(self, row: int, first: int, last: int) -> str:
        cell_w, cell_h = self.cell
        top, bottom = row * cell_h, (row + 1) * cell_h
        left, right = first * cell_w, last * cell_w
        if self.protocol == "sixel" and self.indexed is not None:
            width, height = self.indexed.size
            if top >= height or left >= width:
                return ""
            return sixel.encode(self.indexed, top, min(bottom, height), left, min(right, width))
        if self.protocol == "iterm" and self.pixels is not None:
            from PIL import Image as PILImageModule

            canvas = PILImageModule.new("RGB", (right - left, cell_h))
            canvas.paste(self.pixels.crop((left, top, right, bottom)), (0, 0))
            return iterm.inline(canvas, last - first, 1)
        return ""


_LOCK = threading.Lock()
_PREPARED: OrderedDict[tuple[str, str, int, int, tuple[int, int]], Prepared] = OrderedDict()
_IDS = itertools.count(random.randrange(0x10000, 0xE00000))
_SENT: set[int] = set()
_USERS: dict[int, int] = {}
_UNUSED: list[int] = []


def cached(protocol: Protocol, sha256: str, cols: int, rows: int,
           cell: tuple[int, int]) -> Prepared | None:
    """The prepared image if it was built before (cheap: for the first paint)."""
    with _LOCK:
        return _PREPARED.get((protocol, sha256, cols, rows, cell))


def remember(key: str, prepared: Prepared) -> None:
    """Cache ``prepared`` under ``key`` as well (a picture drawn before it was stored, now
    known by its asset's sha256: a card built again later draws it at once)."""
    cache_key = (prepared.protocol, key, prepared.cols, prepared.rows, prepared.cell)
    with _LOCK:
        _PREPARED[cache_key] = prepared
        _PREPARED.move_to_end(cache_key)
        while len(_PREPARED) > PREPARED_ITEMS:
            _PREPARED.popitem(last=False)


def prepare(protocol: Protocol, path: Path, sha256: str, cols: int, rows: int,
            cell: tuple[int, int]) -> Prepared:
    """Scale and encode an asset for ``protocol`` in a ``cols x rows`` box (cached, LRU).

    Raises:
        OSError: The asset file cannot be read.
    """
    return prepare_image(protocol, sha256, cols, rows, cell,
                         lambda width, height: thumbnail(path, sha256, width, height))


def prepare_image(protocol: Protocol, key: str, cols: int, rows: int, cell: tuple[int, int],
                  scaled: Callable[[int, int], PILImage]) -> Prepared:
    """Encode any image for ``protocol`` in a ``cols x rows`` box (cached by ``key``, LRU).

    Args:
        protocol: How it will be drawn.
        key: What identifies the image (an asset's sha256, or a name for a derived image).
        cols: Width of the box in cells.
        rows: Height of the box in cells.
        cell: Pixels per cell.
        scaled: Returns the image fitted (aspect kept) into ``width x height`` pixels.
    """
    cache_key = (protocol, key, cols, rows, cell)
    with _LOCK:
        found = _PREPARED.get(cache_key)
        if found is not None:
            _PREPARED.move_to_end(cache_key)
            return found
    prepared = Prepared(protocol, cols, rows, cell, halfcell_strips(scaled(cols, rows * 2)))
    if protocol != "halfcell":
        pixels = scaled(cols * cell[0], rows * cell[1])
        prepared.pixels = pixels
        if protocol == "kitty":
            prepared.image_id = next(_IDS)
            prepared.transmission = kitty.transmit(pixels, prepared.image_id, cols, rows)
            if kitty.in_tmux():
                prepared.transmission = kitty.tmux_wrap(prepared.transmission)
        else:
            if protocol == "sixel":
                prepared.indexed = sixel.quantize(pixels)
            text_rows = min(rows, -(-pixels.height // cell[1]))
            prepared.row_sequences = [prepared._encode_row(row, 0, cols)
                                      for row in range(text_rows)]
    with _LOCK:
        _PREPARED[cache_key] = prepared
        while len(_PREPARED) > PREPARED_ITEMS:
            _PREPARED.popitem(last=False)
    return prepared


def hold(prepared: Prepared) -> None:
    """A widget shows this Kitty image (its data must stay in the terminal)."""
    if prepared.protocol == "kitty":
        with _LOCK:
            _USERS[prepared.image_id] = _USERS.get(prepared.image_id, 0) + 1


def let_go(prepared: Prepared) -> None:
    """A widget no longer shows this Kitty image: once none does, the next frame deletes it
    from the terminal (and it is sent again if it comes back), so the terminal holds only
    what is on screen and never evicts an image the app still shows."""
    if prepared.protocol != "kitty":
        return
    with _LOCK:
        users = _USERS.get(prepared.image_id, 0) - 1
        if users > 0:
            _USERS[prepared.image_id] = users
            return
        _USERS.pop(prepared.image_id, None)
        if prepared.image_id in _SENT:
            _SENT.discard(prepared.image_id)
            _UNUSED.append(prepared.image_id)


def kitty_strips(prepared: Prepared, first: int, last: int, top: int, bottom: int,
                 background: Style) -> list[Strip]:
    """Placeholder rows ``top:bottom``, columns ``first:last``; the first strip carries the
    transmission the first time the image is drawn (and deletions of images no longer shown)."""
    red, green, blue = kitty.id_colour(prepared.image_id)
    style = background + Style(color=f"rgb({red},{green},{blue})")
    width = last - first
    strips = [Strip([Segment(kitty.placeholder_row(row, first, width), style)], width)
              for row in range(top, bottom)]
    if not strips:
        return strips
    with _LOCK:
        unsent = prepared.image_id not in _SENT
        _SENT.add(prepared.image_id)
        unused, _UNUSED[:] = list(_UNUSED), []
    control = "".join(kitty.delete(image_id) for image_id in unused)
    if control and kitty.in_tmux():
        control = kitty.tmux_wrap(control)
    if unsent:
        control += prepared.transmission
    if control:
        strips[0] = Strip([Segment(control, None, _CONTROL), *strips[0]], width)
    return strips


def sequence_strip(prepared: Prepared, row: int, first: int, last: int, left: int,
                   screen_y: int, background: Style,
                   covered: list[tuple[int, int]] | None = None) -> Strip:
    """Background cells for columns ``first:last`` of one row, then the row's image slice.

    Args:
        prepared: The encoded image.
        row: The image's text row.
        first: First column (in the image).
        last: One past the last column.
        left: Screen column of the image's column 0.
        screen_y: Screen row of this row.
        background: Style of the cells under the image.
        covered: Column spans (in the image, sorted) another widget draws over, such as a
            toast. No image is drawn there, so it cannot hide that widget. The compositor
            cuts this row at their edges and keeps a zero-width sequence with the piece on
            its right, so each visible span's sequence goes before the span's last cell,
            which shows as a half cell instead.
    """
    if not covered:
        blank = Segment(" " * (last - first), background)
        sequence = prepared.row_sequence(row, first, last) if row < prepared.rows else ""
        if not sequence:
            return Strip([blank], last - first)
        return Strip([blank, _placed(sequence, left + first, screen_y)], last - first)
    segments: list[Segment] = []
    position = first
    for start, end in [*covered, (last, last)]:
        start, end = max(start, position), min(end, last)
        if start > position:
            span_end = start - 1
            if span_end > position:
                segments.append(Segment(" " * (span_end - position), background))
                sequence = (prepared.row_sequence(row, position, span_end)
                            if row < prepared.rows else "")
                if sequence:
                    segments.append(_placed(sequence, left + position, screen_y))
            segments.extend(_half_cell(prepared, row, span_end, background))
        if end > start:
            segments.append(Segment(" " * (end - start), background))
        position = max(position, end)
    return Strip(segments, last - first)


def _placed(sequence: str, screen_x: int, screen_y: int) -> Segment:
    """A zero-width segment drawing ``sequence`` at a screen cell, cursor kept."""
    return Segment(f"{_SAVE}\x1b[{screen_y + 1};{screen_x + 1}H{sequence}{_RESTORE}", None,
                   _CONTROL)


def _half_cell(prepared: Prepared, row: int, column: int, background: Style) -> list[Segment]:
    if row < len(prepared.halfcells) and column < prepared.halfcells[row].cell_length:
        return list(prepared.halfcells[row].crop(column, column + 1))
    return [Segment(" ", background)]


def forget_transmissions() -> str:
    """Delete every Kitty image this process sent (written to the terminal on exit)."""
    with _LOCK:
        sent = sorted({*_SENT, *_UNUSED})
        _SENT.clear()
        _UNUSED.clear()
    sequence = "".join(kitty.delete(image_id) for image_id in sent)
    return kitty.tmux_wrap(sequence) if sequence and kitty.in_tmux() else sequence
