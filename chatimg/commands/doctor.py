"""``chatimg doctor``: check the store; ``--repair`` fixes what it safely can, ``--gc`` reclaims."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chatimg.commands.common import json_option, print_json

if TYPE_CHECKING:
    from chatimg.doctor import DoctorReport
    from chatimg.studio import Studio


@click.command()
@click.option("--repair", is_flag=True,
              help="Fix what can be fixed: mark stuck generations, run missing checks, move "
                   "damaged images aside and restore them (from --from-bundle or by "
                   "regenerating deterministic images from their receipts).")
@click.option("--gc", is_flag=True,
              help="Remove files and rows nothing refers to, and leftovers of killed commands.")
@click.option("--from-bundle", "bundles", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A bundle to restore missing or damaged images from (repeatable).")
@click.option("--grace", type=click.FloatRange(min=0), default=None,
              help="Seconds an unreferenced file or row must be old before it is garbage "
                   "(default 3600).")
@json_option
def doctor(repair: bool, gc: bool, bundles: tuple[Path, ...], grace: float | None,
           as_json: bool) -> int:
    """Check the database, every image file (size and sha256) and leftovers of crashes.

    Exits 1 when a problem remains (after --repair, when given); garbage alone is not a
    problem.
    """
    from chatimg.doctor import DEFAULT_GRACE_S, examine, format_report
    from chatimg.restore import collect_garbage
    from chatimg.studio import Studio

    grace_s = DEFAULT_GRACE_S if grace is None else grace
    studio = Studio.open(tidy=False)
    try:
        report = examine(studio, grace_s=grace_s)
        if repair or gc:
            first = report
            if repair:
                asyncio.run(_repair(studio, first, list(bundles)))
            if gc:
                collect_garbage(studio, first)
            report = examine(studio, grace_s=grace_s)
            report.repaired, report.unrepaired = first.repaired, first.unrepaired
            report.reclaimed, report.reclaimed_bytes = first.reclaimed, first.reclaimed_bytes
    finally:
        studio.close()
    if as_json:
        print_json(report.as_dict())
    else:
        for line in format_report(report):
            click.echo(line)
    return 0 if report.ok else 1


async def _repair(studio: Studio, report: DoctorReport, bundles: list[Path]) -> None:
    from chatimg.restore import repair

    try:
        await repair(studio, report, bundles)
    finally:
        await studio.close_engines()
