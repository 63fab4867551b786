"""What a Pilot-driven app shows: the composed screen as lines of text, and widget regions."""

from __future__ import annotations

from typing import Any


def screen_lines(app: Any) -> list[str]:
    """The whole current screen as it would be painted (toasts and dialogs included), one
    string per terminal row."""
    update = app.screen._compositor.render_update(full=True)
    return ["".join(strip.text for strip in line) for line in update.strips]


def screen_text(app: Any) -> str:
    """``screen_lines`` joined by newlines."""
    return "\n".join(screen_lines(app))


def region_text(app: Any, region: Any) -> str:
    """The text painted inside ``region`` (a ``textual.geometry.Region``) of the screen, rows
    joined by newlines."""
    lines = screen_lines(app)
    return "\n".join(line[region.x:region.right] for line in lines[region.y:region.bottom])
