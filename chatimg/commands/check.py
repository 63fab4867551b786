"""``chatimg check``: run the validators on any image file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from chatimg.commands.common import json_option, print_json

#: Exit status when every image was read but a check failed.
EXIT_CHECK_FAILED = 3


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--text", "texts", multiple=True,
              help="Text the images should show; repeat for several, each checked on its own "
                   "in any order (default: the quoted texts of the prompt chatimg embedded in "
                   "the PNG, if any).")
@click.option("--strict/--no-strict", default=None,
              help="Count text that was not asked for (a tagline) as typography errors "
                   "(default: [validation] typography_strict).")
@click.option("--check", "names", multiple=True,
              help="Run only this validator; repeat for several (default: the enabled ones).")
@json_option
def check(images: tuple[Path, ...], texts: tuple[str, ...], strict: bool | None,
          names: tuple[str, ...], as_json: bool) -> int:
    """Check IMAGE files: blank/uniform, size, typography (OCR against the expected text).

    Exit status: 0 when every check that applies passed, 3 when a check failed, 1 when an
    image cannot be read (nothing is checked then). Skipped (OCR not installed) and
    not-applicable checks (no expected text, no requested size) do not fail. Text found
    besides the expected text is reported as extra; with --strict it counts as errors.
    """
    from chatimg.config import load_settings
    from chatimg.pngmeta import read_parameters
    from chatimg.validate import expected_texts_of, load_image, run_checks
    from chatimg.validate.summary import describe

    settings = load_settings()
    loaded = []
    for path in images:
        picture = load_image(path)  # raises a one-line error for unreadable files
        loaded.append((path, picture, read_parameters(path.read_bytes()) or {}))
    report: list[dict[str, Any]] = []
    failed = False
    for path, picture, embedded in loaded:
        expected = list(texts) if texts else expected_texts_of(embedded.get("prompt"))
        size = None
        if isinstance(embedded.get("width"), int) and isinstance(embedded.get("height"), int):
            size = (embedded["width"], embedded["height"])
        results = run_checks(picture, expected_text=expected, requested_size=size,
                             names=list(names) or None, settings=settings, strict=strict)
        failed = failed or any(r.passed is False for r in results)
        report.append({"image": str(path), "checks": [r.as_dict() for r in results]})
    if as_json:
        print_json(report)
    else:
        for entry in report:
            click.echo(entry["image"])
            for result in entry["checks"]:
                line = describe(result["name"], result["passed"], result["details"],
                                result["status"])
                click.echo(f"  {line}")
    return EXIT_CHECK_FAILED if failed else 0
