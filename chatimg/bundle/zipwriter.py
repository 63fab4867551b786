"""A small, fast, append-only zip writer for bundles (stored images, deflated text).

``zipfile`` writes a placeholder header, the data, then seeks back to patch the CRC and sizes
into the header: several system calls and a buffer flush per entry. A bundle always has each
entry's bytes in memory before writing it, so this writer computes the CRC first and writes the
final header and the data once, through one large buffer. The output is a plain zip (Zip64
records are added when the archive passes 4 GiB or 65,535 entries), readable by ``zipfile``,
``unzip`` and every archive tool.

An entry can be packed (CRC-32 and deflate) apart from the writer, on another thread, and
added later while still being listed first: readers list entries in the order of the central
directory, wherever their data lies in the file.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_LIMIT32 = 0xFFFFFFFF
_LIMIT16 = 0xFFFF
_UTF8_FLAG = 0x0800
_UNIX = 3


@dataclass(frozen=True, slots=True)
class Packed:
    """An entry's bytes as they are stored: CRC-32 and size of the data, method and payload."""

    crc: int
    size: int
    method: int
    payload: bytes


def pack(data: bytes, deflate_level: int | None = None) -> Packed:
    """``data`` as an entry: stored, or deflated at ``deflate_level``.

    Safe to call on any thread: zlib lets go of the GIL while it checksums and compresses.
    """
    if deflate_level is None:
        return Packed(zlib.crc32(data), len(data), 0, data)
    packer = zlib.compressobj(deflate_level, zlib.DEFLATED, -15)
    return Packed(zlib.crc32(data), len(data), 8, packer.compress(data) + packer.flush())


class ZipWriter:
    """Write entries to ``handle`` one after another; ``close`` writes the central directory.

    Args:
        handle: A binary file opened for writing at its start (a large buffer helps).
        date_time: The modification time recorded for every entry (year >= 1980).
    """

    def __init__(self, handle: BinaryIO, date_time: tuple[int, int, int, int, int, int]) -> None:
        year, month, day, hour, minute, second = date_time
        self._time = (hour << 11) | (minute << 5) | (second // 2)
        self._date = ((max(year, 1980) - 1980) << 9) | (month << 5) | day
        self._out = handle
        self._offset = 0
        self._central: list[bytes] = []
        self._closed = False

    @property
    def offset(self) -> int:
        """Bytes written so far (local headers and data; the directory comes at ``close``)."""
        return self._offset

    def add(self, name: str, data: bytes, *, deflate_level: int | None = None,
            mode: int = 0o100644) -> None:
        """Add one file entry: stored, or deflated when ``deflate_level`` is given."""
        if deflate_level is None:  # the per-image path: no ``Packed`` in between
            self._append(name, zlib.crc32(data), len(data), 0, data, mode, None)
        else:
            self.add_packed(name, pack(data, deflate_level), mode=mode)

    def add_packed(self, name: str, packed: Packed, *, mode: int = 0o100644,
                   listed_at: int | None = None) -> None:
        """Add one entry packed beforehand (``pack``).

        Args:
            name: The entry's path in the zip.
            packed: Its bytes as ``pack`` made them.
            mode: Unix file mode recorded for it.
            listed_at: Its position in the central directory, which is the order readers
                list entries in (default: after those added so far). Its data is always
                written at the current end of the file.
        """
        self._append(name, packed.crc, packed.size, packed.method, packed.payload, mode,
                     listed_at)

    def _append(self, name: str, crc: int, size: int, method: int, payload: bytes, mode: int,
                listed_at: int | None) -> None:
        raw_name = name.encode("utf-8")
        flags = 0 if raw_name.isascii() else _UTF8_FLAG
        if size >= _LIMIT32 or len(payload) >= _LIMIT32:
            raise ValueError(f"{name}: entries of 4 GiB or more are not supported")
        header = _LOCAL.pack(0x04034B50, 20, flags, method, self._time, self._date, crc,
                             len(payload), size, len(raw_name), 0)
        self._out.write(header + raw_name)
        self._out.write(payload)
        offset = self._offset
        self._offset += len(header) + len(raw_name) + len(payload)
        extra = b""
        if offset >= _LIMIT32:
            extra = struct.pack("<HHQ", 0x0001, 8, offset)
        record = _CENTRAL.pack(
            0x02014B50, (_UNIX << 8) | (45 if extra else 20), 45 if extra else 20, flags,
            method, self._time, self._date, crc, len(payload), size, len(raw_name),
            len(extra), 0, 0, 0, mode << 16, min(offset, _LIMIT32),
        ) + raw_name + extra
        if listed_at is None:
            self._central.append(record)
        else:
            self._central.insert(listed_at, record)

    def close(self) -> None:
        """Write the central directory and the end records (Zip64 ones when needed)."""
        if self._closed:
            return
        self._closed = True
        start = self._offset
        directory = b"".join(self._central)
        self._out.write(directory)
        count, size = len(self._central), len(directory)
        if count >= _LIMIT16 or start >= _LIMIT32 or size >= _LIMIT32:
            end64 = start + size
            self._out.write(_END64.pack(0x06064B50, 44, (_UNIX << 8) | 45, 45, 0, 0, count,
                                        count, size, start))
            self._out.write(_LOCATOR64.pack(0x07064B50, 0, end64, 1))
        self._out.write(_END.pack(0x06054B50, 0, 0, min(count, _LIMIT16), min(count, _LIMIT16),
                                  min(size, _LIMIT32), min(start, _LIMIT32), 0))
        self._out.flush()
