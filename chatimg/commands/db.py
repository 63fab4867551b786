"""``chatimg db upgrade|current|downgrade``: schema migrations for operators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from chatimg.store.database import Database


def _database() -> Database:
    from chatimg.config import load_settings
    from chatimg.store.database import Database

    return Database(load_settings().database_url)


@click.group()
def db() -> None:
    """Database migrations (the app and CLI also upgrade on start)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade to REVISION (default: head)."""
    database = _database()
    database.upgrade(revision)
    click.echo(f"{database.display_url()}: at {database.current_revision()}")


@db.command()
def current() -> None:
    """Print the database's revision and the newest one."""
    database = _database()
    current_rev = database.current_revision()
    head = database.head_revision()
    state = "up to date" if current_rev == head else "behind"
    click.echo(f"{database.display_url()}: {current_rev or '(empty)'} (head {head}, {state})")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade to REVISION (``base`` empties the database; rows are lost)."""
    database = _database()
    database.downgrade(revision)
    click.echo(f"{database.display_url()}: at {database.current_revision() or '(empty)'}")
