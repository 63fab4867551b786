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


@db.command()
@click.option("--from", "source_url", required=True, metavar="URL",
              help="The database to read (it is not changed): sqlite:///... or postgresql+psycopg://...")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="The database to fill (upgraded to the newest schema first).")
@click.option("--assets-to", "assets_url", metavar="URL",
              help="Also copy the images from this home's [storage] url into this store.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per transaction.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def copy(source_url: str, target_url: str, assets_url: str | None, batch: int,
         quiet: bool) -> None:
    """Copy a whole history between databases (resumable; counts verified at the end)."""
    from chatimg.commands.storage import copy_assets
    from chatimg.errors import StoreError
    from chatimg.store.copy import copy_database
    from chatimg.store.database import Database

    source, target = Database(source_url), Database(target_url)
    try:
        report = copy_database(source, target, None if quiet else _table_progress, batch)
        for name, count in report.source.items():
            click.echo(f"  {name}: {count} rows, {report.inserted[name]} new, "
                       f"{report.verified[name]} verified")
        if not report.complete:
            raise StoreError(f"{target.display_url()}: not every row arrived; run again")
        click.echo(f"{source.display_url()} → {target.display_url()}: "
                   f"{sum(report.verified.values())} rows verified")
        if assets_url:
            copy_assets(target, assets_url, quiet)
    finally:
        source.dispose()
        target.dispose()


def _table_progress(table: str, done: int, total: int) -> None:
    if done == total:
        click.echo(f"copied {table}: {done}/{total}", err=True)
