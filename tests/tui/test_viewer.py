"""The full-screen viewer: open, fit / 1:1 / zoom, pan, next / previous, raw receipt, Esc."""

from __future__ import annotations

import json
from typing import Any

from PIL import Image, ImageChops, ImageStat

from chatimg.spec import GenerationSpec
from chatimg.studio import Studio
from chatimg.tui.screens.viewer import ViewerScreen, open_viewer
from tests.tui.conftest import ready, wait_until
from tests.tui.halfcell_decode import strips_to_image, widget_pixels

VIEW = (160, 50)


async def _thread(sizes: tuple[int, ...] = (384, 256)) -> list[Any]:
    """Two messages on the layout model: the first with 2 images, the second with 1."""
    studio = Studio.open()
    try:
        first = await (studio.generate(
            'a poster that says "ONE"', ["layout"],
            GenerationSpec.build(seed=1, count=2, width=sizes[0], height=sizes[0]), validate=False))
        conversation = first.message.conversation_id
        second = await (studio.generate(
            'a poster that says "TWO"', ["layout"],
            GenerationSpec.build(seed=9, width=sizes[1], height=sizes[1] // 2),
            conversation_id=conversation, validate=False))
        return [*first.generations, *second.generations]
    finally:
        studio.close()


async def _frame(pilot: Any, screen: ViewerScreen, after: int) -> None:
    await wait_until(pilot, lambda: screen.canvas.frames > after, what="a new frame")


def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def _source(screen: ViewerScreen) -> Image.Image:
    with Image.open(screen.current.asset.path) as image:
        return image.convert("RGB")


def _receipt(screen: ViewerScreen) -> str:
    return str(screen.receipt.render())


async def test_open_fits_the_image_and_shows_its_receipt(make_app: Any) -> None:
    first, second = await _thread()
    app = make_app()
    async with app.run_test(size=VIEW) as pilot:
        await ready(pilot)
        screen = open_viewer(app, first.id, 1)
        await _frame(pilot, screen, 0)
        assert app.screen is screen
        assert screen.index == 1 and len(screen.images) == 3
        title = str(screen.title_bar.render())
        assert title.startswith("image 2 of 3 · layout · 384x384 · fit ")
        rows = screen.canvas.size.height
        drawn = strips_to_image(screen.canvas.strips)
        # as large as the canvas allows: the full height (two pixels per cell), aspect kept
        assert drawn.size == (rows * 2, rows * 2)
        expected = _source(screen).resize(drawn.size, Image.Resampling.LANCZOS)
        assert _mean_diff(drawn, expected) < 4
        # centred in the canvas
        full = widget_pixels(screen.canvas)
        left = (screen.canvas.size.width - drawn.width) // 2
        assert _mean_diff(full.crop((left, 0, left + drawn.width, drawn.height)), drawn) == 0
        receipt = _receipt(screen)
        assert "seed\n  2" in receipt  # the second image's own seed
        assert "image\n  2 of 2" in receipt and "version\n  layout-2" in receipt
        del second


async def test_zoom_one_to_one_and_pan(make_app: Any) -> None:
    first, _ = await _thread()
    app = make_app()
    async with app.run_test(size=VIEW) as pilot:
        await ready(pilot)
        screen = open_viewer(app, first.id, 0)
        await _frame(pilot, screen, 0)
        fit_scale = screen.viewport.effective_scale  # type: ignore[union-attr]
        frames = screen.canvas.frames
        await pilot.press("plus")
        await _frame(pilot, screen, frames)
        view = screen.viewport
        assert view is not None and view.scale is not None and view.scale > fit_scale
        assert " · zoom " in str(screen.title_bar.render())

        frames = screen.canvas.frames
        await pilot.press("1")
        await _frame(pilot, screen, frames)
        view = screen.viewport
        assert view is not None and view.label == "1:1"
        source = _source(screen)
        # 1:1 is exact: each pixel of the image is one half cell
        box = tuple(round(v) for v in view.crop_box())
        assert _mean_diff(strips_to_image(screen.canvas.strips), source.crop(box)) == 0
        centred = box
        frames = screen.canvas.frames
        await pilot.press("left")  # arrows pan (the receipt panel does not take them)
        await _frame(pilot, screen, frames)
        left_once = tuple(round(v) for v in screen.viewport.crop_box())  # type: ignore[union-attr]
        assert left_once[0] < centred[0] and left_once[1] == centred[1]

        for key in ("left", "left", "h", "h", "left", "h", "h"):  # more than it takes
            frames, before = screen.canvas.frames, screen.viewport
            await pilot.press(key)
            if screen.viewport != before:
                await _frame(pilot, screen, frames)
        box = tuple(round(v) for v in screen.viewport.crop_box())  # type: ignore[union-attr]
        assert box[0] == 0 and box[0] < centred[0] and box[1] == centred[1]
        assert _mean_diff(strips_to_image(screen.canvas.strips), source.crop(box)) == 0
        frames = screen.canvas.frames
        await pilot.press("j")
        await _frame(pilot, screen, frames)
        moved = tuple(round(v) for v in screen.viewport.crop_box())  # type: ignore[union-attr]
        assert moved[1] > box[1] and moved[0] == box[0]

        frames = screen.canvas.frames
        await pilot.press("f")
        await _frame(pilot, screen, frames)
        assert screen.viewport is not None and screen.viewport.scale is None
        assert strips_to_image(screen.canvas.strips).height == screen.canvas.size.height * 2


async def test_next_and_previous_cross_generations(make_app: Any) -> None:
    first, second = await _thread()
    app = make_app()
    async with app.run_test(size=VIEW) as pilot:
        await ready(pilot)
        screen = open_viewer(app, first.id, 1)
        await _frame(pilot, screen, 0)
        await pilot.press("plus")  # a zoom does not carry over to the next image
        frames = screen.canvas.frames
        await pilot.press("n")
        await _frame(pilot, screen, frames)
        assert screen.current.generation.id == second.id
        assert str(screen.title_bar.render()).startswith("image 3 of 3 · layout · 256x128 · fit")
        drawn = strips_to_image(screen.canvas.strips)
        assert abs(drawn.width / drawn.height - 2.0) < 0.05
        assert _mean_diff(drawn, _source(screen).resize(drawn.size, Image.Resampling.LANCZOS)) < 4
        assert "seed\n  9" in _receipt(screen)
        await pilot.press("n")  # the last image: stays
        assert screen.index == 2
        for _ in range(3):
            await pilot.press("p")
        await wait_until(pilot, lambda: screen.index == 0, what="first image")
        await _frame(pilot, screen, 0)
        assert screen.current.generation.id == first.id and screen.current.image == 0
        assert "seed\n  1" in _receipt(screen)


async def test_r_toggles_the_raw_json_and_escape_returns(make_app: Any) -> None:
    first, _ = await _thread()
    app = make_app()
    async with app.run_test(size=VIEW) as pilot:
        main = await ready(pilot)
        before = app.screen
        screen = open_viewer(app, first.id, 0)
        await _frame(pilot, screen, 0)
        readable = _receipt(screen)
        await pilot.press("r")
        raw = json.loads(_receipt(screen))
        assert raw["id"] == first.id and raw["params"]["seed"] == 1
        assert raw["receipt"]["model"]["version"] == "layout-2"
        await pilot.press("shift+down")  # the long JSON scrolls from the keyboard
        await wait_until(pilot, lambda: screen.receipt_scroll.scroll_y > 0, what="scrolled")
        await pilot.press("r")
        assert _receipt(screen) == readable
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is before, what="back to the thread")
        assert app.screen is main


