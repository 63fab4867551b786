"""``chatimg compare GEN_ID GEN_ID ...``: parameter diff, similarity and a contact sheet."""

from __future__ import annotations

from pathlib import Path

import click

from chatimg.commands.common import json_option, open_studio, print_json
from chatimg.errors import InvalidRequestError


@click.command()
@click.argument("generation_ids", nargs=-1, required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a contact sheet PNG (images in a grid with their labels).")
@click.option("--cell", type=click.IntRange(64, 2048), default=320, show_default=True,
              help="Side of each image area on the contact sheet, in pixels.")
@json_option
def compare(generation_ids: tuple[str, ...], out: Path | None, cell: int, as_json: bool) -> None:
    """Compare 2 to 4 images of one conversation (ID, or ID#k for a generation's k-th image).

    Prints the parameters they share once, those that differ per generation, and a similarity
    score per pair: SSIM on grayscale (1.0 = identical) and the dHash distance (0-64 bits).
    """
    from chatimg.compare import (
        ImageRef,
        comparison_json,
        load_comparison,
        load_image,
        similarity_scores,
    )

    if out is not None and out.suffix.lower() != ".png":
        raise InvalidRequestError(f"{out}: the contact sheet is a PNG; name it *.png")
    with open_studio() as studio:
        refs = [ImageRef.parse(text) for text in generation_ids]
        ids = [str(ImageRef(studio.resolve_id("generation", ref.generation_id), ref.image))
               for ref in refs]
        comparison = load_comparison(studio, ids)
    images = [load_image(item) for item in comparison.items]
    scores = similarity_scores(comparison, images)
    sheet_info = None
    if out is not None:
        from chatimg.compare_sheet import draw_contact_sheet

        sheet = draw_contact_sheet(comparison, scores, cell=cell, images=images)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            sheet.image.save(out, format="PNG")
        except OSError as exc:
            raise InvalidRequestError(f"{out}: cannot write: {exc.strerror}") from None
        sheet_info = {
            "path": str(out), "width": sheet.image.width, "height": sheet.image.height,
            "cells": [{"id": item.id, "box": list(box)}
                      for item, box in zip(comparison.items, sheet.boxes, strict=True)],
        }
    if as_json:
        data = comparison_json(comparison, scores)
        if sheet_info is not None:
            data["sheet"] = sheet_info
        print_json(data)
        return
    shared = comparison.shared_rows(include_prompt=True)
    click.echo(f"conversation {comparison.conversation_id}")
    for index, item in enumerate(comparison.items, start=1):
        note = f"  ({item.note})" if item.note else ""
        click.echo(f"#{index} {item.id}  {item.model}{note}")
    if shared:
        click.echo("same:    " + " · ".join(
            f"{r.label} {r.values[0]!r}" if r.key == "prompt" else f"{r.label} {r.values[0]}"
            for r in shared))
    for row in comparison.differing_rows(include_prompt=True):
        if row.key == "prompt":
            for i, value in enumerate(row.values, start=1):
                click.echo(f"differs: prompt #{i}: {value}")
            continue
        values = "  ".join(f"#{i} {v}" for i, v in enumerate(row.values, start=1))
        click.echo(f"differs: {row.label}: {values}")
    positions = {item.id: index for index, item in enumerate(comparison.items, start=1)}
    for score in scores:
        click.echo(f"similar: #{positions[score.a]} ↔ #{positions[score.b]}: {score.short()}")
    if sheet_info is not None:
        click.echo(f"contact sheet: {out}")
