"""Widgets of the thread that are laid out once, not twice, when they are mounted.

Textual stores each widget's virtual size (its scrollable extent) in a reactive that asks for
another layout when it changes. A layout pass sets it, so every newly mounted widget changes it
from nothing to its size and the whole screen is laid out and drawn a second time, with nothing
moved, and then drawn once more for the new virtual size. For the widgets here the virtual
size is only an output of layout: nothing in them is arranged or drawn from it. ``LaidOutOnce``
declares it with neither a layout nor a repaint; its watchers still run, and the pass that
measured the widget drew it (a widget whose size changed is redrawn by that pass).

The thread follows the same rule: its scrollbar is always shown (``overflow-y: scroll`` in the
app's stylesheet), so growing past one screen does not change its layout either; Textual moves
its scrollbars to the new virtual size as part of the pass that measured it.
"""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Button, Static


class LaidOutOnce:
    """Mixin (before the Textual base) for a widget whose virtual size needs no second layout."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)


class Line(LaidOutOnce, Static):
    """A ``Static`` of the thread (a prompt, a card's header or detail line, a hint)."""


class ThreadButton(LaidOutOnce, Button):
    """A compact ``Button`` of the thread (loading earlier messages).

    It is made with the style classes ``Button`` would toggle on it already set, and compact
    by default: toggled one by one (compact off, then on), each restyled the button before it
    was mounted (~1 ms of every long thread's open).
    """

    compact: Reactive[bool] = Reactive(True, toggle_class="-textual-compact")

    def __init__(self, label: str, **kwargs: Any) -> None:
        classes = " ".join(filter(None, (kwargs.pop("classes", None), "-style-default",
                                         "-textual-compact")))
        super().__init__(label, compact=True, classes=classes, **kwargs)


class GridRow(LaidOutOnce, Horizontal):
    """A row of a card's image grid."""
