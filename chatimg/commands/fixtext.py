"""``chatimg fixtext``: repair the misspelled text of a generated image, as a new generation."""

from __future__ import annotations

import asyncio

import click

from chatimg.commands.common import json_option, open_studio, print_json

#: Exit status when the repaired image still fails a check.
EXIT_CHECK_FAILED = 3


@click.command()
@click.argument("generation_id")
@click.option("--image", "image_number", type=click.IntRange(min=1), default=1,
              show_default=True, help="Which image of the generation (1 = the first).")
@json_option
def fixtext(generation_id: str, image_number: int, as_json: bool) -> int:
    """Rewrite the misspelled text of GENERATION_ID's image with the prompt's quoted text.

    OCR finds the wrong lines; each is erased with a fill from its surroundings and the exact
    text is set there in the closest installed font, size and colour. The result is a new
    generation linked to the original image; the checks run on it. Exit status: 0 when it
    passes its checks, 3 when a check still fails, 1 when nothing could be repaired.
    """
    with open_studio() as studio:
        (repaired,) = asyncio.run(studio.fix_text(generation_id, image_number - 1)).generations
    patches = repaired.receipt.engine.get("patches", []) if repaired.receipt else []
    failed = any(v.passed is False for v in repaired.validations)
    if as_json:
        print_json({
            "id": repaired.id, "source": generation_id, "status": repaired.status,
            "route_reason": repaired.route_reason, "patches": patches,
            "assets": [{"sha256": a.sha256, "path": a.path, "width": a.width,
                        "height": a.height} for a in repaired.assets],
            "validations": [{"name": v.name, "passed": v.passed, "score": v.score,
                             "details": v.details} for v in repaired.validations],
        })
    else:
        click.echo(f"generation {repaired.id} (repair of {generation_id})")
        for patch in patches:
            click.echo(f"  {patch['read']!r} -> {patch['written']!r} at {tuple(patch['box'])} "
                       f"in {patch['font']} {patch['size']} px")
        for asset in repaired.assets:
            click.echo(f"  {asset.path}")
        for v in repaired.validations:
            click.echo(f"  {v.name}: {'passed' if v.passed else 'FAILED'}")
    return EXIT_CHECK_FAILED if failed else 0
