"""``chatimg bench``: every prompt x model x seed, measured, stored, reported."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chatimg.commands.common import json_option, open_studio, print_json

if TYPE_CHECKING:
    from chatimg.benchrun import BenchReport, ProgressFn, PromptSet, Scorer
    from chatimg.studio import Studio


@click.command()
@click.argument("prompts_file")
@click.option("-m", "--model", "models", multiple=True, required=True,
              help="Model to bench; repeat for several.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Seeds per prompt (0 .. N-1, the same for every model).")
@click.option("--concurrency", type=click.IntRange(min=1), default=2, show_default=True,
              help="Generations in flight at once (local engines run one at a time).")
@click.option("--run-id", default=None, help="Name the run (default: a new id); with "
              "--resume, the run to continue.")
@click.option("--resume", is_flag=True, help="Continue run --run-id: skip every prompt x model "
              "x seed already stored.")
@click.option("--max-cost", type=click.FloatRange(min=0), default=None,
              help="Stop before the run's spending (USD, stored results included) could pass "
              "this.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Where diffusers models run: this process, or Ray Serve "
              "replicas ([ray] settings; an app from `chatimg ray serve` is reused).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write an HTML report here (images and charts beside it).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar on stderr.")
@json_option
def bench(prompts_file: str, models: tuple[str, ...], seeds: int, concurrency: int,
          run_id: str | None, resume: bool, max_cost: float | None, executor: str,
          report_path: Path | None, quiet: bool, as_json: bool) -> int:
    """Run PROMPTS_FILE (or `default`, the shipped golden set) on each -m model.

    Prints a table per model: images, failure rate, median latency, typography error rate
    (mean CER) and cost per asset. A model passes when none of its generations failed and no
    image failed a blank or size check; passing marks its current version validated.
    Each result is stored as it lands: a run that was stopped or killed continues with
    `--run-id ID --resume`. Exits 0 when every model passed, 3 when one did not or the run
    stopped early (--max-cost).
    """
    from chatimg.benchreport import table_lines, write_html
    from chatimg.benchrun import load_prompts

    prompt_set = load_prompts(prompts_file)
    show = not quiet and sys.stderr.isatty()

    meter = ProgressMeter()

    def progress(done: int, total: int, item: object) -> None:
        line = meter.line(done, total)
        if show:
            click.echo("\r" + line, err=True, nl=done == total)

    with open_studio() as studio:
        attached = None
        if executor == "ray":
            from chatimg.rayserve.bench import attach

            attached = attach(studio, models)
        try:
            report = asyncio.run(_run(studio, prompt_set, list(models), seeds, progress,
                                      concurrency=concurrency, run_id=run_id, resume=resume,
                                      max_cost=max_cost,
                                      score=attached.score if attached else None))
        finally:
            if attached is not None:
                attached.detach()
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
        if report.resumed:
            click.echo(f"resumed: {report.resumed} results were already stored")
        if report.stopped:
            click.echo(f"stopped by --max-cost after ${report.spent_usd:.4f}: "
                       f"{len(report.items)} of {report.planned} done; continue with "
                       f"--run-id {report.run_id} --resume")
        for model, version in report.validated.items():
            click.echo(f"validated {model} at version {version}")
        if report_path is not None:
            click.echo(f"report: {report_path}")
    passed = all(s.passed for s in report.summaries) and not report.stopped
    return 0 if passed else 3


class ProgressMeter:
    """The progress line: a bar, counts, throughput of this invocation and time left.

    Args:
        clock: Seconds from any fixed point (``time.monotonic``).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started: float | None = None
        self.first_done = 0

    def line(self, done: int, total: int) -> str:
        """The line after ``done`` of ``total`` results (the first call starts the clock)."""
        now = self.clock()
        if self.started is None:  # results before this one were stored, or took the start-up
            self.started, self.first_done = now, done
        filled = int(30 * done / total) if total else 30
        text = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
        elapsed = now - self.started
        made = done - self.first_done
        if made > 0 and elapsed > 0:
            rate = made / elapsed
            left = (total - done) / rate
            text += f" {rate:.2f}/s ETA {_duration(left)}"
        return text


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


async def _run(studio: Studio, prompt_set: PromptSet, models: Sequence[str], seeds: int,
               progress: ProgressFn | None, *, concurrency: int, run_id: str | None,
               resume: bool, max_cost: float | None, score: Scorer | None = None
               ) -> BenchReport:
    from chatimg.benchrun import run_bench

    try:
        return await run_bench(studio, prompt_set, models, seeds, concurrency=concurrency,
                               on_progress=progress, run_id=run_id, resume=resume,
                               max_cost=max_cost, score=score)
    finally:
        await studio.close_engines()
