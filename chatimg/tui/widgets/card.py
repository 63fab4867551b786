"""One card per generation: images, model badge, seed, size, latency, cost, status, checks.

A card only shows what the screen hands it and announces key presses (``CardAction``, carrying
the generation id and the selected image); the screen carries actions out. Its images use the
width the card has (``chatimg.tui.widgets.image_grid``); several images form a grid whose
selected image the arrows (and hjkl) move, leaving the card past its top or bottom row
(``CardLeave``). Colours come from theme variables; the card's text is made in ``card_text``.
A running generation's images show as soon as the engine decoded them (``show_picture``), in
the grid the stored ones will have, and stay as they are when they are stored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, Vertical
from textual.message import Message
from textual.widget import Widget

from chatimg.tui.widgets.card_text import STATUS_ICONS, CardProgress, detail_text, meta_text
from chatimg.tui.widgets.image_grid import DEFAULT_MAX_COLUMNS, ImageGrid, tile_limits
from chatimg.tui.widgets.laid_out import LaidOutOnce, Line

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatimg import domain

# the card's text is made in ``card_text``; its names stay importable from here
__all__ = ["ACTION_MODES", "CARD_ACTIONS", "CARD_MOVES", "RESERVED_ROWS", "STATUS_ICONS",
           "CardAction", "CardLeave", "CardProgress", "CardSelected", "GenerationCard",
           "detail_text", "image_max_columns", "meta_text", "set_image_max_columns"]

CARD_ACTIONS: tuple[tuple[str, str, str, str], ...] = (
    # (action, key, binding id, palette title)
    ("regenerate", "r", "card.regenerate", "card: Regenerate (same seed)"),
    ("reseed", "R", "card.reseed", "card: Regenerate (new seed)"),
    ("other_model", "m", "card.other_model", "card: Run on another model"),
    ("vary", "v", "card.vary", "card: Vary (image to image)"),
    ("upscale", "u", "card.upscale", "card: Upscale"),
    ("edit", "e", "card.edit", "card: Edit with mask"),
    ("resend", "b", "card.resend", "card: Edit prompt and resend as a branch"),
    ("copy_seed", "c", "card.copy_seed", "card: Copy seed"),
    ("copy_params", "y", "card.copy_params", "card: Copy params"),
    ("copy_path", "C", "card.copy_path", "card: Copy image path"),
    ("view", "enter,z,space", "card.view", "card: View full screen"),
    ("open", "o", "card.open", "card: Open in system viewer"),
    ("receipt", "i", "card.receipt", "card: Show receipt"),
    ("pick", "p", "card.pick", "card: Pick for compare"),
    ("delete", "delete", "card.delete", "card: Delete"),
)
ACTION_MODES: dict[str, str] = {"vary": "img2img", "upscale": "upscale", "edit": "inpaint"}
"""Card actions that need a model capability (``Capabilities`` flag) to run on a model."""


CARD_MOVES: tuple[tuple[str, str, str, str], ...] = (
    # (keys, action, binding id, description)
    ("down,j", "move(0, 1)", "card.down", "Next image or card"),
    ("up,k", "move(0, -1)", "card.up", "Previous image or card"),
    ("right,l", "move(1, 0)", "card.right", "Next image in the grid"),
    ("left,h", "move(-1, 0)", "card.left", "Previous image in the grid"),
)
RESERVED_ROWS = 4
"""Rows of a card besides one row of images (header, labels, details)."""
_SETTINGS = {"max_columns": DEFAULT_MAX_COLUMNS}
_OFFERED: dict[str, frozenset[str]] = {}
"""The modes last offered on each model's cards (``GenerationCard.offer``): a new card of the
model starts with them, so focusing it changes none of the footer's key hints. (The offer
comes after the focus, once the focus event reached the screen; without this every first
focus of a card showed its default hints for a frame, then the offered ones.)"""


def image_max_columns() -> int:
    """The widest (in cells) a card image is drawn (``set_image_max_columns``)."""
    return _SETTINGS["max_columns"]


def set_image_max_columns(columns: int) -> None:
    """The widest (in cells) a card image is drawn (``[ui] image_max_columns``)."""
    _SETTINGS["max_columns"] = max(8, columns)


@dataclass
class CardAction(Message):
    """A person asked for ``action`` (see ``CARD_ACTIONS``) on image ``image`` of the card of
    ``generation_id``; the screen carries it out."""

    generation_id: str
    action: str
    image: int = 0


@dataclass
class CardLeave(Message):
    """The person moved past the card's first (``direction`` -1) or last (1) row of images;
    ``column`` is the grid column they were in."""

    generation_id: str
    direction: int
    column: int = 0


@dataclass
class CardSelected(Message):
    """Image ``image`` of the card of ``generation_id`` is now the selected one."""

    generation_id: str
    image: int


class GenerationCard(LaidOutOnce, Vertical, can_focus=True):
    """A card for one generation. Focus it to use the card keys (see the help screen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"card('{action}')", title.split(": ", 1)[1], id=binding_id,
                  show=action in ("regenerate", "vary", "receipt", "pick", "view"))
          for action, key, binding_id, title in CARD_ACTIONS),
        *(Binding(keys, action, description, show=False, id=binding_id)
          for keys, action, binding_id, description in CARD_MOVES),
    ]

    def __init__(self, generation: domain.Generation | None, *, model: str,
                 generation_id: str, message_text: str = "", wins: int = 0) -> None:
        status = generation.status if generation else "queued"
        # its status class from the start: set after mounting, it would restyle the card
        super().__init__(classes=f"card -{status}" if status in STATUS_ICONS else "card")
        self.wins = wins
        """How often this generation won a comparison (shown under the image)."""
        self.generation = generation
        self.model = model
        self.generation_id = generation_id
        self.message_text = message_text
        self.progress: CardProgress | None = None
        self.picked_images: frozenset[int] = frozenset()
        """Which images are picked for compare (the screen says so with ``set_picked``)."""
        self.selected = 0
        """The selected image (what card keys act on)."""
        self.grid: ImageGrid | None = None
        self.pictures: dict[int, Image] = {}
        """Decoded images of the running generation shown before they are stored, by index."""
        self.picture_count = 0
        """How many images the running generation makes (its grid's slots)."""
        self.status = status
        self._composed = False
        """Whether ``on_mount`` ran (its children are there: a new grid can be mounted)."""
        known = _OFFERED.get(model)
        if known is not None:
            self._offer(known)
        self._meta = Line(meta_text(generation, model, self.status), classes="card-meta")
        self._detail = Line(detail_text(generation, None, False, self.status, wins),
                            classes="card-detail")

    @property
    def picked(self) -> bool:
        """Whether any of its images is picked for compare."""
        return bool(self.picked_images)

    @property
    def image_count(self) -> int:
        return len(self.generation.assets) if self.generation is not None else 0

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._meta
        generation = self.generation
        if generation is not None and generation.assets and self._width() > 0:
            # a stored generation's images come with the card, at the width it will have
            # (not mounted after it: one mount, and the first layout is the final one)
            yield self._new_grid(ImageGrid(generation, self.image_limits()))
        yield self._detail

    def on_mount(self) -> None:
        self._composed = True  # (its status class was set when it was made, or changed)
        self._sync_image()  # at the width it will have: the first layout is right

    def on_resize(self, event: events.Resize) -> None:
        self.refit()

    def _scroller(self) -> ScrollableContainer | None:
        return next((ancestor for ancestor in self.ancestors
                     if isinstance(ancestor, ScrollableContainer)), None)

    def _width(self) -> int:
        """The card's inner width; before its first layout, what its thread will give it
        (the thread's width less the margins, borders, padding and the scrollbar between).
        From the size layout gave it, not its region: looking up the region of a widget
        that is not laid out yet makes Textual arrange the whole screen."""
        if self.outer_size.width > 0:
            return max(0, self.outer_size.width - self.styles.gutter.width)
        scroller = self._scroller()
        if scroller is None or scroller.scrollable_content_region.width <= 0:
            return 0
        width = scroller.scrollable_content_region.width
        if not scroller.show_vertical_scrollbar and scroller.styles.scrollbar_gutter != "stable":
            width -= scroller.styles.scrollbar_size_vertical
        node: Widget | None = self
        while node is not None and node is not scroller:
            width -= node.styles.margin.width + node.styles.gutter.width
            node = node.parent if isinstance(node.parent, Widget) else None
        return width

    def image_limits(self) -> tuple[int, int]:
        """The most cells (across, down) one image may take: the card's width (under the
        user's cap) and about the visible height of the scrolling thread it sits in."""
        scroller = self._scroller()
        visible = (scroller.scrollable_content_region.height if scroller is not None
                   else self.app.size.height // 2)
        return tile_limits(self._width(), visible - RESERVED_ROWS, max(1, self._slots()),
                           _SETTINGS["max_columns"])

    def _slots(self) -> int:
        """Images its grid holds: the stored ones, else those the running generation makes."""
        return self.image_count or (self.picture_count if self.pictures else 0)

    def refit(self) -> None:
        """Fit the images to the card's width and the thread's height (after a resize)."""
        if not self.is_mounted or self.outer_size.width <= 0:
            return
        if self.grid is None:
            self._sync_image()
        else:
            self.grid.fit(self.image_limits())

    def update_generation(self, generation: domain.Generation) -> None:
        """Show a newer state of the generation."""
        self.generation = generation
        self.status = generation.status
        if generation.status not in ("queued", "running"):
            self.progress = None
            self.pictures.clear()  # stored now, or never (the card shows only what is kept)
        self._refresh_text()
        self._sync_image()
        self._sync_classes()

    def show_picture(self, index: int, count: int, picture: Image) -> None:
        """Show image ``index`` of ``count`` before it is stored (the engine's decoded
        picture), in its place in the grid; the stored generation replaces it in place."""
        if self.status not in ("queued", "running") or (self.generation is not None
                                                         and self.generation.assets):
            return  # the generation already ended (its stored state shows)
        self.pictures[index] = picture
        self.picture_count = max(count, index + 1, self.picture_count)
        self._refresh_text()
        if self.grid is not None and self.grid.pending:
            self.grid.show(index, picture)
        else:
            self._sync_image()

    def set_status(self, status: str) -> None:
        """Mark as running before the first stored state arrives."""
        self.status = status
        self._refresh_text()
        self._sync_classes()

    def update_progress(self, progress: CardProgress) -> None:
        """Show a step report."""
        self.progress = progress
        self._detail.update(detail_text(self.generation, self.progress, self.picked,
                                        self.status, self.wins, len(self.pictures)))

    def set_picked(self, images: frozenset[int]) -> None:
        """Mark ``images`` (indexes) as picked for compare."""
        self.picked_images = images
        self._refresh_text()
        self.set_class(self.picked, "-picked")
        if self.grid is not None and self.generation is not None:
            self.grid.relabel(self.generation, images)

    def _refresh_text(self) -> None:
        self._meta.update(meta_text(self.generation, self.model, self.status))
        self._detail.update(detail_text(self.generation, self.progress, self.picked,
                                        self.status, self.wins, len(self.pictures)))

    def _sync_classes(self) -> None:
        status = self.status
        for name in STATUS_ICONS:
            self.set_class(name == status, f"-{name}")

    def _sync_image(self) -> None:
        if not self._composed:
            return  # ``on_mount`` builds the grid (updates may come while it is mounting)
        generation = self.generation
        if generation is None or not generation.assets:
            if self.grid is not None and self.grid.pending and not self.pictures:
                self.grid.remove()  # shown, then never stored (the run failed storing them)
                self.grid = None
            if not self.pictures or self.grid is not None:
                return
        if self._width() <= 0:
            return  # no width known yet: ``on_resize`` builds the grid
        if generation is not None and generation.assets:
            shas = tuple(asset.sha256 for asset in generation.assets)
            if self.grid is not None and (self.grid.shas == shas or self.grid.store(generation)):
                self.grid.relabel(generation, self.picked_images)
                return
            grid = ImageGrid(generation, self.image_limits())
        else:
            grid = ImageGrid(None, self.image_limits(), count=self.picture_count,
                             pictures=self.pictures)
        if self.grid is not None:
            self.grid.remove()
        self.mount(self._new_grid(grid), before=self._detail)

    def _new_grid(self, grid: ImageGrid) -> ImageGrid:
        """``grid`` as the card's, labelled and with its selection (to be mounted)."""
        if grid.generation is not None:
            grid.relabel(grid.generation, self.picked_images)
        self.grid = grid
        self.selected = min(self.selected, len(grid.tiles) - 1)
        grid.select(self.selected)
        return grid

    # -- selection ------------------------------------------------------------------------------

    def select(self, index: int, *, scroll: bool = True) -> None:
        """Select image ``index`` (clamped), announce it and scroll it into view."""
        count = self.image_count
        self.selected = min(max(0, index), max(0, count - 1))
        tile = self.grid.select(self.selected) if self.grid is not None else None
        self.post_message(CardSelected(self.generation_id, self.selected))
        if scroll:
            self.call_after_refresh(self._scroll_into_view, tile)

    def _scroll_into_view(self, tile: Widget | None) -> None:
        if not self.is_attached:
            return
        focused = self.screen.focused
        if isinstance(focused, GenerationCard) and focused is not self:
            return  # focus went on to another card (a held key): the view follows that one
        target = tile if tile is not None and tile.is_attached else self
        target.scroll_visible(animate=False, immediate=True)

    def enter(self, direction: int, column: int = 0) -> None:
        """Focus this card, arriving from the card above (``direction`` 1) or below (-1)."""
        self.focus(scroll_visible=False)
        if self.grid is not None:
            self.select(self.grid.entry(direction > 0, column))
        else:
            self.select(0)

    def on_focus(self) -> None:
        self.select(self.selected)

    def action_move(self, dx: int, dy: int) -> None:
        """Move the selection inside the grid, or leave the card past its first/last row."""
        if self.grid is None or len(self.grid.tiles) <= 1:
            if dy:
                self.post_message(CardLeave(self.generation_id, dy))
            return
        target = self.grid.move(self.selected, dx, dy)
        if target is None:
            self.post_message(CardLeave(self.generation_id, dy, self.selected % self.grid.columns))
            return
        if target != self.selected:
            self.select(target)

    def offer(self, modes: Collection[str]) -> None:
        """Offer in the footer only the ``ACTION_MODES`` actions whose mode is in ``modes``
        (what the card's model can do here). The keys stay: the screen answers the others
        with the models that can."""
        offered = frozenset(modes)
        _OFFERED[self.model] = offered
        if self._offer(offered):
            self.refresh_bindings()

    def _offer(self, modes: frozenset[str]) -> bool:
        """Show the mode actions of ``modes`` only; whether any binding changed."""
        changed = False
        for key, bindings in self._bindings.key_to_bindings.items():
            offered = []
            for binding in bindings:
                mode = ACTION_MODES.get(binding.action.removeprefix("card('").rstrip("')"))
                if mode is not None:
                    default = next(b for b in self.BINDINGS if isinstance(b, Binding)
                                   and b.id == binding.id)
                    show = default.show and mode in modes
                    if binding.show != show:
                        binding = replace(binding, show=show)
                        changed = True
                offered.append(binding)
            self._bindings.key_to_bindings[key] = offered
        return changed

    def action_card(self, action: str) -> None:
        self.post_message(CardAction(self.generation_id, action, self.selected))
