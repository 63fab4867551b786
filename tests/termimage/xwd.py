"""Read X window dumps (``xwd -root``): TrueColor ZPixmap, 24/32 bits per pixel."""

from __future__ import annotations

import struct

from PIL import Image


def read_xwd(data: bytes) -> Image.Image:
    """The RGB image in an XWD file (as ``xwd`` writes it for a 24-bit TrueColor screen)."""
    header = struct.unpack(">25I", data[:100])
    header_size, _version, pixmap_format, depth, width, height = header[:6]
    byte_order, bits_per_pixel, bytes_per_line, colour_count = (header[7], header[11],
                                                                header[12], header[19])
    red_mask, green_mask, blue_mask = header[14:17]
    assert pixmap_format == 2 and depth == 24 and bits_per_pixel == 32, header
    assert (red_mask, green_mask, blue_mask) == (0xFF0000, 0xFF00, 0xFF), "not RGB TrueColor"
    offset = header_size + colour_count * 12
    raw = data[offset:offset + bytes_per_line * height]
    mode = "BGRX" if byte_order == 0 else "XRGB"
    return Image.frombytes("RGB", (width, height), raw, "raw", mode, bytes_per_line)
