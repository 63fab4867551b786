"""``chatimg bench``: every prompt x model x seed, measured, stored, reported."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chatimg.commands.common import json_option, open_studio, print_json

if TYPE_CHECKING:
    from chatimg.benchrun import BenchReport, ProgressFn, PromptSet
    from chatimg.studio import Studio


@click.command()
@click.argument("prompts_file")
@click.option("-m", "--model", "models", multiple=True, required=True,
              help="Model to bench; repeat for several.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Seeds per prompt (0 .. N-1, the same for every model).")
@click.option("--concurrency", type=click.IntRange(min=1), default=2, show_default=True,
              help="Generations in flight at once (local engines run one at a time).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write an HTML report here (images and charts beside it).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar on stderr.")
@json_option
def bench(prompts_file: str, models: tuple[str, ...], seeds: int, concurrency: int,
          report_path: Path | None, quiet: bool, as_json: bool) -> int:
    """Run PROMPTS_FILE (or `default`, the shipped golden set) on each -m model.

    Prints a table per model: images, failure rate, median latency, typography error rate
    (mean CER) and cost per asset. A model passes when none of its generations failed and no
    image failed a blank or size check; passing marks its current version validated.
    Exits 0 when every model passed, 3 when one did not.
    """
    from chatimg.benchreport import table_lines, write_html
    from chatimg.benchrun import load_prompts

    prompt_set = load_prompts(prompts_file)
    show = not quiet and sys.stderr.isatty()

    def progress(done: int, total: int, item: object) -> None:
        if not show:
            return
        filled = int(30 * done / total)
        click.echo(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", err=True,
                   nl=done == total)

    with open_studio() as studio:
        report = asyncio.run(_run(studio, prompt_set, list(models), seeds, concurrency,
                                  progress))
    if report_path is not None:
        write_html(report, report_path)
    if as_json:
        data = report.as_dict()
        data["report"] = str(report_path) if report_path else None
        print_json(data)
    else:
        for line in table_lines(report.summaries):
            click.echo(line)
        click.echo(f"bench run {report.run_id}, conversation {report.conversation_id}")
        for model, version in report.validated.items():
            click.echo(f"validated {model} at version {version}")
        if report_path is not None:
            click.echo(f"report: {report_path}")
    return 0 if all(s.passed for s in report.summaries) else 3


async def _run(studio: Studio, prompt_set: PromptSet, models: Sequence[str], seeds: int,
               concurrency: int, progress: ProgressFn | None) -> BenchReport:
    from chatimg.benchrun import run_bench

    try:
        return await run_bench(studio, prompt_set, models, seeds, concurrency=concurrency,
                               on_progress=progress)
    finally:
        await studio.close_engines()
