"""A generation's images on its card: one image, or a grid (2 side by side, 2x2 for 4, rows
beyond), each sized to the width the card has and re-fitted when it changes.

The grid only draws; which image is selected is the card's state (``GenerationCard.selected``),
handed in with ``select``. Each tile under a grid has its own line: ``#k`` and the image's seed,
then its own checks (the generation's check results for that image's sha256).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from chatimg import domain
from chatimg.tui.widgets.image import CardImage, cell_box

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


class ImageTile(Vertical):
    """One image of a generation and (in a grid) its label line (which carries the
    ``-selected`` and ``-picked`` classes)."""

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

    def __init__(self, asset: domain.AssetRef, box: tuple[int, int], label: Content | None
                 ) -> None:
        super().__init__(classes="tile")
        self.asset = asset
        self.image = CardImage(asset, *box)
        self.label = Static(label or "", classes="tile-label")
        self.label.display = label is not None

    def compose(self):  # type: ignore[no-untyped-def]
        yield self.image
        yield self.label

    def fit(self, limits: tuple[int, int]) -> None:
        """Draw the image in at most ``limits`` cells (its aspect ratio kept)."""
        box = cell_box(self.asset.width, self.asset.height, *limits)
        self.image.set_box(box)
        self.label.styles.width = box[0]


class ImageGrid(Vertical):
    """A generation's images in rows of ``grid_columns`` tiles.

    Args:
        generation: The generation (its assets and check results).
        limits: The most cells (across, down) one image may take (``tile_limits``).
    """

    DEFAULT_CSS = """
    ImageGrid { width: auto; height: auto; }
    ImageGrid .grid-row { width: auto; height: auto; }
    ImageGrid .tile { margin: 0 1 0 0; }
    """

    def __init__(self, generation: domain.Generation, limits: tuple[int, int]) -> None:
        super().__init__(classes="card-images")
        self.generation = generation
        self.limits = limits
        labelled = len(generation.assets) > 1
        self.tiles = [
            ImageTile(asset, cell_box(asset.width, asset.height, *limits),
                      image_label(asset, checks_of(generation, asset)) if labelled else None)
            for asset in generation.assets
        ]
        for tile in self.tiles:
            tile.label.styles.width = tile.image.box[0]
        self.columns = grid_columns(len(self.tiles))

    @property
    def shas(self) -> tuple[str, ...]:
        """What the grid shows (the card rebuilds it when this changes)."""
        return tuple(asset.sha256 for asset in self.generation.assets)

    def compose(self):  # type: ignore[no-untyped-def]
        for start in range(0, len(self.tiles), self.columns):
            with Horizontal(classes="grid-row"):
                yield from self.tiles[start:start + self.columns]

    def fit(self, limits: tuple[int, int]) -> None:
        """Re-fit every image into ``limits`` (after a resize)."""
        if limits == self.limits:
            return
        self.limits = limits
        for tile in self.tiles:
            tile.fit(limits)

    def relabel(self, generation: domain.Generation, picked: frozenset[int] = frozenset()
                ) -> None:
        """Show newer check results and which images are picked (the images are the same)."""
        self.generation = generation
        for position, (tile, asset) in enumerate(zip(self.tiles, generation.assets,
                                                     strict=False)):
            tile.label.set_class(position in picked, "-picked")
            if len(self.tiles) > 1:
                tile.label.update(image_label(asset, checks_of(generation, asset),
                                              position in picked))

    def select(self, index: int | None) -> ImageTile | None:
        """Highlight image ``index`` (``None``: none); the tile now selected."""
        chosen = None
        for position, tile in enumerate(self.tiles):
            # on the label alone: a class on the tile would restyle (and repaint) its image
            tile.label.set_class(position == index, "-selected")
            if position == index:
                chosen = tile
        return chosen

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
