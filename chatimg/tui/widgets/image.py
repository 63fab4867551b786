"""An image on a card, drawn with Kitty graphics, Sixel, iTerm2 images or half-block cells.

The protocol is chosen once before the app runs (``configure_images``: ``CHATIMG_IMAGES``, the
terminal's environment, then its answers to ``detect.ask_terminal``). A card image loads its
thumbnail and encodes it in a worker thread (``chatimg.tui.graphics.prepare``, cached per
asset and box, so scrolling a long thread never rescales an image); painting only joins
cached text. Every segment it yields carries a style, so Textual's line filters (``NO_COLOR``'s
monochrome filter among them) can read it. The image of a running generation is drawn from the
engine's decoded picture while its file is written (``CardImage.show_picture``, then ``store``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from textual.filter import ANSIToTruecolor, LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from chatimg.termimage import PROTOCOLS, Protocol, detect, kitty
from chatimg.tui import graphics
from chatimg.tui.graphics import Prepared, halfcell_strips
from chatimg.tui.thumbnails import fit, shrink
from chatimg.tui.widgets.laid_out import LaidOutOnce

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

    from chatimg.domain import AssetRef

_PROTOCOL: Protocol = "halfcell"
_CELL = detect.DEFAULT_CELL
_UNSTORED = itertools.count(1)
"""Names pictures not stored yet in the encoding cache."""

__all__ = ["CardImage", "PixelImage", "TerminalImage", "cached_strips", "cell_box",
           "cell_pixels", "configure_images", "halfcell_strips", "image_mode",
           "textual_image_widgets"]


def configure_images(mode: str = "auto", env: dict[str, str] | None = None) -> Protocol:
    """Pick how images are drawn; call before ``App.run()`` (terminal queries need stdin).

    Args:
        mode: ``kitty``, ``sixel``, ``iterm``, ``halfcell`` or ``auto`` (detect; ``pixels`` is
            read as ``auto``).
        env: The environment to detect from (default ``os.environ``).

    Returns:
        The protocol in use.
    """
    import os

    global _PROTOCOL, _CELL
    mode = "auto" if mode == "pixels" else mode
    environment = dict(os.environ) if env is None else env
    answers: list[detect.Answers] = []

    def probe() -> Protocol | None:
        answered = detect.ask_terminal()
        if answered is not None:
            answers.append(answered)
        return answered.protocol if answered is not None else None

    chosen = detect.choose(mode if mode in detect.MODES else "auto", environment, probe)
    _PROTOCOL = chosen if chosen in PROTOCOLS else "halfcell"
    _CELL = detect.cell_size(answers[0].cell if answers else None)
    return _PROTOCOL


def cell_pixels() -> tuple[int, int]:
    """Pixels per terminal cell ``(width, height)``, as ``configure_images`` found them."""
    return _CELL


class _NotATerminal:
    """A stream that says it is no terminal, and is otherwise the one it wraps."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def textual_image_widgets() -> ModuleType:
    """``textual_image.widget``, imported without the terminal queries its import sends.

    textual-image asks the terminal what it draws, and its cell size, when it is first
    imported with a terminal on stdout, waiting 0.1 s for each answer on stdin. Imported
    while the app runs (the compare screen's first use), Textual's input thread reads those
    answers: they arrive as keys typed into the app, and textual-image waits in vain.
    ``configure_images`` asked already, so the import sees no terminal on stdout (nothing is
    asked) and the cell size found then (the ``TEXTUAL_CELL_*`` variables textual-image reads
    when it cannot ask). Its ``Image`` alias then means text: pick a widget by ``image_mode``.
    """
    import importlib
    import os
    import sys

    loaded = sys.modules.get("textual_image.widget")
    if loaded is not None:
        return loaded
    stdout = sys.__stdout__
    names = ("TEXTUAL_CELL_WIDTH", "TEXTUAL_CELL_HEIGHT")
    saved = {name: os.environ.get(name) for name in names}
    for name, pixels in zip(names, _CELL, strict=True):
        os.environ.setdefault(name, str(pixels))
    if stdout is not None:
        sys.__stdout__ = _NotATerminal(stdout)  # type: ignore[misc,assignment]
    try:
        return importlib.import_module("textual_image.widget")
    finally:
        sys.__stdout__ = stdout  # type: ignore[misc]
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)


def image_mode() -> Protocol:
    """The protocol images are drawn with: ``kitty``, ``sixel``, ``iterm`` or ``halfcell``."""
    return _PROTOCOL


