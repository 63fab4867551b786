"""What the subcommands share: opening the Studio, printing JSON, formatting."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from chatimg.studio import Studio


@contextmanager
def open_studio() -> Iterator[Studio]:
    """Settings from file and env, database migrated to head, closed afterwards."""
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        yield studio
    finally:
        studio.close()


def print_json(value: Any) -> None:
    """Print records as indented JSON on stdout."""
    from chatimg.domain import to_jsonable
    from chatimg.safetext import json_escaped

    click.echo(json_escaped(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)))


def when(value: datetime | None) -> str:
    """A short local time for tables."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "-"


def is_tty() -> bool:
    return sys.stdout.isatty()


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
