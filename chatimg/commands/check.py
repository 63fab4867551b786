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
@click.option("--text", default=None,
              help="The text the images should show (default: the quoted text of the prompt "
                   "chatimg embedded in the PNG, if any).")
@click.option("--check", "names", multiple=True,
              help="Run only this validator; repeat for several (default: the enabled ones).")
@json_option
def check(images: tuple[Path, ...], text: str | None, names: tuple[str, ...],
          as_json: bool) -> int:
    """Check IMAGE files: blank/uniform, size, typography (OCR against the expected text).

    Exit status: 0 when every check that applies passed, 3 when a check failed, 1 when an
    image cannot be read (nothing is checked then). Skipped (OCR not installed) and
    not-applicable checks (no expected text, no requested size) do not fail.
    """
    from chatimg.config import load_settings
    from chatimg.pngmeta import read_parameters
    from chatimg.validate import expected_text_of, load_image, run_checks
    from chatimg.validate.summary import describe

    settings = load_settings()
    loaded = []
    for path in images:
        picture = load_image(path)  # raises a one-line error for unreadable files
        loaded.append((path, picture, read_parameters(path.read_bytes()) or {}))
    report: list[dict[str, Any]] = []
    failed = False
    for path, picture, embedded in loaded:
        expected = text if text is not None else expected_text_of(embedded.get("prompt"))
        size = None
        if isinstance(embedded.get("width"), int) and isinstance(embedded.get("height"), int):
            size = (embedded["width"], embedded["height"])
        results = run_checks(picture, expected_text=expected, requested_size=size,
                             names=list(names) or None, settings=settings)
        failed = failed or any(r.passed is False for r in results)
        report.append({"image": str(path), "checks": [r.as_dict() for r in results]})
    if as_json:
        print_json(report)
    else:
        for entry in report:
            click.echo(entry["image"])
            for result in entry["checks"]:
                line = describe(result["name"], result["passed"], result["details"])
                if result["passed"] is None:
                    line += f" ({result['status'].replace('_', ' ')})"
                click.echo(f"  {line}")
    return EXIT_CHECK_FAILED if failed else 0
