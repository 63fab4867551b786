"""What part of an image a viewer shows, and at what scale: fit, 1:1, zoom and pan.

Pure geometry plus one Pillow call (``render_view``); no Textual. Sizes are in pixels: for
half-cell output a box of ``cols x rows`` cells is ``cols x 2*rows`` pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

ZOOM_STEP = 1.5
MAX_SCALE = 16.0
PAN_FRACTION = 0.25


@dataclass(frozen=True)
class Viewport:
    """A view of an ``image_w x image_h`` image in a ``box_w x box_h`` pixel box.

    Attributes:
        image_w: Image width in pixels.
        image_h: Image height in pixels.
        box_w: Box width in (display) pixels.
        box_h: Box height in (display) pixels.
        scale: Display pixels per image pixel; None means "fit the box".
        center_x: The image x shown at the box centre (None: the image centre).
        center_y: The image y shown at the box centre (None: the image centre).
    """

    image_w: int
    image_h: int
    box_w: int
    box_h: int
    scale: float | None = None
    center_x: float | None = None
    center_y: float | None = None

    @property
    def fit_scale(self) -> float:
        """The scale at which the whole image fits the box."""
        if self.image_w <= 0 or self.image_h <= 0:
            return 1.0
        return min(self.box_w / self.image_w, self.box_h / self.image_h)

    @property
    def effective_scale(self) -> float:
        return self.fit_scale if self.scale is None else self.scale

    @property
    def label(self) -> str:
        """``fit 23%``, ``1:1`` or ``zoom 150%``."""
        percent = round(self.effective_scale * 100)
        if self.scale is None:
            return f"fit {percent}%"
        if abs(self.scale - 1.0) < 1e-9:
            return "1:1"
        return f"zoom {percent}%"

    def _view_size(self) -> tuple[float, float]:
        scale = self.effective_scale
        return self.box_w / scale, self.box_h / scale

    def _centre(self) -> tuple[float, float]:
        """The centre, clamped so the view never shows beyond an edge it could fill."""
        view_w, view_h = self._view_size()
        cx = self.image_w / 2 if self.center_x is None else self.center_x
        cy = self.image_h / 2 if self.center_y is None else self.center_y
        cx = self.image_w / 2 if view_w >= self.image_w else min(
            max(cx, view_w / 2), self.image_w - view_w / 2)
        cy = self.image_h / 2 if view_h >= self.image_h else min(
            max(cy, view_h / 2), self.image_h - view_h / 2)
        return cx, cy

    def crop_box(self) -> tuple[float, float, float, float]:
        """The image region shown: (left, top, right, bottom) in image pixels."""
        view_w, view_h = self._view_size()
        cx, cy = self._centre()
        left = max(0.0, cx - view_w / 2)
        top = max(0.0, cy - view_h / 2)
        right = min(float(self.image_w), cx + view_w / 2)
        bottom = min(float(self.image_h), cy + view_h / 2)
        return left, top, right, bottom

    def output_size(self) -> tuple[int, int]:
        """The size of the rendered region in display pixels (never larger than the box)."""
        left, top, right, bottom = self.crop_box()
        scale = self.effective_scale
        width = min(self.box_w, max(1, round((right - left) * scale)))
        height = min(self.box_h, max(1, round((bottom - top) * scale)))
        return width, height

    def fit(self) -> Viewport:
        return replace(self, scale=None, center_x=None, center_y=None)

    def one_to_one(self) -> Viewport:
        """One image pixel per display pixel, around the current centre."""
        cx, cy = self._centre()
        return replace(self, scale=1.0, center_x=cx, center_y=cy)

    def zoom(self, steps: int) -> Viewport:
        """Zoom in (``steps`` > 0) or out by ``ZOOM_STEP`` per step; back to fit at the fit
        scale or below."""
        cx, cy = self._centre()
        scale = min(MAX_SCALE, self.effective_scale * ZOOM_STEP ** steps)
        if scale <= self.fit_scale + 1e-9:
            return self.fit()
        return replace(self, scale=scale, center_x=cx, center_y=cy)

    def pan(self, dx: int, dy: int) -> Viewport:
        """Move the view by ``PAN_FRACTION`` of its size per step (clamped at the edges)."""
        view_w, view_h = self._view_size()
        cx, cy = self._centre()
        moved = replace(self, scale=self.effective_scale if self.scale is None else self.scale,
                        center_x=cx + dx * view_w * PAN_FRACTION,
                        center_y=cy + dy * view_h * PAN_FRACTION)
        if self.scale is None:  # panning a fitted image changes nothing; stay in fit mode
            return self
        clamped_x, clamped_y = moved._centre()
        return replace(moved, center_x=clamped_x, center_y=clamped_y)

    def resized(self, box_w: int, box_h: int) -> Viewport:
        return replace(self, box_w=max(1, box_w), box_h=max(1, box_h))


def render_view(image: Image, viewport: Viewport) -> Image:
    """The region ``viewport`` shows, scaled to its output size (RGB).

    Downscaling uses a box pre-reduction then Lanczos (sharp text, fast on large images);
    zooming past 1:1 uses nearest neighbour so pixels stay square.
    """
    from PIL import Image as PILImage

    size = viewport.output_size()
    box = viewport.crop_box()
    if viewport.effective_scale >= 1.0:
        resample = PILImage.Resampling.NEAREST
        return image.resize(size, resample, box=box)
    return image.resize(size, PILImage.Resampling.LANCZOS, box=box, reducing_gap=2.0)
