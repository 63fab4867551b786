"""The full-screen image viewer: one image as large as the terminal allows, and its receipt.

Open it with ``open_viewer(app, generation_id, image)``; Esc dismisses it. Keys: ``f`` fit,
``1`` 1:1, ``+``/``-`` zoom, arrows or ``hjkl`` pan, ``n``/``p`` next/previous image of the
thread, ``r`` raw JSON receipt. Images are decoded and scaled in a thread worker; the canvas
draws half-cell strips built by ``chatimg.tui.widgets.image.halfcell_strips``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from chatimg import domain
from chatimg.receipt_view import raw_receipt
from chatimg.tui.frames import PacedScreen
from chatimg.tui.widgets.image import cached_strips, halfcell_strips
from chatimg.tui.widgets.receipt import receipt_text
from chatimg.viewport import Viewport, render_view

if TYPE_CHECKING:
    from PIL.Image import Image
    from textual.app import App

DECODED_ITEMS = 3
RECEIPT_WIDTH = 44
"""Columns of the receipt panel (border and padding included)."""
CHROME_ROWS = 2
"""Rows above and below the canvas: the title bar and the key hints."""


@dataclass(frozen=True)
class ViewerImage:
    """One image of a thread, in thread order."""

    generation: domain.Generation
    image: int
    wins: int = 0

    @property
    def asset(self) -> domain.AssetRef:
        return self.generation.assets[self.image]


def thread_images(thread: domain.Thread) -> list[ViewerImage]:
    """Every image of a thread in reading order (messages, their generations, their images),
    each with how often it won a comparison."""
    wins: dict[tuple[str, int], int] = {}
    for pick in thread.picks:
        key = (pick.winner_id, pick.winner_image)
        wins[key] = wins.get(key, 0) + 1
    return [
        ViewerImage(generation, index, wins.get((generation.id, index), 0))
        for message in thread.messages
        for generation in message.generations
        for index in range(len(generation.assets))
    ]


class ViewerCanvas(Widget):
    """Draws the strips it is given, centred; knows nothing about images or receipts."""

    DEFAULT_CSS = """
    ViewerCanvas { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strips: list[Strip] = []
        self.frames = 0
        """How many frames have been shown (tests and the benchmark wait on it)."""

    def show(self, strips: list[Strip]) -> None:
        self.strips = strips
        self.frames += 1
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        top = max(0, (height - len(self.strips)) // 2)
        row = y - top
        if not 0 <= row < len(self.strips):
            return Strip.blank(width)
        strip = self.strips[row]
        left = max(0, (width - strip.cell_length) // 2)
        return Strip.join([Strip.blank(left), strip]).crop(0, width) if left else strip


class ViewerScreen(PacedScreen[None]):
    """One image at a time, fit or zoomed, with a readable receipt beside it.

    Args:
        images: The thread's images in order (``thread_images``).
        start: Index in ``images`` of the image to show first.
    """

    DEFAULT_CSS = f"""
    ViewerScreen {{ layout: vertical; }}
    ViewerScreen #viewer-title {{ height: 1; padding: 0 1; background: $panel; }}
    ViewerScreen #viewer-keys {{ height: 1; padding: 0 1; color: $text-muted; }}
    ViewerScreen #viewer-body {{ height: 1fr; }}
    ViewerScreen #viewer-receipt {{
        width: {RECEIPT_WIDTH}; padding: 0 1; border-left: solid $panel;
    }}
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="viewer.close"),
        Binding("n,pagedown,space", "step(1)", "Next", id="viewer.next"),
        Binding("p,pageup,backspace", "step(-1)", "Previous", id="viewer.previous"),
        Binding("f,0", "fit", "Fit", id="viewer.fit"),
        Binding("1", "one_to_one", "1:1", id="viewer.one_to_one"),
        Binding("plus,equals_sign", "zoom(1)", "Zoom in", id="viewer.zoom_in"),
        Binding("minus", "zoom(-1)", "Zoom out", id="viewer.zoom_out"),
        Binding("left,h", "pan(-1, 0)", "Pan left", show=False, id="viewer.pan_left"),
        Binding("right,l", "pan(1, 0)", "Pan right", show=False, id="viewer.pan_right"),
        Binding("up,k", "pan(0, -1)", "Pan up", show=False, id="viewer.pan_up"),
        Binding("down,j", "pan(0, 1)", "Pan down", show=False, id="viewer.pan_down"),
        Binding("r", "toggle_raw", "Raw receipt", id="viewer.raw"),
        Binding("shift+down,ctrl+d", "scroll_receipt(1)", "Receipt down", show=False,
                id="viewer.receipt_down"),
        Binding("shift+up,ctrl+u", "scroll_receipt(-1)", "Receipt up", show=False,
                id="viewer.receipt_up"),
    ]

    def __init__(self, images: list[ViewerImage], start: int = 0) -> None:
        super().__init__()
        if not images:
            raise ValueError("the viewer needs at least one image")
        self.images = images
        self.index = min(max(0, start), len(images) - 1)
        self.viewport: Viewport | None = None
        self.raw = False
        self._token = 0
        self._decoded: OrderedDict[str, Image] = OrderedDict()
        self._decoded_lock = threading.Lock()
        self.canvas = ViewerCanvas(id="viewer-canvas")
        self.receipt = Static(id="viewer-receipt-text", markup=False)
        self.receipt_scroll = VerticalScroll(id="viewer-receipt", can_focus=False)
        self.title_bar = Static(id="viewer-title", markup=False)
        self.keys_bar = Static(id="viewer-keys", markup=False)

    @property
    def current(self) -> ViewerImage:
        return self.images[self.index]

    def compose(self) -> ComposeResult:
        yield self.title_bar
        with Horizontal(id="viewer-body"):
            yield self.canvas
            with self.receipt_scroll:  # not focusable: the arrows pan the image
                yield self.receipt
        yield self.keys_bar  # one line, not a Footer: a Footer costs more than the image here

    def key_hints(self) -> str:
        """``esc back · n next · ...`` from the active bindings, so a user keymap shows."""
        keys: dict[str, list[Binding]] = {}
        for active in self.active_bindings.values():
            binding_id = active.binding.id or ""
            if binding_id.startswith("viewer."):
                keys.setdefault(binding_id, []).append(active.binding)
        hints: list[str] = []
        pans: list[str] = []
        for declared in self.BINDINGS:
            assert isinstance(declared, Binding)
            found = keys.get(declared.id or "")
            if not found:
                continue
            defaults = declared.key.split(",")
            found.sort(key=lambda b: defaults.index(b.key) if b.key in defaults else 0)
            shown = self.app.get_key_display(found[0])
            if declared.description.startswith("Pan "):
                pans.append(shown)
            elif declared.show:
                hints.append(f"{shown} {declared.description.lower()}")
        if pans:
            joined = "".join(pans) if all(len(p) == 1 for p in pans) else "/".join(pans)
            hints.append(f"{joined} pan")
        return " · ".join(hints)

    def on_mount(self) -> None:
        self.keys_bar.update(self.key_hints())
        self._show_receipt()
        # Start decoding at once, in the canvas size the layout will give (the first layout of
        # a screen takes a while); ``_layout_changed`` redraws only if the guess was wrong.
        width, height = self.app.size
        self._start_view(width - RECEIPT_WIDTH, height - CHROME_ROWS)
        self.call_after_refresh(self._layout_changed)

    def on_resize(self) -> None:
        self.call_after_refresh(self._layout_changed)

    def _layout_changed(self) -> None:
        self._start_view(*self.canvas.size)

    def _start_view(self, cols: int, rows: int) -> None:
        if cols <= 0 or rows <= 0:
            return
        asset = self.current.asset
        if self.viewport is None:
            self.viewport = Viewport(asset.width, asset.height, cols, rows * 2)
        else:
            resized = self.viewport.resized(cols, rows * 2)
            if resized == self.viewport:
                return
            self.viewport = resized
        self._show_title()
        self._redraw()

    # -- actions --------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_step(self, delta: int) -> None:
        index = min(max(0, self.index + delta), len(self.images) - 1)
        if index == self.index:
            self.app.bell()
            return
        self.index = index
        asset = self.current.asset
        if self.viewport is not None:
            self.viewport = Viewport(asset.width, asset.height, self.viewport.box_w,
                                     self.viewport.box_h)
        self._show_receipt()
        self._redraw()

    def action_fit(self) -> None:
        self._change(lambda view: view.fit())

    def action_one_to_one(self) -> None:
        self._change(lambda view: view.one_to_one())

    def action_zoom(self, steps: int) -> None:
        self._change(lambda view: view.zoom(steps))

    def action_pan(self, dx: int, dy: int) -> None:
        self._change(lambda view: view.pan(dx, dy))

    def action_scroll_receipt(self, direction: int) -> None:
        height = max(1, self.receipt_scroll.size.height - 2)
        self.receipt_scroll.scroll_relative(y=direction * height, animate=False)

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._show_receipt()

    def _change(self, how: Any) -> None:
        if self.viewport is None:
            return
        changed = how(self.viewport)
        if changed != self.viewport:
            self.viewport = changed
            self._redraw()
        self._show_title()

    # -- drawing --------------------------------------------------------------------------------

    def _show_title(self) -> None:
        item = self.current
        generation = item.generation
        model = generation.resolved_model or generation.requested_model
        zoom = self.viewport.label if self.viewport is not None else "…"
        asset = item.asset
        self.title_bar.update(
            f"image {self.index + 1} of {len(self.images)} · {model} · "
            f"{asset.width}x{asset.height} · {zoom}"
        )

    def _show_receipt(self) -> None:
        item = self.current
        self._show_title()
        if self.raw:
            self.receipt.update(Text(raw_receipt(item.generation)))
            return
        self.receipt.update(receipt_text(item.generation, item.image, wins=item.wins))

    def _redraw(self) -> None:
        if self.viewport is None:
            return
        self._token += 1
        self._render_frame(self._token, self.current.asset, self.viewport)

    @work(thread=True, exclusive=True, group="viewer", exit_on_error=False)
    def _render_frame(self, token: int, asset: domain.AssetRef, viewport: Viewport) -> None:
        if viewport.scale is None:  # fit: the shared thumbnail and strip caches (cards' too)
            strips = cached_strips(Path(asset.path), asset.sha256, viewport.box_w,
                                   viewport.box_h // 2)
        else:
            strips = halfcell_strips(render_view(self._decode(asset), viewport))
        self.app.call_from_thread(self._frame_ready, token, strips)

    def _frame_ready(self, token: int, strips: list[Strip]) -> None:
        if token == self._token:  # a newer view was asked for meanwhile
            self.canvas.show(strips)

    def _decode(self, asset: domain.AssetRef) -> Image:
        with self._decoded_lock:
            found = self._decoded.get(asset.sha256)
            if found is not None:
                self._decoded.move_to_end(asset.sha256)
                return found
        from PIL import Image as PILImage

        with PILImage.open(asset.path) as opened:
            image = opened.convert("RGB")
        with self._decoded_lock:
            self._decoded[asset.sha256] = image
            while len(self._decoded) > DECODED_ITEMS:
                self._decoded.popitem(last=False)
        return image


def viewer_for(thread: domain.Thread, generation_id: str, image: int = 0) -> ViewerScreen:
    """A viewer on ``generation_id``'s ``image``-th image, with ``thread``'s images around it.

    Raises:
        InvalidRequestError: the thread has no such image.
    """
    from chatimg.errors import InvalidRequestError

    images = thread_images(thread)
    for position, item in enumerate(images):
        if item.generation.id == generation_id and item.image == image:
            return ViewerScreen(images, position)
    raise InvalidRequestError(f"generation {generation_id[:12]} has no image {image + 1}")


def open_viewer(app: App[Any], generation_id: str, image: int = 0) -> ViewerScreen:
    """Push the viewer on ``generation_id``'s ``image``-th image, with its thread around it.

    Args:
        app: The running app; its ``studio`` attribute loads the thread.
        generation_id: The generation whose image opens first.
        image: Index of that image in the generation.

    Returns:
        The pushed screen.

    Raises:
        NotFoundError: no such generation.
        InvalidRequestError: the generation has no such image.
    """
    studio = app.studio  # type: ignore[attr-defined]
    thread = studio.load_thread(studio.repo.conversation_of_generation(generation_id))
    screen = viewer_for(thread, generation_id, image)
    app.push_screen(screen)
    return screen
