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
    """A ``Button`` of the thread (loading earlier messages)."""


class GridRow(LaidOutOnce, Horizontal):
    """A row of a card's image grid."""
