"""``chatimg export``, ``import`` and ``replay``: share threads as bundles and check them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from chatimg.commands.common import json_option, open_studio, print_json


@click.command()
@click.argument("conversation_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Bundle file to write (default: chatimg-<id>.zip here).")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Re-hash every image as it goes in (sizes are always checked).")
@click.option("--quiet", "-q", is_flag=True, help="No progress line on stderr.")
def export(conversation_id: str, output: Path | None, verify: bool, quiet: bool) -> None:
    """Export a conversation as a bundle: manifest, images and an HTML gallery in one zip."""
    from chatimg.bundle.export import default_bundle_name, export_conversation

    show = not quiet and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show and (done == total or done % 25 == 0):
            click.echo(f"\rexporting images {done}/{total}", err=True, nl=done == total)

    with open_studio() as studio:
        conversation_id = studio.resolve_id("conversation", conversation_id)
        target = output or Path(default_bundle_name(conversation_id))
        written = export_conversation(studio, conversation_id, target, progress, verify=verify)
    click.echo(str(written))


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--as-copy", is_flag=True, help="Import with new ids, next to the original.")
@json_option
def import_(file: Path, as_copy: bool, as_json: bool) -> None:
    """Import a bundle, after checking all of it (nothing is written if any check fails)."""
    from chatimg.bundle.importer import import_bundle

    with open_studio() as studio:
        report = import_bundle(studio, file, as_copy=as_copy)
    if as_json:
        print_json(report)
        return
    copy = f" (a copy of {report.source_conversation_id})" if report.as_copy else ""
    click.echo(
        f"imported conversation {report.conversation_id}{copy}: {report.messages} messages,"
        f" {report.generations} generations, {report.assets} images ({report.new_files} new),"
        f" {report.validations} checks, {report.picks} picks"
    )


@click.command()
@click.argument("target")
@click.option("-m", "--model", default=None, help="Replay every generation on this model.")
@click.option("--strict", is_flag=True, help="Also fail when an image is only near.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="SSIM at or above which a changed image counts as near (default 0.98).")
@json_option
def replay(target: str, model: str | None, strict: bool, threshold: float | None,
           as_json: bool) -> int:
    """Re-run every generation of a conversation (an id or a bundle FILE) from its receipt.

    Reports each image as identical (same sha256), near (grayscale SSIM at or above the
    threshold), different, or non-deterministic (the provider does not promise the same bytes).
    Exits 1 when any image is different (or near, with --strict) or a replay failed.
    A bundle FILE is imported into a temporary database that is removed afterwards.
    """
    from chatimg.bundle.replay import DEFAULT_THRESHOLD, format_report, replay_target

    show = sys.stderr.isatty() and not as_json

    def progress(text: str) -> None:
        if show:
            click.echo(f"\r{text[:100]:<100}", err=True, nl=False)

    with open_studio() as studio:
        if not Path(target).expanduser().is_file():
            target = studio.resolve_id("conversation", target)
        report = asyncio.run(replay_target(
            studio, target, model=model, threshold=threshold or DEFAULT_THRESHOLD,
            progress=progress,
        ))
    if show:
        click.echo("\r" + " " * 100 + "\r", err=True, nl=False)
    if as_json:
        print_json(report.as_dict(strict))
    else:
        for line in format_report(report, strict):
            click.echo(line)
    return 0 if report.ok(strict) else 1
