"""``chatimg storage migrate|verify|gc`` and ``chatimg share``: the asset store for operators."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from chatimg.errors import ConfigError, InvalidRequestError

if TYPE_CHECKING:
    from chatimg.config import Settings
    from chatimg.store.assets import AssetStore
    from chatimg.store.database import Database

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: The shortest grace ``storage gc`` accepts: writers refresh older blobs they deduplicate.
MIN_GRACE_S = 3600.0


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``12h``, ``7d`` or ``2w`` as a timedelta.

    Raises:
        InvalidRequestError: anything else.
    """
    match = _DURATION.match(text)
    if match is None:
        raise InvalidRequestError(f"not a duration: {text!r}", "write e.g. 30m, 12h, 7d or 2w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@contextmanager
def _opened() -> Iterator[tuple[Settings, Database, AssetStore]]:
    from chatimg.config import load_settings
    from chatimg.redaction import install_log_redaction
    from chatimg.store.backends import open_asset_store
    from chatimg.store.database import Database

    settings = load_settings()
    install_log_redaction(settings.secret_values)
    database = Database(settings.database_url)
    database.ensure_current()
    try:
        yield settings, database, open_asset_store(settings.storage)
    finally:
        database.dispose()


@contextmanager
def _bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A click progress bar fed with ``(done, total)``; silent when ``enabled`` is False."""
    if not enabled:
        yield _silent
        return
    with click.progressbar(length=1, label=label, file=sys.stderr, show_pos=True) as bar:
        def report(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        yield report


def _silent(done: int, total: int) -> None:
    """No progress shown."""


@click.group()
def storage() -> None:
    """The image store: migrate to another backend, verify it, collect garbage."""


@storage.command()
@click.option("--to", "target_url", required=True, metavar="URL",
              help="file:///folder, s3://bucket/prefix, gs://bucket/prefix or memory://")
@click.option("--no-switch", is_flag=True, help="Copy and verify, but keep the current url.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def migrate(target_url: str, no_switch: bool, quiet: bool) -> None:
    """Copy every image to URL (resumable, concurrent), verify, then switch [storage] url."""
    from chatimg import paths
    from chatimg.config_edit import set_string
    from chatimg.store.backends import open_asset_store
    from chatimg.store.operations import migrate as run_migrate

    with _opened() as (settings, database, source):
        target = open_asset_store(settings.storage, target_url)
        if target.url == source.url:
            raise InvalidRequestError(f"the images are already in {target_url}")
        with _bar("copying images", not quiet) as report:
            result = run_migrate(database, source, target, settings.storage.concurrency,
                                 report)
    click.echo(f"{result.total} images: {result.copied} copied, {result.already} already "
               f"there, {result.verified} verified in {target.url}")
    if result.problems:
        for problem in result.problems[:50]:
            click.echo(f"  {problem.line()}", err=True)
        raise click.ClickException(
            f"{len(result.problems)} images could not be copied; [storage] url unchanged "
            "(run again to resume)")
    if not no_switch:
        config = settings.config_path or paths.config_file()
        set_string(config, "storage", "url", target_url)
        click.echo(f"{config}: [storage] url = {target_url}")


def copy_assets(database: Database, target_url: str, quiet: bool) -> None:
    """Copy the images ``database``'s rows name from this home's store into ``target_url``.

    Raises:
        click.ClickException: some images could not be copied (listed on stderr).
    """
    from chatimg.config import load_settings
    from chatimg.store.backends import open_asset_store
    from chatimg.store.operations import migrate as run_migrate

    settings = load_settings()
    source = open_asset_store(settings.storage)
    target = open_asset_store(settings.storage, target_url)
    if source.url == target.url:
        click.echo(f"images: already in {target.url}")
        return
    with _bar("copying images", not quiet) as report:
        result = run_migrate(database, source, target, settings.storage.concurrency, report)
    click.echo(f"images: {result.total}, {result.copied} copied, {result.already} already "
               f"there, {result.verified} verified in {target.url}")
    if result.problems:
        for problem in result.problems[:50]:
            click.echo(f"  {problem.line()}", err=True)
        raise click.ClickException(f"{len(result.problems)} images could not be copied")


@storage.command()
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def verify(quiet: bool) -> None:
    """Check that every image row's blob exists and hashes right; exit 1 listing problems."""
    from chatimg.store.operations import verify as run_verify

    with _opened() as (settings, database, store), _bar("verifying", not quiet) as report:
        checked, problems = run_verify(database, store, settings.storage.concurrency, report)
    for problem in problems:
        click.echo(problem.line())
    click.echo(f"{store.url}: {checked} images checked, {len(problems)} problems",
               err=bool(problems))
    if problems:
        raise click.exceptions.Exit(1)


@storage.command()
@click.option("--older-than", "older_than", default="7d", show_default=True,
              help="Grace period: unreferenced blobs younger than this are kept.")
@click.option("--dry-run", is_flag=True, help="Report what would be removed.")
def gc(older_than: str, dry_run: bool) -> None:
    """Remove blobs no image row names (mark and sweep with a grace period)."""
    from chatimg.store.operations import gc as run_gc

    grace = parse_duration(older_than).total_seconds()
    if grace < MIN_GRACE_S:
        raise ConfigError(f"--older-than {older_than}: the grace must be at least 1h",
                          "other clients may be between uploading a blob and saving its row")
    with _opened() as (_, database, store):
        report = run_gc(database, store, grace, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{store.url}: {report.blobs} blobs, {report.unreferenced} unreferenced "
               f"({report.young} within {older_than}); {verb} "
               f"{report.unreferenced - report.young if dry_run else report.removed} "
               f"({report.freed_bytes} bytes freed)")


@click.command()
@click.argument("conversation")
@click.option("--link", is_flag=True, required=True, help="Print presigned links.")
@click.option("--ttl", default="7d", show_default=True, help="How long the links work.")
def share(conversation: str, link: bool, ttl: str) -> None:
    """Print presigned URLs of a conversation's bundle and images (s3://, gs:// stores).

    The bundle (the same zip as ``chatimg export``, with its HTML gallery) is uploaded under
    ``shares/`` in the store; the links work for ``--ttl`` without credentials.
    """
    import tempfile
    from pathlib import Path

    from chatimg.bundle.export import export_conversation
    from chatimg.commands.common import open_studio
    from chatimg.store.assets import AssetStore

    expires = parse_duration(ttl)
    if expires > timedelta(days=7):
        raise InvalidRequestError(f"--ttl {ttl}: presigned links last at most 7d")
    with open_studio() as studio:
        conversation_id = studio.resolve_id("conversation", conversation)
        thread = studio.repo.load_thread(conversation_id)
        assets = {asset.sha256: asset for message in thread.messages
                  for g in message.generations for asset in g.assets}
        links = []
        for asset in assets.values():
            url = studio.assets.sign_url(AssetStore.relative_path(asset.sha256, asset.mime),
                                         expires)
            if url is None:
                raise ConfigError(f"{studio.assets.url} cannot make links",
                                  "links need an s3:// or gs:// [storage] url; "
                                  "share a bundle instead: chatimg export")
            links.append(f"{asset.sha256[:12]} {url}")
        with tempfile.TemporaryDirectory(prefix="chatimg-share-") as folder:
            bundle = export_conversation(studio, conversation_id, Path(folder) / "share.zip")
            bundle_url = studio.assets.share_file(bundle.read_bytes(), "zip", expires)
        if bundle_url is None:
            raise ConfigError(f"{studio.assets.url} cannot make links",
                              "links need an s3:// or gs:// [storage] url")
        click.echo(f"bundle {bundle_url}")
        for line in links:
            click.echo(line)
