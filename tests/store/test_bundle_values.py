"""Export's rows decode a column at a time with the same results as value by value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from chatimg.store.bundle_values import iso, iso_column, json_column, json_value


@pytest.mark.parametrize("column", [
    ['{"seed": 1, "width": 64}', '{"source_asset": "ab", "nested": {"k": [1, 2.5, null]}}'],
    ["[]", '"text"', "3", "null", "true", '{"é": "ü\\n"}'],
    ['{"a": 1}', None, '{"b": 2}'],  # NULL reads as {}
    [' {"a": 1}', '{"a": 1} ', '{"a":1}'],  # whitespace around: not the stored layout
    [{"already": "parsed"}, '{"b": 2}'],  # drivers that parse JSON themselves
    [],
])
def testjson_column_decodes_like_each_value(column: list[Any]) -> None:
    decoded = json_column(column)
    assert decoded == [json_value(value) for value in column]
    assert json.dumps(decoded) == json.dumps([json_value(value) for value in column])
    again = json_column(column)
    assert all(a is not b for a, b, value in zip(decoded, again, column, strict=True)
               if isinstance(value, str | None) and isinstance(a, dict | list))  # not shared


def testjson_column_refuses_what_each_value_refuses() -> None:
    for bad in (['{"a": 1}', "{"], ['{"a": 1}', "1, 2"], ["NaN-ish"]):
        with pytest.raises(ValueError):
            json_value(bad[-1])
        with pytest.raises(ValueError):
            json_column(bad)


def testiso_column_formats_like_each_value() -> None:
    column: list[Any] = [
        "2026-11-30 12:34:56.123456",  # SQLite's own layout
        "2026-11-30 12:34:56",  # no fraction
        "2026-11-30T12:34:56.123456+02:00",
        datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 11, 30, 12, 0),
        None,
    ]
    assert iso_column(column) == [iso(value) for value in column]
    assert iso_column(column)[0] == "2026-11-30T12:34:56.123456+00:00"
