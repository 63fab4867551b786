"""A compositor that redraws, after a scroll, only what moved since the last frame.

Textual lays out a scroll (with nothing else to lay out) by arranging only the visible widgets
and redrawing those whose place changed. It compares them with the visible map of the
previous scroll; after any full layout (a widget mounted, a card built) that map is gone, and
so is it after anything looks a widget's region up. Every visible widget, the screen itself
included, then counts as changed, and the whole screen is drawn again: every card move that
builds or scrolls to a card, and every scroll after a thread's content changed, paid a
full-screen frame (15-50 ms, more in a larger terminal).

``DrawnCompositor`` keeps the map of the last frame it drew and compares a scroll with that
when there is no visible map to compare with. It is the same comparison, against what is on
the screen, so what moved is redrawn and what did not is left alone.

A partial frame (a cursor blink, a card's focus, a thread opened) draws the region around
what changed. Textual renders for it every widget whose clip touches that region; a docked
widget's clip is the whole screen, and a container's is its parent's, so the key hints, the
composer, the sidebar and the thread were all rendered for the prompt's cursor blink, twice a
second, and their lines then dropped. ``DrawnCompositor`` renders only the widgets with a
visible cell in the regions redrawn (nothing else can show in them), and only in the rows of
those regions: the screen and the containers under a 3-line prompt rendered their whole
height (40 lines at 120x40), where the frame writes 3.

Nor does it render a widget's rows that the widgets in front of it cover whole. Textual
renders every line of every widget and keeps, cell by cell, what the frontmost one drew: the
screen and the containers under the sidebar, the thread and the composer are covered
everywhere, and were rendered whole for every full frame (the first one included), 40% of
its lines. A widget is now rendered from its first to its last row with a cell that shows.

(It extends Textual's private ``Compositor``; ``tests/tui/test_compositor.py`` checks the
frames a scroll, a move between cards and a cursor blink draw.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from textual._compositor import Compositor, CompositorMap
from textual.geometry import Region

if TYPE_CHECKING:
    from textual.geometry import Size
    from textual.screen import Screen
    from textual.strip import Strip
    from textual.widget import Widget


class DrawnCompositor(Compositor):
    """``Compositor`` comparing a scroll with the last frame drawn (see the module)."""

    def __init__(self) -> None:
        super().__init__()
        self._drawn: CompositorMap | None = None
        """The map the last frame was drawn from."""
        self._updating: list[Region] = []
        """The regions the frame being drawn redraws."""

    def render_update(self, full: bool = False, screen_stack: list[Screen[Any]] | None = None,
                      simplify: bool = False) -> Any:
        screen = self.size.region
        dirty = list(self._dirty_regions)
        self._updating = [screen] if full or screen in dirty else dirty
        try:
            update = super().render_update(full, screen_stack, simplify)
        finally:
            self._updating = []
        self._drawn = self._visible_map if self._visible_map is not None else self._full_map
        return update

    def reflow_visible(self, parent: Widget, size: Size) -> set[Widget]:
        if self._visible_map is None and self._drawn is not None and size == self.size:
            self._visible_map = self._drawn
        return super().reflow_visible(parent, size)

    def _get_renders(self, crop: Region | None = None
                     ) -> Iterator[tuple[Region, Region, list[Strip]]]:
        if crop is None:  # (a full frame)
            yield from super()._get_renders(crop)
            return
        shown = self.visible_widgets
        updating = self._updating or [crop]
        width = self.size.width
        rows = Region(0, crop.y, width, crop.height)
        # per row, the columns that the widgets rendered so far cover (sorted, disjoint spans)
        covered: dict[int, list[tuple[int, int]]] = {}
        in_crop = {}
        for widget, (region, clip) in shown.items():  # (frontmost first: the first drawn wins)
            # (only in the frame's rows: its other lines are not written)
            visible = region.intersection(clip).intersection(rows)
            if not visible or not any(visible.overlaps(dirty) for dirty in updating):
                continue
            top = bottom = -1
            for y in range(visible.y, visible.bottom):
                if _cover(covered.setdefault(y, []), visible.x, visible.right):
                    top = y if top < 0 else top
                    bottom = y + 1
            if top >= 0:  # (else every row of it is under widgets in front of it)
                in_crop[widget] = region, clip.intersection(Region(0, top, width, bottom - top))
        self._visible_widgets = in_crop  # what Textual's renders go through
        try:
            yield from super()._get_renders(crop)
        finally:
            if self._visible_widgets is in_crop:  # (unless the map changed meanwhile)
                self._visible_widgets = shown

    def clear(self) -> None:
        super().clear()
        self._drawn = None


def _cover(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Add the columns ``[start, end)`` to ``spans`` (sorted, disjoint, not touching); whether
    any of them was not covered before."""
    if any(left <= start and end <= right for left, right in spans):
        return False
    kept = []
    for left, right in spans:
        if right < start or left > end:
            kept.append((left, right))
        else:  # (overlapping or touching: one span)
            start, end = min(left, start), max(right, end)
    kept.append((start, end))
    kept.sort()
    spans[:] = kept
    return True
