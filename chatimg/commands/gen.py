"""``chatimg gen``: send a prompt to one or more models and store the results."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import TYPE_CHECKING

import click

from chatimg.commands.common import json_option, open_studio, print_json
from chatimg.errors import InvalidRequestError
from chatimg.safetext import shown

if TYPE_CHECKING:
    from chatimg.generation import EventCallback
    from chatimg.spec import GenerationSpec, RouteHints
    from chatimg.studio import GenerateOutcome, GenerationEvent, Studio

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"512x768"`` → (512, 768)."""
    match = _SIZE.match(text)
    if not match:
        raise InvalidRequestError(f"size {text!r} is not WIDTHxHEIGHT (e.g. 512x512)")
    return int(match.group(1)), int(match.group(2))


@click.command()
@click.argument("prompt")
@click.option("-m", "--model", "models", multiple=True, help="Model name; repeat to fan out.")
@click.option("--seed", type=int, default=None, help="Seed (default: random, recorded).")
@click.option("--steps", type=int, default=None)
@click.option("--guidance", type=float, default=None)
@click.option("--scheduler", default=None, help="Scheduler class name (diffusers).")
@click.option("--size", default=None, help="WIDTHxHEIGHT, e.g. 768x512.")
@click.option("-n", "count", type=int, default=1, show_default=True, help="Images per model.")
@click.option("--negative", default=None, help="Negative prompt.")
@click.option("--clip-skip", type=int, default=None,
              help="CLIP text-encoder layers to skip (diffusers).")
@click.option("--from", "source", default=None, help="Source image: a file or an asset sha256.")
@click.option("--strength", type=float, default=None, help="img2img strength in [0, 1].")
@click.option("--mask", default=None, help="Mask image for inpainting (white = repaint).")
@click.option("--upscale", type=float, default=None, help="Upscale the --from image.")
@click.option("--conversation", "conversation_id", default=None, help="Add to this conversation.")
@click.option("--new", "new_conversation", is_flag=True, help="Start a new conversation (default).")
@click.option("--title", default=None, help="Title of the new conversation.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--budget", type=float, default=None,
              help="Most this message may cost in USD (routes with a budget rule pick by it).")
@click.option("--draft", is_flag=True, help="Ask for the draft preset (routes: the fast model).")
@click.option("-o", "--output", default=None,
              help="Write the images out: a FILE for one image, a DIR for several "
                   "(named <generation id>-<n>.png).")
@json_option
def gen(
    prompt: str, models: tuple[str, ...], seed: int | None, steps: int | None,
    guidance: float | None, scheduler: str | None, size: str | None, count: int,
    negative: str | None, source: str | None, strength: float | None, mask: str | None,
    upscale: float | None, conversation_id: str | None, new_conversation: bool,
    title: str | None, quiet: bool, budget: float | None, draft: bool, as_json: bool,
    clip_skip: int | None, output: str | None,
) -> int:
    """Generate images for PROMPT. Several -m fan the prompt out to several models.

    Exits 0 when at least one generation succeeded.
    """
    from chatimg.studio import GenerationSpec, RouteHints

    if conversation_id and new_conversation:
        raise InvalidRequestError("use either --conversation or --new, not both")
    if output is not None:
        from chatimg.image_files import check_target

        check_target(output, max(1, count) * max(1, len(models)))
    width = height = None
    if size:
        width, height = parse_size(size)
    spec = GenerationSpec.build(
        seed=seed, steps=steps, guidance=guidance, scheduler=scheduler, width=width,
        height=height, count=count, negative_prompt=negative, source_asset=source,
        strength=strength, mask_asset=mask, upscale=upscale, clip_skip=clip_skip,
    )
    hints = RouteHints(preset="draft" if draft else None, budget=budget)
    on_event = progress_printer(quiet)
    with open_studio() as studio:
        default = None
        if conversation_id:
            conversation_id = studio.resolve_id("conversation", conversation_id)
            default = studio.get_conversation(conversation_id).default_model
        chosen = list(models) or [default or studio.settings.default_model]
        outcome = asyncio.run(
            _run(studio, prompt, chosen, spec, hints, conversation_id, title, on_event)
        )
    files: list[str] | None = None
    if output is not None:
        from chatimg.image_files import write_images

        files = ([str(path) for path in write_images(list(outcome.generations), output)]
                 if any(g.assets for g in outcome.generations) else [])
    print_outcome(outcome, as_json, files)
    return 0 if outcome.any_succeeded else 1


def progress_printer(quiet: bool) -> EventCallback:
    """Step progress and final states on stderr (only on a terminal, and not with ``-q``)."""
    show = not quiet and sys.stderr.isatty()

    def on_event(event: GenerationEvent) -> None:
        if not show:
            return
        if event.kind == "progress" and event.progress is not None:
            p = event.progress
            total = f"/{p.total}" if p.total else ""
            click.echo(f"\r{event.model}: step {p.step}{total} {p.message}   ", err=True, nl=False)
        elif event.kind == "finished" and event.generation is not None:
            click.echo(f"\r{event.model}: {event.generation.status}          ", err=True)

    return on_event


def print_outcome(outcome: GenerateOutcome, as_json: bool,
                  files: list[str] | None = None) -> None:
    """A sent message's generations: one line per image (or failure), or JSON with ``--json``;
    ``files`` are the images written out with ``-o``."""
    if as_json:
        print_json(
            {
                "conversation_id": outcome.message.conversation_id,
                "message_id": outcome.message.id,
                "generations": [
                    {
                        "id": g.id,
                        "model": g.resolved_model or g.requested_model,
                        "requested_model": g.requested_model,
                        "status": g.status,
                        "error": g.error,
                        "route_reason": g.route_reason,
                        "fallback_of": g.fallback_of,
                        "latency_ms": g.latency_ms,
                        "cost_usd": g.cost_usd,
                        "assets": [
                            {"sha256": a.sha256, "path": a.path, "width": a.width,
                             "height": a.height, "seed": a.seed}
                            for a in g.assets
                        ],
                        "validations": [
                            {"name": v.name, "passed": v.passed, "score": v.score}
                            for v in g.validations
                        ],
                    }
                    for g in outcome.generations
                ],
                **({"files": files} if files is not None else {}),
            }
        )
        return
    click.echo(f"conversation {outcome.message.conversation_id}")
    for g in outcome.generations:
        model = g.resolved_model or g.requested_model
        if g.status == "succeeded":
            for a in g.assets:
                click.echo(f"{model}: {a.width}x{a.height} seed={a.seed} {a.path}")
        else:
            click.echo(f"{model}: {g.status}: {shown(g.error or '')}")
    for written in files or ():
        click.echo(f"wrote {written}")


async def _run(studio: Studio, prompt: str, models: list[str], spec: GenerationSpec,
               hints: RouteHints, conversation_id: str | None, title: str | None,
               on_event: EventCallback) -> GenerateOutcome:
    try:
        return await studio.generate(
            prompt, models, spec, hints=hints, conversation_id=conversation_id, title=title,
            on_event=on_event,
        )
    finally:
        await studio.close_engines()