async def test_poster_text_reads_back_by_ocr_from_the_viewer_cells(make_app: Any) -> None:
    """Issue 12, acceptance 2 (viewer part): at 200x60 the half cells carry readable text."""
    from chatimg.validate import run_checks

    studio = Studio.open()
    try:
        outcome = await studio.generate('a poster that says "OPEN LATE"', ["layout"],
                                        GenerationSpec.build(seed=4, width=512, height=512),
                                        validate=False)
    finally:
        studio.close()
    (poster,) = outcome.generations
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        screen = open_viewer(app, poster.id, 0)
        await _frame(pilot, screen, 0)
        seen = widget_pixels(screen.canvas)  # every cell of the canvas, two pixels each
        assert seen.height == screen.canvas.size.height * 2 >= 110
    (typography,) = run_checks(seen, expected_text="OPEN LATE", names=["typography"])
    assert typography.passed, typography.details
    assert typography.details["read"] == "OPEN LATE"


async def test_key_hints_follow_the_user_keymap(make_app: Any) -> None:
    first, _ = await _thread()
    app = make_app()
    async with app.run_test(size=VIEW) as pilot:
        await ready(pilot)
        app.set_keymap({"viewer.raw": "x", "viewer.next": "ctrl+n"})
        screen = open_viewer(app, first.id, 0)
        await _frame(pilot, screen, 0)
        hints = str(screen.keys_bar.render())
        assert hints.startswith("esc back · ^n next · p previous · f fit · 1 1:1 · ")
        assert "x raw receipt" in hints and "r raw" not in hints
        assert hints.endswith("←→↑↓ pan")
        await pilot.press("x")
        assert json.loads(_receipt(screen))["id"] == first.id
        await pilot.press("ctrl+n")
        assert screen.index == 1