def cell_box(width: int, height: int, cols: int, rows: int) -> tuple[int, int]:
    """The cells an image of ``width x height`` px takes inside ``cols x rows`` (aspect kept)."""
    w, h = fit(width, height, cols, rows * 2)
    return max(1, w), max(1, (h + 1) // 2)


def cached_strips(path: Path, sha256: str, cols: int, rows: int) -> list[Strip]:
    """Half-cell strips for an asset in a ``cols x rows`` box (built once, then cached)."""
    return graphics.prepare("halfcell", path, sha256, cols, rows, _CELL).halfcells


def prepare_card_image(asset: AssetRef, box: tuple[int, int],
                       protocol: Protocol | None = None) -> Prepared:
    """An asset scaled and encoded for a ``cols x rows`` card box in the configured protocol
    (cached: a card of that box that mounts later shows it at once).

    Raises:
        OSError: The asset file cannot be read.
    """
    return graphics.prepare(protocol or _PROTOCOL, Path(asset.path), asset.sha256, *box, _CELL)


class TerminalImage(LaidOutOnce, Widget):
    """An image in a fixed ``cols x rows`` cell box, in the configured protocol.

    Subclasses say where the pixels come from (``prepare``, run in a worker thread). Under a
    modal screen, and on the screen's last row for Sixel/iTerm2 (drawing there would scroll
    the terminal), the image shows as half cells.
    """

    DEFAULT_CSS = """
    TerminalImage { width: auto; height: auto; }
    """

    def __init__(self, box: tuple[int, int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.box = box
        self.styles.width = box[0]
        self.styles.height = box[1]
        self.protocol: Protocol = _PROTOCOL
        self._prepared: Prepared | None = None
        self._loading = False
        self._failed: str | None = None
        self._overlaid = False
        self._token = 0
        """Bumped when the box changes, so a load for an older box is dropped."""

    def set_box(self, box: tuple[int, int]) -> None:
        """Draw in another ``cols x rows`` cell box (the card was resized): rebuilt off the
        UI loop at the next paint, cached per box, so going back to a size is instant."""
        if box == self.box:
            return
        self.box = box
        self.styles.width = box[0]
        self.styles.height = box[1]
        self._forget()
        self._show_cached()
        self.refresh()

    def _forget(self) -> None:
        """Drop what is drawn now: the next paint prepares the image again, and a load still
        running for the old one is ignored when it ends."""
        if self._prepared is not None:
            graphics.let_go(self._prepared)
        self._prepared = None
        self._failed = None
        self._loading = False
        self._token += 1

    def _show_cached(self) -> None:
        """Show an already prepared image at once (no worker); subclasses know their key."""

    @property
    def loaded(self) -> bool:
        """Whether the image (or its failure text) is ready to paint."""
        return self._prepared is not None or self._failed is not None

    def prepare(self) -> Prepared:
        """Load, scale and encode the image (called in a worker thread).

        Raises:
            OSError: The image cannot be read.
        """
        raise NotImplementedError

    def _start_loading(self) -> None:
        if self._loading:
            return
        self._loading = True
        token = self._token
        self.run_worker(lambda: self._load(token), thread=True, group="thumbnails",
                        exit_on_error=False)

    def _load(self, token: int) -> None:
        try:
            prepared = self.prepare()
        except OSError as exc:
            self._failed = f"image unavailable: {exc.strerror or exc}"
            self.app.call_from_thread(self.refresh)
        else:
            self.app.call_from_thread(self._show, prepared, token)

    def _show(self, prepared: Prepared, token: int | None = None) -> None:
        if not self.is_attached:  # removed while it loaded
            return
        if token is not None and token != self._token:  # made for an older box
            return
        if self._prepared is not None:
            graphics.let_go(self._prepared)
        self._prepared = prepared
        graphics.hold(prepared)
        self.refresh()

    def on_unmount(self) -> None:
        if self._prepared is not None:
            graphics.let_go(self._prepared)

    def render_line(self, y: int) -> Strip:
        prepared = self._prepared
        if prepared is not None and y < len(prepared.halfcells):
            return prepared.halfcells[y]  # (its style is its own: no look-up of the widget's)
        style = self.rich_style
        if prepared is None:
            if self._failed:
                if y == 0:
                    text = self._failed[: self.size.width]
                    return Strip([Segment(text, style)], len(text))
                return Strip.blank(self.size.width, style)
            self._start_loading()
        return Strip.blank(self.size.width, style)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's line filters, less ANSI-to-truecolor while half cells fill the box: every
        cell already has a truecolor style, which that filter would give back unchanged after
        a cache look-up per cell (a few ms per image and frame; ``NO_COLOR``'s filter stays)."""
        filters = super().get_line_filters()
        prepared = self._prepared
        if prepared is None or len(prepared.halfcells) < self.size.height:
            return filters
        return [line_filter for line_filter in filters
                if not isinstance(line_filter, ANSIToTruecolor)]

    def render_lines(self, crop: Region) -> list[Strip]:
        prepared = self._prepared
        if prepared is None or prepared.protocol == "halfcell" or not self._drawable():
            return super().render_lines(crop)
        region = self.region
        first, last = crop.x, crop.right
        background = self.rich_style
        if prepared.protocol == "kitty":
            marks = len(kitty.diacritics())
            if crop.bottom > marks or first >= marks:
                return super().render_lines(crop)
            return graphics.kitty_strips(prepared, first, last, crop.y, crop.bottom, background)
        last_row = self.screen.size.height - 1
        overlays = self._overlays(region)
        if self._overlaid and not overlays:
            self.refresh()  # a toast left: draw every row whole again
        self._overlaid = bool(overlays)
        strips = []
        for row in range(crop.y, crop.bottom):
            screen_y = region.y + row
            if screen_y >= last_row:
                strips.append(super().render_lines(Region(first, row, last - first, 1))[0])
                continue
            covered = sorted((over.x - region.x, over.right - region.x) for over in overlays
                             if over.y <= screen_y < over.bottom)
            strips.append(graphics.sequence_strip(prepared, row, first, last, region.x,
                                                  screen_y, background, covered))
        return strips

    def _overlays(self, region: Region) -> list[Region]:
        """Screen regions of toasts and tooltips over this image (drawn above it)."""
        try:
            found = self.screen.query("Toast, Tooltip")
            return [widget.region for widget in found
                    if widget.display and widget.region.overlaps(region)]
        except Exception:  # no screen, or a widget that is going away
            return []

    def _drawable(self) -> bool:
        """Pixels are drawn only on the active screen (under a modal, half cells show)."""
        try:
            return self.screen.is_active
        except Exception:  # not on a screen (yet)
            return False


class CardImage(TerminalImage):
    """A generation's image, fitted into at most ``cols x rows`` cells.

    Usually an asset on disk. On the card of a running generation it starts without one
    (``asset`` None): an empty box of the size to come, then the engine's decoded picture
    (``show_picture``) while the file is written, then the stored asset (``store``), keeping
    what is drawn: the picture is scaled as its stored file would be, so nothing changes on
    screen.

    Args:
        asset: The image (None: not stored yet).
        cols: Most cells across.
        rows: Most cells down.
        pixels: Size of the image to come (without ``asset``).
        picture: The decoded image to draw until it is stored (without ``asset``).
    """

    DEFAULT_CSS = """
    CardImage { width: auto; height: auto; }
    """

    def __init__(self, asset: AssetRef | None, cols: int = 32, rows: int = 12, *,
                 pixels: tuple[int, int] = (1, 1), picture: PILImage | None = None,
                 **kwargs: Any) -> None:
        width, height = (asset.width, asset.height) if asset is not None else pixels
        super().__init__(cell_box(width, height, cols, rows), **kwargs)
        self.asset = asset
        self.picture: PILImage | None = None
        """The decoded image drawn until it is stored (None: none, or stored)."""
        self._picture_key = ""
        if asset is None and picture is not None:
            self.show_picture(picture)

    def on_mount(self) -> None:
        self._show_cached()

    def _key(self) -> str:
        return self.asset.sha256 if self.asset is not None else self._picture_key

    def _show_cached(self) -> None:
        key = self._key()
        prepared = graphics.cached(self.protocol, key, *self.box, _CELL) if key else None
        if prepared is not None and self.is_attached:
            self._show(prepared)

    def show_picture(self, picture: PILImage) -> None:
        """Draw ``picture`` (an image not stored yet), scaled off the UI loop at the next paint.

        Ignored once the image is stored, and for the picture already shown.
        """
        if self.asset is not None or picture is self.picture:
            return
        self.picture = picture
        self._picture_key = f"unstored-{next(_UNSTORED)}"
        self._forget()
        self.refresh()

    def store(self, asset: AssetRef) -> None:
        """The picture is stored as ``asset`` (the same pixels): drawn from it from now on,
        keeping what is on screen (no reload, no blank frame)."""
        if self._prepared is not None and self.picture is not None:
            graphics.remember(asset.sha256, self._prepared)  # a card built again draws at once
        self.asset = asset
        self.picture = None

    def _start_loading(self) -> None:
        if self.asset is None and self.picture is None:
            return  # an empty box: its picture has not come yet
        super()._start_loading()

    def prepare(self) -> Prepared:
        asset, picture, key = self.asset, self.picture, self._picture_key
        if asset is not None:
            return prepare_card_image(asset, self.box, self.protocol)
        if picture is None:
            raise OSError("no image yet")

        def scaled(width: int, height: int) -> PILImage:
            return shrink(picture.convert("RGB"), width, height)

        return graphics.prepare_image(self.protocol, key, *self.box, _CELL, scaled)


class PixelImage(TerminalImage):
    """An image made in memory (a zoom, a difference map), fitted into ``cols x rows`` cells.

    Args:
        image: The image (not modified).
        key: What identifies it in the encoding cache (same key, same pixels).
        cols: Most cells across.
        rows: Most cells down.
    """

    DEFAULT_CSS = """
    PixelImage { width: auto; height: auto; }
    """

    def __init__(self, image: PILImage, key: str, cols: int, rows: int, **kwargs: Any) -> None:
        super().__init__(cell_box(image.width, image.height, cols, rows), **kwargs)
        self.image = image
        self.key = key

    def prepare(self) -> Prepared:
        from PIL import Image as PILImageModule

        def scaled(width: int, height: int) -> PILImage:
            rgb = self.image.convert("RGB")
            return rgb.resize(fit(rgb.width, rgb.height, width, height),
                              PILImageModule.Resampling.LANCZOS)

        return graphics.prepare_image(self.protocol, self.key, *self.box, _CELL, scaled)
