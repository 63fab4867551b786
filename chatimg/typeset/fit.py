"""Fitting text into a box: measure once, wrap greedily, search the size — linear in the text.

Every word is measured once at a reference size (per font run, so fallback fonts count) and
its width at any other size is scaled from that, so trying a size costs one pass over the word
widths, and the size search (a bisection) a handful of passes. Text that cannot fit at the
smallest legible size is refused with a one-line error instead of being set unreadably small
or cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from chatimg.errors import CancelledError, InvalidRequestError
from chatimg.typeset.fonts import FontChain

REFERENCE_SIZE = 64
MIN_SIZE = 8
LINE_SPACING = 1.18
#: Supporting lines are set at this fraction of the headline's size.
SUPPORT_RATIO = 0.46
#: Gap between the headline and the supporting lines, in headline line heights.
GAP = 0.45
#: How often long loops look at the cancel token (words).
CANCEL_EVERY = 512
#: The most characters of quoted text set on one image: a poster, a label or a page of text.
MAX_CHARACTERS = 20_000


class Cancel(Protocol):
    """Anything with a ``cancelled`` flag (``chatimg.engines.base.CancelToken``)."""

    @property
    def cancelled(self) -> bool: ...


def check_cancel(cancel: Cancel | None) -> None:
    """Raise ``CancelledError`` when ``cancel`` says so."""
    if cancel is not None and cancel.cancelled:
        raise CancelledError("cancelled while typesetting")


@dataclass(frozen=True)
class Measured:
    """One paragraph's words and their widths at ``REFERENCE_SIZE``."""

    chain: FontChain
    words: tuple[str, ...]
    widths: tuple[float, ...]
    space: float


def measure(text: str, chain: FontChain, cancel: Cancel | None = None) -> Measured:
    """Split ``text`` into words and measure each once (repeated words are measured once)."""
    words = tuple(text.split())
    cache: dict[str, float] = {}
    widths: list[float] = []
    for index, word in enumerate(words):
        if index % CANCEL_EVERY == 0:
            check_cancel(cancel)
        width = cache.get(word)
        if width is None:
            width = cache[word] = run_width(word, chain, REFERENCE_SIZE)
        widths.append(width)
    space = chain.primary.face(REFERENCE_SIZE).getlength(" ")
    return Measured(chain, words, tuple(widths), space)


def run_width(text: str, chain: FontChain, size: int) -> float:
    """The advance width of ``text`` at ``size``, drawn with per-character font fallback."""
    return sum(font.face(size).getlength(part) for font, part in chain.runs(text))


def wrap(measured: Measured, size: float, max_width: float,
         cancel: Cancel | None = None, *, break_words: bool = True) -> list[str] | None:
    """Greedy line breaking at ``size``; None when it cannot fit ``max_width``.

    A word wider than the box is broken between characters when ``break_words`` (else: None).
    """
    scale = size / REFERENCE_SIZE
    space = measured.space * scale
    lines: list[str] = []
    current: list[str] = []
    current_width = 0.0
    for index, (word, reference) in enumerate(zip(measured.words, measured.widths, strict=True)):
        if index % CANCEL_EVERY == 0:
            check_cancel(cancel)
        width = reference * scale
        if width > max_width:
            if not break_words:
                return None
            pieces = _break_word(word, measured.chain, scale, max_width)
            if pieces is None:
                return None
            if current:
                lines.append(" ".join(current))
            lines.extend(piece for piece, _ in pieces[:-1])
            current, current_width = [pieces[-1][0]], pieces[-1][1]
            continue
        if current and current_width + space + width > max_width:
            lines.append(" ".join(current))
            current, current_width = [], 0.0
        current_width += (space if current else 0.0) + width
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


def _break_word(word: str, chain: FontChain, scale: float,
                max_width: float) -> list[tuple[str, float]] | None:
    pieces: list[tuple[str, float]] = []
    piece, piece_width = "", 0.0
    for char in word:
        width = run_width(char, chain, REFERENCE_SIZE) * scale
        if width > max_width:
            return None
        if piece and piece_width + width > max_width:
            pieces.append((piece, piece_width))
            piece, piece_width = "", 0.0
        piece += char
        piece_width += width
    pieces.append((piece, piece_width))
    return pieces


