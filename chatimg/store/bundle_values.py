"""Database values as a bundle manifest holds them: times as ISO text, JSON documents decoded,
receipts kept as the JSON text stored (``RawJSON``); one value at a time, or a whole column at
a time for export (``COLUMN_DECODERS``: one C call per value where the stored text allows).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any


class RawJSON(str):
    """A JSON document kept as text (valid JSON, as the database stored it)."""

    def parsed(self) -> Any:
        """The decoded value."""
        return json.loads(self)


def iso(value: datetime | str | None) -> str | None:
    """A stored time as ISO 8601 with its UTC offset (stored times are UTC).

    Accepts the driver's raw value too (SQLite hands back ``YYYY-MM-DD HH:MM:SS.ffffff``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}+00:00"  # SQLite's own layout, stored in UTC
        value = datetime.fromisoformat(value)
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat()


_DECODER = json.JSONDecoder()
#: The decoder's C scanner: one JSON value from a position, and where it ended.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def json_value(value: Any) -> Any:
    """A JSON column's value decoded (NULL reads as ``{}``; drivers that parse JSON pass)."""
    if value is None:
        return {}
    if not isinstance(value, str):
        return value
    # The stored text is JSON as SQLAlchemy wrote it; ``raw_decode`` skips ``loads``'s
    # whitespace handling, which such text never needs (anything else goes through ``loads``).
    with contextlib.suppress(ValueError):
        parsed, end = _DECODER.raw_decode(value)
        if end == len(value):
            return parsed
    return json.loads(value)


def json_column(values: Sequence[Any]) -> list[Any]:
    """``json_value`` of each value: one call of the C scanner each when every value is one
    whole JSON text as stored (the usual case), ``json_value`` one by one otherwise."""
    try:
        scanned = [_SCAN(value, 0) for value in values]
    except (TypeError, ValueError, StopIteration):  # NULL, not text, or not plain JSON
        return list(map(json_value, values))
    if [end for _, end in scanned] != list(map(len, values)):
        return list(map(json_value, values))
    return [parsed for parsed, _ in scanned]


def iso_column(values: Sequence[Any]) -> list[str | None]:
    """``iso`` of each value, SQLite's own layout rewritten without a call per value."""
    return [None if value is None else f"{value[:10]}T{value[11:]}+00:00"
            if value.__class__ is str and len(value) == 26 and value[10] == " "
            and value[19] == "." else iso(value) for value in values]


def raw_json(value: Any) -> RawJSON:
    """A JSON column's value kept as JSON text (NULL reads as ``{}``)."""
    if value is None:
        return RawJSON("{}")
    if isinstance(value, str):  # SQLite hands back the stored text
        return RawJSON(value)
    return RawJSON(json.dumps(value))  # drivers that parse JSON themselves


def each(decode: Callable[[Any], Any]) -> Callable[[Sequence[Any]], list[Any]]:
    """``decode`` over a column, value by value."""
    return lambda values: list(map(decode, values))


#: Value decoders that have a faster form for a whole column.
COLUMN_DECODERS: dict[Callable[[Any], Any], Callable[[Sequence[Any]], list[Any]]] = {
    json_value: json_column, iso: iso_column,
}
