"""``chatimg`` with no arguments: the terminal app."""

from __future__ import annotations

import click


def run_app() -> None:
    """Start the Textual app."""
    from chatimg.collector import COLLECTOR

    try:
        # what the import builds (modules, classes, stylesheets) lives as long as the app:
        # cyclic collections meanwhile would free nothing (~20 ms of a start)
        with COLLECTOR.paused():
            from chatimg.tui.app import main as tui_main
    except ImportError as exc:  # pragma: no cover - Textual is a core dependency
        raise click.ClickException(f"the terminal app cannot start: {exc}") from None
    tui_main()
