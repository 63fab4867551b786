"""``chatimg`` with no arguments: the terminal app."""

from __future__ import annotations

import os
import sys

import click

from chatimg.errors import ChatImgError


def run_app() -> None:
    """Start the Textual app.

    Raises:
        ConfigError: ``CHATIMG_IMAGES`` names no image mode (said first: a setting to fix).
        ChatImgError: stdin is no terminal (``chatimg < file``, a cron job or a pipeline): the
            app could read no key, not even its quit key, and Textual's input thread would
            spin on the end of the input. (Not with ``TEXTUAL_DRIVER`` set, as textual-serve
            does: its driver reads from a pipe.)
    """
    from chatimg.termimage.detect import requested

    requested(os.environ)
    if "TEXTUAL_DRIVER" not in os.environ and not (sys.stdin is not None
                                                   and sys.stdin.isatty()):
        raise ChatImgError("the app needs a terminal to read keys from, and stdin is not one",
                           "run chatimg in a terminal; scripts use chatimg gen, ls, show, "
                           "export and the other commands")
    from chatimg.collector import COLLECTOR

    try:
        # what the import builds (modules, classes, stylesheets) lives as long as the app:
        # cyclic collections meanwhile would free nothing (~20 ms of a start)
        with COLLECTOR.paused():
            from chatimg.tui.app import main as tui_main
    except ImportError as exc:  # pragma: no cover - Textual is a core dependency
        raise click.ClickException(f"the terminal app cannot start: {exc}") from None
    tui_main()
