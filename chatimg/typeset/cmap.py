"""Which characters a font file has glyphs for, read from its ``cmap`` table (no fontconfig).

Reads TrueType/OpenType files and the first face of a collection (``.ttc``/``.otc``): the
Unicode subtables in format 12 (full Unicode) or 4 (the Basic Multilingual Plane). Pillow has
no "has glyph" call, and a font without a glyph draws its missing-glyph box, so the typesetter
asks this module before it picks a font for a character.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class FontFormatError(ValueError):
    """The data is not a font this module can read."""


@dataclass(frozen=True)
class Coverage:
    """Sorted, non-overlapping ranges of code points that map to a real glyph."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __contains__(self, codepoint: object) -> bool:
        if not isinstance(codepoint, int):
            return False
        index = bisect.bisect_right(self.starts, codepoint) - 1
        return index >= 0 and codepoint <= self.ends[index]

    def has(self, char: str) -> bool:
        """Whether the font has a glyph for ``char`` (one code point)."""
        return ord(char) in self

    def __len__(self) -> int:
        return sum(end - start + 1 for start, end in zip(self.starts, self.ends, strict=True))


def _ranges(pairs: list[tuple[int, int]]) -> Coverage:
    pairs.sort()
    merged: list[list[int]] = []
    for start, end in pairs:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return Coverage(tuple(m[0] for m in merged), tuple(m[1] for m in merged))


def _u16(data: bytes, offset: int) -> int:
    return int(struct.unpack_from(">H", data, offset)[0])


def _u32(data: bytes, offset: int) -> int:
    return int(struct.unpack_from(">I", data, offset)[0])


def _format12(data: bytes, offset: int) -> list[tuple[int, int]]:
    groups = _u32(data, offset + 12)
    pairs = []
    for index in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, offset + 16 + 12 * index)
        if glyph == 0:  # the first code point maps to .notdef; the rest are real glyphs
            start += 1
        if start <= end:
            pairs.append((start, end))
    return pairs


def _format4(data: bytes, offset: int) -> list[tuple[int, int]]:
    segments = _u16(data, offset + 6) // 2
    ends_at = offset + 14
    starts_at = ends_at + 2 * segments + 2
    deltas_at = starts_at + 2 * segments
    range_offsets_at = deltas_at + 2 * segments
    pairs: list[tuple[int, int]] = []
    for index in range(segments):
        end = _u16(data, ends_at + 2 * index)
        start = _u16(data, starts_at + 2 * index)
        delta = _u16(data, deltas_at + 2 * index)
        range_offset = _u16(data, range_offsets_at + 2 * index)
        if start == 0xFFFF:
            continue
        if range_offset == 0:
            # Every code point maps to (c + delta) mod 65536; only one can hit glyph 0.
            hole = (-delta) % 0x10000
            if start <= hole <= end:
                pairs.extend(p for p in ((start, hole - 1), (hole + 1, end)) if p[0] <= p[1])
            else:
                pairs.append((start, end))
            continue
        base = range_offsets_at + 2 * index + range_offset
        run_start = None
        for codepoint in range(start, end + 1):
            at = base + 2 * (codepoint - start)
            glyph = _u16(data, at) if at + 2 <= len(data) else 0
            present = glyph != 0 and (glyph + delta) % 0x10000 != 0
            if present and run_start is None:
                run_start = codepoint
            elif not present and run_start is not None:
                pairs.append((run_start, codepoint - 1))
                run_start = None
        if run_start is not None:
            pairs.append((run_start, end))
    return pairs


def _cmap_coverage(data: bytes, cmap_at: int) -> Coverage:
    subtables: dict[tuple[int, int, int], int] = {}
    for index in range(_u16(data, cmap_at + 2)):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_at + 4 + 8 * index)
        fmt = _u16(data, cmap_at + offset)
        subtables[(platform, encoding, fmt)] = cmap_at + offset
    for key in ((3, 10, 12), (0, 6, 12), (0, 4, 12), (3, 1, 4), (0, 3, 4), (0, 1, 4),
                (0, 0, 4)):
        if key in subtables:
            reader = _format12 if key[2] == 12 else _format4
            return _ranges(reader(data, subtables[key]))
    raise FontFormatError("no Unicode cmap subtable")


def _find_cmap(read: Callable[[int, int], bytes]) -> tuple[int, int]:
    """(offset, length) of the cmap table of the first face; ``read(offset, size)`` reads."""
    face = 0
    if read(0, 4) == b"ttcf":
        face = _u32(read(12, 4), 0)
    tables = _u16(read(face + 4, 2), 0)
    directory = read(face + 12, 16 * tables)
    for index in range(tables):
        record = 16 * index
        if directory[record:record + 4] == b"cmap":
            return _u32(directory, record + 8), _u32(directory, record + 12)
    raise FontFormatError("no cmap table")


def coverage(data: bytes) -> Coverage:
    """The code points a font (file bytes) has glyphs for.

    Raises:
        FontFormatError: not a TrueType/OpenType font or collection, or no Unicode cmap.
    """
    try:
        cmap_at, _length = _find_cmap(lambda offset, size: data[offset:offset + size])
        return _cmap_coverage(data, cmap_at)
    except (struct.error, IndexError):
        raise FontFormatError("truncated font data") from None


def file_coverage(path: Path) -> Coverage:
    """``coverage`` of a font file, reading only its table directory and cmap table.

    Raises:
        FontFormatError: as ``coverage``.
        OSError: the file cannot be read.
    """
    with path.open("rb") as handle:
        def read(offset: int, size: int) -> bytes:
            handle.seek(offset)
            return handle.read(size)

        try:
            cmap_at, length = _find_cmap(read)
            return _cmap_coverage(read(cmap_at, length), 0)
        except (struct.error, IndexError):
            raise FontFormatError("truncated font data") from None
