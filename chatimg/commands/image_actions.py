"""``chatimg vary|upscale|edit|describe GEN_ID``: the app's card actions from the command line.

Each command is the same single ``Studio`` call the app's card keys make (``vary``,
``upscale``, ``edit``, ``describe_image``), so a script can do what a person does in the app.
New images are stored as a new message in the source generation's thread, linked to the
image they started from; output and exit status follow ``chatimg gen``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from chatimg.commands.common import json_option, open_studio, print_json
from chatimg.commands.gen import print_outcome, progress_printer

if TYPE_CHECKING:
    from chatimg.studio import Studio

T = TypeVar("T")

image_option = click.option(
    "--image", "image", type=click.IntRange(min=1), default=1, show_default=True,
    help="Which image of the generation (1 = the first), when it made several.")
model_option = click.option(
    "-m", "--model", "model", default=None,
    help="Run on this model instead of the generation's own.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")


def _call(action: Callable[[Studio], Awaitable[T]]) -> T:
    """Open the Studio, run one async Studio call, close the engines and the Studio."""

    async def run(studio: Studio) -> T:
        try:
            return await action(studio)
        finally:
            await studio.close_engines()

    with open_studio() as studio:
        return asyncio.run(run(studio))


@click.command()
@click.argument("generation_id")
@image_option
@click.option("--strength", type=float, default=0.6, show_default=True,
              help="How far from the source image to go, in (0, 1].")
@model_option
@quiet_option
@json_option
def vary(generation_id: str, image: int, strength: float, model: str | None, quiet: bool,
         as_json: bool) -> int:
    """A variation (image to image) of a generation's image, as a new message in its thread.

    Exits 0 when the variation succeeded.
    """
    on_event = progress_printer(quiet)
    outcome = _call(lambda studio: studio.vary(
        generation_id, image=image - 1, strength=strength, model=model, on_event=on_event))
    print_outcome(outcome, as_json)
    return 0 if outcome.any_succeeded else 1


@click.command()
@click.argument("generation_id")
@image_option
@click.option("--factor", type=float, default=None,
              help="How much larger, in (1, 8] (default: 2, or the model's only factor, e.g. 4).")
@model_option
@quiet_option
@json_option
def upscale(generation_id: str, image: int, factor: float | None, model: str | None, quiet: bool,
            as_json: bool) -> int:
    """An upscale of a generation's image, as a new message in its thread.

    Exits 0 when the upscale succeeded.
    """
    on_event = progress_printer(quiet)
    outcome = _call(lambda studio: studio.upscale(
        generation_id, image=image - 1, factor=factor, model=model, on_event=on_event))
    print_outcome(outcome, as_json)
    return 0 if outcome.any_succeeded else 1


@click.command()
@click.argument("generation_id")
@click.argument("mask")
@image_option
@click.option("--prompt", default=None, help="What to paint (default: the message's prompt).")
@model_option
@quiet_option
@json_option
def edit(generation_id: str, mask: str, image: int, prompt: str | None, model: str | None,
         quiet: bool, as_json: bool) -> int:
    """Inpaint a generation's image: MASK is an image file (white = repaint) or an asset sha256.

    Exits 0 when the edit succeeded.
    """
    on_event = progress_printer(quiet)
    outcome = _call(lambda studio: studio.edit(
        generation_id, mask, image=image - 1, prompt=prompt, model=model, on_event=on_event))
    print_outcome(outcome, as_json)
    return 0 if outcome.any_succeeded else 1


@click.command()
@click.argument("generation_id")
@image_option
@click.option("-m", "--model", "model", required=True,
              help="A model that can describe images (e.g. ideogram-v2).")
@json_option
def describe(generation_id: str, image: int, model: str, as_json: bool) -> None:
    """Describe a generation's image as a prompt (printed; nothing is stored)."""
    text = _call(lambda studio: studio.describe_image(generation_id, model, image=image - 1))
    if as_json:
        print_json({"generation_id": generation_id, "image": image, "model": model,
                    "description": text})
    else:
        click.echo(text)
