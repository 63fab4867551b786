"""A generation's images on its card: one image, or a grid (2 side by side, 2x2 for 4, rows
beyond), each sized to the width the card has and re-fitted when it changes.

The grid only draws; which image is selected is the card's state (``GenerationCard.selected``),
handed in with ``select``. Each tile under a grid has its own line: ``#k`` and the image's seed,
then its own checks (the generation's check results for that image's sha256). A running
generation's images are shown from their decoded pictures before they are stored, in the
slots the stored grid will have (``ImageGrid.store`` then keeps them as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget

from chatimg.tui.widgets.image import CardImage, cell_box
from chatimg.tui.widgets.laid_out import GridRow, LaidOutOnce, Line

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatimg import domain

GRID_COLUMNS = 2
"""Images side by side when a generation made two or more."""
GAP = 1
"""Blank columns between two images of a row."""
MIN_COLUMNS = 8
"""The narrowest an image is drawn, however narrow the card."""
MIN_ROWS = 4
"""The lowest an image is drawn, however low the terminal."""
DEFAULT_MAX_COLUMNS = 120
"""Widest a card image is drawn unless ``[ui] image_max_columns`` says otherwise."""


def grid_columns(count: int) -> int:
    """How many images a row holds for a generation of ``count`` images."""
    return 1 if count <= 1 else GRID_COLUMNS


def tile_limits(width: int, rows: int, count: int, max_columns: int) -> tuple[int, int]:
    """The most cells (across, down) one of ``count`` images may take on a card.

    Args:
        width: Cells across the card has for images.
        rows: Cells down an image may take (about the thread's visible height).
        count: Images of the generation.
        max_columns: The user's cap on one image's width.
    """
    columns = grid_columns(count)
    across = (width - GAP * (columns - 1)) // columns
    return max(MIN_COLUMNS, min(across, max_columns)), max(MIN_ROWS, rows)


def image_label(asset: domain.AssetRef, checks: Sequence[domain.ValidationResult],
                picked: bool = False) -> Content:
    """``#k seed S`` and, on the next line, the image's own checks (``#k ✓ blank ...``)."""
    number = f"#{asset.index + 1}"
    head = Content.assemble((number, "bold"),
                            (f" seed {asset.seed}" if asset.seed is not None else "",
                             "$foreground-muted"),
                            (" ★ picked" if picked else "", "bold"))
    if asset.state:
        head = head.append(Content.styled(f" ⚠ {asset.state}", "bold $text-error"))
    if not checks:
        return head
    parts: list[Content | tuple[str, str] | str] = [f"{number} "]
    for result in checks:
        score = f" {result.score:.2f}" if result.score is not None else ""
        parts.append((f"{'✓' if result.passed else '✗'} {result.name}{score} ",
                      "$text-success" if result.passed else "$text-error"))
    return Content("\n").join([head, Content.assemble(*parts)])


def checks_of(generation: domain.Generation, asset: domain.AssetRef
              ) -> list[domain.ValidationResult]:
    """The generation's check results for one of its images."""
    return [check for check in generation.validations if check.asset_sha256 == asset.sha256]


def unstored_label(index: int) -> Content:
    """``#k storing…``: the label of a grid's image shown before it is stored (one line, as
    the stored image's first label line)."""
    return Content.assemble((f"#{index + 1}", "bold"), (" storing…", "$foreground-muted"))


class ImageTile(LaidOutOnce, Vertical):
    """One image of a generation and (in a grid) its label line (which carries the
    ``-selected`` and ``-picked`` classes). A grid of one image mounts only the image: the
    tile holds it and its unshown label but is not on screen itself.

    Args:
        asset: The stored image (None: not stored yet).
        box: Its cell box.
        label: Its label line (None: no label).
        pixels: Size of the image to come (without ``asset``).
        picture: Its decoded image, when it came before it was stored.
    """

    @property
    def selected(self) -> bool:
        return self.label.has_class("-selected")

    @property
    def picked(self) -> bool:
        return self.label.has_class("-picked")

    DEFAULT_CSS = """
    ImageTile { width: auto; height: auto; }
    ImageTile .tile-label { width: 100%; height: auto; }
    """

    def __init__(self, asset: domain.AssetRef | None, box: tuple[int, int],
                 label: Content | None, *, pixels: tuple[int, int] = (1, 1),
                 picture: Image | None = None) -> None:
        super().__init__(classes="tile")
        self.asset = asset
        self.pixels = (asset.width, asset.height) if asset is not None else pixels
        """The image's size in pixels (what its box is fitted from)."""
        self.image = CardImage(asset, *box, pixels=self.pixels, picture=picture)
        self.label = Line(label or "", classes="tile-label")
        self.label.display = label is not None

    def compose(self):  # type: ignore[no-untyped-def]
        yield self.image
        yield self.label

    def fit(self, limits: tuple[int, int]) -> None:
        """Draw the image in at most ``limits`` cells (its aspect ratio kept)."""
        box = cell_box(*self.pixels, *limits)
        self.image.set_box(box)
        self.label.styles.width = box[0]

    def show(self, picture: Image, limits: tuple[int, int]) -> None:
        """Draw the decoded ``picture`` of an image not stored yet."""
        if picture.size != self.pixels:
            self.pixels = picture.size
            self.fit(limits)
        self.image.show_picture(picture)

    def store(self, asset: domain.AssetRef) -> None:
        """Its picture is stored as ``asset`` (drawn as it is)."""
        self.asset = asset
        self.image.store(asset)


class ImageGrid(LaidOutOnce, Vertical):
    """A generation's images in rows of ``grid_columns`` tiles.

    Without a generation, the grid holds ``count`` images of a running one, drawn from their
    decoded pictures as they come (``show``) while they are stored; ``store`` then turns it
    into the stored generation's grid in place.

    Args:
        generation: The generation (its assets and check results); None: not stored yet.
        limits: The most cells (across, down) one image may take (``tile_limits``).
        count: Images to come (without ``generation``).
        pictures: Those that came, by index (without ``generation``; at least one).
    """

    DEFAULT_CSS = """
    ImageGrid { width: auto; height: auto; }
    ImageGrid .grid-row { width: auto; height: auto; }
    ImageGrid .tile { margin: 0 1 0 0; }
    """

    def __init__(self, generation: domain.Generation | None, limits: tuple[int, int], *,
                 count: int = 0, pictures: Mapping[int, Image] | None = None) -> None:
        super().__init__(classes="card-images")
        self.generation = generation
        self.limits = limits
        if generation is not None:
            labelled = len(generation.assets) > 1
            self.tiles = [
                ImageTile(asset, cell_box(asset.width, asset.height, *limits),
                          image_label(asset, checks_of(generation, asset)) if labelled
                          else None)
                for asset in generation.assets
            ]
        else:
            pictures = pictures or {}
            pixels = next(iter(pictures.values())).size if pictures else (1, 1)
            sizes = [pictures[index].size if index in pictures else pixels
                     for index in range(count)]
            self.tiles = [
                ImageTile(None, cell_box(*size, *limits),
                          unstored_label(index) if count > 1 else None, pixels=size,
                          picture=pictures.get(index))
                for index, size in enumerate(sizes)
            ]
        for tile in self.tiles:
            tile.label.styles.width = tile.image.box[0]
        self.columns = grid_columns(len(self.tiles))
        self._rows = [] if len(self.tiles) == 1 else [
            GridRow(*self.tiles[start:start + self.columns], classes="grid-row")
            for start in range(0, len(self.tiles), self.columns)]

    @property
    def shas(self) -> tuple[str, ...]:
        """What the grid shows (the card rebuilds it when this changes)."""
        return tuple(asset.sha256 for asset in self.generation.assets) if self.generation else ()

    @property
    def pending(self) -> bool:
        """Whether it shows images not stored yet."""
        return self.generation is None

    def compose(self):  # type: ignore[no-untyped-def]
        if len(self.tiles) == 1:
            # one image (most cards): only the image is mounted, not its tile, row and (empty)
            # label, three fewer layers to lay out and draw under it; the tile still holds it
            yield self.tiles[0].image
            return
        yield from self._rows

    def fit(self, limits: tuple[int, int]) -> None:
        """Re-fit every image into ``limits`` (after a resize)."""
        if limits == self.limits:
            return
        self.limits = limits
        for tile in self.tiles:
            tile.fit(limits)

    def show(self, index: int, picture: Image) -> None:
        """Draw image ``index`` of a grid not stored yet from its decoded ``picture``."""
        if self.pending and 0 <= index < len(self.tiles):
            self.tiles[index].show(picture, self.limits)

    def store(self, generation: domain.Generation) -> bool:
        """Become the grid of the stored ``generation`` in place when it stored the pictures
        shown (the first of them, with the same sizes and columns: a cancel keeps fewer), so
        nothing on screen changes; False when it cannot (the card builds a new grid)."""
        assets = generation.assets
        kept = self.tiles[:len(assets)]
        if (not self.pending or not assets or len(assets) > len(self.tiles)
                or grid_columns(len(assets)) != self.columns
                or any(tile.image.picture is None or tile.pixels != (asset.width, asset.height)
                       for tile, asset in zip(kept, assets, strict=True))):
            return False
        for tile, asset in zip(kept, assets, strict=True):
            tile.store(asset)
        for tile in self.tiles[len(assets):]:
            tile.remove()
        for position, row in enumerate(self._rows):
            if position * self.columns >= len(assets):
                row.remove()
        self._rows = self._rows[:-(-len(assets) // self.columns)]
        self.tiles = kept
        self.generation = generation
        return True

    def relabel(self, generation: domain.Generation, picked: frozenset[int] = frozenset()
                ) -> None:
        """Show newer check results and which images are picked (the images are the same)."""
        if self.pending:
            return  # its labels say "storing" until ``store``
        self.generation = generation
        for position, (tile, asset) in enumerate(zip(self.tiles, generation.assets,
                                                     strict=False)):
            tile.label.set_class(position in picked, "-picked", update=tile.label.is_attached)
            if len(self.tiles) > 1:
                tile.label.update(image_label(asset, checks_of(generation, asset),
                                              position in picked))

    def on_screen(self, index: int) -> Widget:
        """What shows image ``index``: its tile (a grid of one image shows only the image)."""
        tile = self.tiles[index]
        return tile.image if len(self.tiles) == 1 else tile

    def select(self, index: int | None) -> Widget | None:
        """Highlight image ``index`` (``None``: none); what shows the image now selected."""
        for position, tile in enumerate(self.tiles):
            # on the label alone: a class on the tile would restyle (and repaint) its image;
            # a label not in the DOM yet is styled as it is mounted (not now, and again then)
            tile.label.set_class(position == index, "-selected", update=tile.label.is_attached)
        return self.on_screen(index) if index is not None and 0 <= index < len(self.tiles) \
            else None

    def move(self, index: int, dx: int, dy: int) -> int | None:
        """The image ``dx`` across and ``dy`` rows away from ``index``; ``None`` past the top
        or bottom row (the person leaves the card)."""
        count = len(self.tiles)
        if dy:
            target = index + dy * self.columns
            if target < 0:
                return None
            if target >= count:
                last_row_start = (count - 1) // self.columns * self.columns
                return None if index >= last_row_start else count - 1
            return target
        return min(max(0, index + dx), count - 1)

    def entry(self, from_above: bool, column: int) -> int:
        """The image selected when the person arrives from the card above (or below)."""
        count = len(self.tiles)
        if from_above:
            return min(column, count - 1)
        last_row_start = (count - 1) // self.columns * self.columns
        return min(last_row_start + column, count - 1)
