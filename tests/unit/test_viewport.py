"""Viewer geometry: fit, 1:1, zoom steps and pan clamped at the edges."""

from __future__ import annotations

import pytest
from PIL import Image

from chatimg.viewport import Viewport, render_view


def test_fit_uses_the_whole_box_along_the_tighter_side() -> None:
    view = Viewport(1024, 512, 200, 116)
    assert view.label == "fit 20%"
    assert view.output_size() == (200, 100)
    assert view.crop_box() == (0.0, 0.0, 1024.0, 512.0)


def test_one_to_one_is_centred_and_exact() -> None:
    view = Viewport(1024, 1024, 100, 60).one_to_one()
    assert view.label == "1:1"
    assert view.crop_box() == (462.0, 482.0, 562.0, 542.0)
    assert view.output_size() == (100, 60)


def test_zoom_steps_and_back_to_fit() -> None:
    fit = Viewport(400, 400, 100, 100)
    zoomed = fit.zoom(1)
    assert zoomed.scale == pytest.approx(0.375) and zoomed.label == "zoom 38%"
    assert zoomed.zoom(-1).scale is None  # back at the fit scale: fit mode again
    assert fit.zoom(-3) == fit  # never smaller than fit
    assert fit.zoom(40).scale == 16.0  # capped


def test_pan_moves_a_quarter_view_and_stops_at_edges() -> None:
    view = Viewport(1000, 1000, 100, 100).one_to_one()
    moved = view.pan(1, 0)
    assert moved.crop_box()[0] == view.crop_box()[0] + 25
    for _ in range(100):
        moved = moved.pan(1, 1)
    assert moved.crop_box() == (900.0, 900.0, 1000.0, 1000.0)
    assert Viewport(1000, 1000, 100, 100).pan(1, 0).scale is None  # fitted: nothing to pan


def test_small_image_at_one_to_one_is_centred_not_stretched() -> None:
    view = Viewport(40, 20, 100, 100).one_to_one()
    assert view.crop_box() == (0.0, 0.0, 40.0, 20.0)
    assert view.output_size() == (40, 20)
    assert view.pan(1, 1).crop_box() == (0.0, 0.0, 40.0, 20.0)


def test_render_view_shows_the_crop_at_the_scale() -> None:
    image = Image.new("RGB", (64, 64), (0, 0, 0))
    image.paste((255, 0, 0), (32, 0, 64, 64))  # right half red
    view = Viewport(64, 64, 16, 16).one_to_one().zoom(1).pan(1, 0)
    rendered = render_view(image, view)
    assert rendered.size == view.output_size()
    assert rendered.getpixel((rendered.width - 1, 0)) == (255, 0, 0)
    exact = render_view(image, Viewport(64, 64, 16, 16).one_to_one())
    assert exact.tobytes() == image.crop((24, 24, 40, 40)).tobytes()
