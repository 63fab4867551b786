"""Time-ordered, URL-safe identifiers (ULID layout) for conversations, messages and generations."""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
ID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id() -> str:
    """A 26-character id: 48 bits of milliseconds then 80 random bits, so ids sort by creation."""
    millis = time.time_ns() // 1_000_000
    randomness = int.from_bytes(os.urandom(10), "big")
    return _encode(millis, 10) + _encode(randomness, 16)


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a well-formed chatimg id."""
    return isinstance(value, str) and bool(ID_PATTERN.match(value))