@dataclass(frozen=True)
class Block:
    """Lines set at one size (a headline, or the supporting lines)."""

    chain: FontChain
    lines: tuple[str, ...]
    size: int

    @property
    def line_height(self) -> float:
        return self.size * LINE_SPACING

    @property
    def height(self) -> float:
        return self.line_height * len(self.lines)


@dataclass(frozen=True)
class Setting:
    """The headline and supporting blocks that fit a box, and the size they needed."""

    blocks: tuple[Block, ...]
    gap: float

    @property
    def height(self) -> float:
        return sum(block.height for block in self.blocks) + self.gap * (len(self.blocks) - 1)

    @cached_property
    def line_widths(self) -> tuple[tuple[float, ...], ...]:
        """Each block's line widths, measured exactly at its size (once)."""
        return tuple(tuple(run_width(line, block.chain, block.size) for line in block.lines)
                     for block in self.blocks)

    def width(self) -> float:
        """The widest line, measured exactly at its size."""
        return max((width for widths in self.line_widths for width in widths), default=0.0)


def _try(paragraphs: Sequence[Measured], size: int, box: tuple[float, float],
         cancel: Cancel | None, break_words: bool) -> Setting | None:
    box_w, box_h = box
    blocks: list[Block] = []
    height = 0.0
    for position, measured in enumerate(paragraphs):
        block_size = size if position == 0 else max(MIN_SIZE, round(size * SUPPORT_RATIO))
        lines = wrap(measured, block_size, box_w, cancel, break_words=break_words)
        if lines is None:
            return None
        block = Block(measured.chain, tuple(lines), block_size)
        height += block.height
        if height > box_h:
            return None
        blocks.append(block)
    gap = size * LINE_SPACING * GAP if len(blocks) > 1 else 0.0
    setting = Setting(tuple(blocks), gap)
    return setting if setting.height <= box_h else None


def check_length(texts: Sequence[str]) -> None:
    """Refuse quoted text longer than ``MAX_CHARACTERS`` (before any work is done).

    Raises:
        InvalidRequestError: the text is too long.
    """
    characters = sum(len(text) for text in texts)
    if characters > MAX_CHARACTERS:
        raise InvalidRequestError(
            f"the quoted text has {characters:,} characters; the typesetter sets at most "
            f"{MAX_CHARACTERS:,} on one image", "shorten the quoted text",
        )


def fit(paragraphs: Sequence[Measured], box: tuple[float, float], max_size: int,
        cancel: Cancel | None = None, *, canvas: tuple[int, int] | None = None) -> Setting:
    """The largest headline size (at most ``max_size``) at which everything fits ``box``.

    ``canvas`` (the image size) is only for the error message.

    Raises:
        InvalidRequestError: the text does not fit even at ``MIN_SIZE`` pixels.
        CancelledError: ``cancel`` was set.
    """
    low, high = MIN_SIZE, max(MIN_SIZE, max_size)
    break_words = False  # words are broken only when they cannot fit whole at any size
    best = _try(paragraphs, low, box, cancel, break_words)
    if best is None:
        break_words = True
        best = _try(paragraphs, low, box, cancel, break_words)
    if best is None:
        characters = sum(len(" ".join(m.words)) for m in paragraphs)
        where = (f"a {canvas[0]}x{canvas[1]} image" if canvas
                 else f"{int(box[0])}x{int(box[1])} pixels")
        raise InvalidRequestError(
            f"the quoted text ({characters:,} characters) does not fit {where} at the "
            f"smallest legible size ({MIN_SIZE} px)",
            "shorten the text or ask for a larger image",
        )
    while low < high:  # invariant: fits at low
        middle = (low + high + 1) // 2
        trial = _try(paragraphs, middle, box, cancel, break_words)
        if trial is None:
            high = middle - 1
        else:
            low, best = middle, trial
    # Widths were scaled from the reference size; hinting can make real lines a little wider.
    for _ in range(4):
        if best.width() <= box[0] or low <= MIN_SIZE:
            break
        low = max(MIN_SIZE, int(low * 0.95))
        best = _try(paragraphs, low, box, cancel, break_words) or best
    return best
