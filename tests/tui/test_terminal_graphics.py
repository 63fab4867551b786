"""Issue 12 item 3: the frames the app writes draw the image, in each protocol.

The app runs under Pilot with each protocol forced; a generated poster's card is rendered by
Textual's compositor into the exact text a terminal would get, and ``PixelScreen`` (a small
graphics terminal) replays it. The card's cells must hold the poster (PSNR >= 30 dB against
the source scaled to the card), and stay right after the thread scrolls.
"""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from tests.termimage.decoders import decode_kitty, psnr
from tests.termimage.screen import PixelScreen
from tests.tui.conftest import images_loaded, ready, type_and_send, wait_until

SIZE = (120, 40)
CELL = (10, 20)


def frame(app: Any) -> str:
    """Everything a full repaint of the screen writes to the terminal."""
    update = app.screen._compositor.render_update(full=True)
    return str(update.render_segments(app.console))


async def poster_card(pilot: Any, prompt: str = 'a "SALE" poster in red and blue') -> Any:
    from chatimg.tui.widgets.image import CardImage

    screen = await ready(pilot)
    await type_and_send(pilot, prompt)
    await wait_until(pilot, lambda: bool(list(screen.query(CardImage))), what="image card")
    await wait_until(pilot, lambda: images_loaded(screen), timeout=60, what="image encoded")
    await pilot.pause()
    return screen.query(CardImage).last()


def source_at(image: Any, box: tuple[int, int]) -> Image.Image:
    """The stored image scaled into ``box`` pixels, aspect kept (what the card should show)."""
    with Image.open(image.asset.path) as opened:
        rgb = opened.convert("RGB")
    scale = min(box[0] / rgb.width, box[1] / rgb.height)
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    return rgb.resize(size, Image.Resampling.LANCZOS)


@pytest.fixture
def protocol_app(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from chatimg.tui.widgets import image

    def build(protocol: str) -> Any:
        monkeypatch.setenv("COLORTERM", "truecolor")  # as kitty, WezTerm, iTerm2, foot set it
        assert image.configure_images(protocol, env={}) == protocol
        monkeypatch.setattr(image, "_CELL", CELL)
        return make_app()

    return build


@pytest.mark.parametrize("protocol", ["sixel", "iterm"])
async def test_sequence_protocols_draw_the_poster(protocol_app: Any, protocol: str) -> None:
    app = protocol_app(protocol)
    async with app.run_test(size=SIZE) as pilot:
        image = await poster_card(pilot)
        assert image.protocol == protocol
        screen = PixelScreen(*SIZE, cell=CELL).feed(frame(app))
        region = image.region
        drawn = screen.region(region.x, region.y, region.width, region.height)
        expected = source_at(image, (region.width * CELL[0], region.height * CELL[1]))
        assert psnr(drawn.crop((0, 0, *expected.size)), expected) >= 30


async def test_kitty_transmits_once_and_places_every_cell(protocol_app: Any) -> None:
    from chatimg.termimage import kitty
    from chatimg.tui import graphics

    app = protocol_app("kitty")
    async with app.run_test(size=SIZE) as pilot:
        image = await poster_card(pilot)
        # headless frames are not written anywhere: start again as a fresh terminal would
        goodbye = graphics.forget_transmissions()
        assert f"a=d,d=I,i={image._prepared.image_id}" in goodbye
        first = frame(app)
        (sent,) = decode_kitty(first)
        region = image.region
        assert (sent.keys["c"], sent.keys["r"]) == (str(region.width), str(region.height))
        expected = source_at(image, (region.width * CELL[0], region.height * CELL[1]))
        assert sent.image.size == expected.size
        assert psnr(sent.image, expected) >= 30
        screen = PixelScreen(*SIZE, cell=CELL).feed(first)
        cells = {(p.x, p.y): p for p in screen.placeholders}
        assert len(cells) == region.width * region.height
        marks = kitty.diacritics()
        for row in range(region.height):
            start = cells[(region.x, region.y + row)]
            assert start.image_id == int(sent.keys["i"])
            assert start.marks == marks[row] + marks[0]
        # the next frame does not send the image again: only the placeholder text
        assert decode_kitty(frame(app)) == []


async def test_halfcell_cells_are_the_poster(protocol_app: Any) -> None:
    app = protocol_app("halfcell")
    async with app.run_test(size=SIZE) as pilot:
        image = await poster_card(pilot)
        screen = PixelScreen(*SIZE, cell=(1, 2)).feed(frame(app))
        region = image.region
        drawn = screen.region(region.x, region.y, region.width, region.height)
        expected = source_at(image, (region.width, region.height * 2))
        assert psnr(drawn.crop((0, 0, *expected.size)), expected) >= 30


@pytest.mark.parametrize("protocol", ["sixel", "iterm"])
async def test_scrolling_moves_the_image_without_leftovers(protocol_app: Any,
                                                           protocol: str) -> None:
    app = protocol_app(protocol)
    size = (120, 26)
    async with app.run_test(size=size) as pilot:
        await poster_card(pilot, 'a "ONE" poster in green')
        image = await poster_card(pilot, 'a "TWO" poster in blue')
        thread = app.main_screen.thread
        assert thread.max_scroll_y > 3
        screen = PixelScreen(*size, cell=CELL).feed(frame(app))
        before = image.region
        thread.scroll_relative(y=-3, animate=False)
        await pilot.pause()
        after = image.region
        assert after.y != before.y
        # what a terminal gets on scrolling: the thread region repainted
        screen.feed(frame(app))
        visible = after.intersection(thread.region)
        assert 0 < visible.height < after.height  # partly scrolled out of the thread
        expected = source_at(image, (after.width * CELL[0], after.height * CELL[1]))
        rows = visible.height * CELL[1]
        drawn = screen.region(after.x, after.y, after.width, visible.height)
        assert psnr(drawn.crop((0, 0, expected.width, rows)),
                    expected.crop((0, 0, expected.width, rows))) >= 30
        # the rows it left (content moved down) no longer show its top rows
        moved = after.y - before.y
        assert moved > 0
        left_rows = screen.region(after.x, before.y, after.width, moved).crop(
            (0, 0, expected.width, moved * CELL[1]))
        assert psnr(left_rows, expected.crop((0, 0, expected.width, moved * CELL[1]))) < 20


async def test_under_a_modal_the_card_shows_half_cells(protocol_app: Any) -> None:
    from textual.geometry import Region

    app = protocol_app("sixel")
    async with app.run_test(size=SIZE) as pilot:
        image = await poster_card(pilot)
        whole = Region(0, 0, *image.size)

        def escapes() -> int:
            return sum(1 for line in image.render_lines(whole) for segment in line
                       if segment.control)

        assert escapes() == image.size.height
        app.action_help()
        await wait_until(pilot, lambda: not app.main_screen.is_active, what="help screen")
        assert escapes() == 0
        assert all("▀" in line.text for line in image.render_lines(whole))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.main_screen.is_active, what="main screen again")
        assert escapes() == image.size.height


@pytest.mark.parametrize("protocol", ["sixel", "iterm", "kitty"])
async def test_pixel_image_draws_an_image_from_memory(protocol: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.app import App, ComposeResult

    from chatimg.tui.widgets import image as image_module
    from chatimg.tui.widgets.image import PixelImage

    monkeypatch.setenv("COLORTERM", "truecolor")
    image_module.configure_images(protocol, env={})
    monkeypatch.setattr(image_module, "_CELL", CELL)
    gradient = Image.linear_gradient("L").resize((200, 100)).convert("RGB")
    gradient = Image.merge("RGB", (gradient.getchannel(0), gradient.getchannel(0).rotate(90),
                                   Image.new("L", gradient.size, 90)))

    class Viewer(App[None]):
        def compose(self) -> ComposeResult:
            yield PixelImage(gradient, f"gradient-{protocol}", 20, 10)

    app = Viewer()
    async with app.run_test(size=(40, 14)) as pilot:
        widget = app.query_one(PixelImage)
        await wait_until(pilot, lambda: widget.loaded, what="encoded")
        await pilot.pause()
        stream = frame(app)
        expected = gradient.resize((widget.box[0] * CELL[0], round(widget.box[0] * CELL[0] / 2)))
        if protocol == "kitty":
            from chatimg.tui import graphics

            graphics.forget_transmissions()  # headless frames went nowhere: send it again
            (sent,) = decode_kitty(frame(app))
            assert psnr(sent.image, expected) >= 30
            return
        screen = PixelScreen(40, 14, cell=CELL).feed(stream)
        region = widget.region
        drawn = screen.region(region.x, region.y, region.width, region.height)
        assert psnr(drawn.crop((0, 0, *expected.size)), expected) >= 30


async def test_toasts_stay_above_sixel_images(protocol_app: Any) -> None:
    from textual.widgets._toast import Toast

    app = protocol_app("sixel")
    size = (110, 30)  # toasts (60 wide, on the right) cover the image's right half
    async with app.run_test(size=size, notifications=True) as pilot:
        image = await poster_card(pilot)
        for number in range(6):
            app.notify(f"note {number} " * 4, timeout=60)
        await wait_until(pilot, lambda: len(app.screen.query(Toast)) >= 3, what="toasts")
        await pilot.pause()
        region = image.region
        toasts = [t.region.intersection(region) for t in app.screen.query(Toast)]
        toasts = [t for t in toasts if t.area]
        assert toasts, "the toasts should cover part of the image"
        screen = PixelScreen(*size, cell=CELL).feed(frame(app))
        expected = source_at(image, (region.width * CELL[0], region.height * CELL[1]))
        checked: list[float] = []
        for toast in toasts:  # the toast's cells show the toast, not the image
            drawn = screen.region(toast.x, toast.y, toast.width, toast.height)
            left, top = (toast.x - region.x) * CELL[0], (toast.y - region.y) * CELL[1]
            under = expected.crop((left, top, left + drawn.width, top + drawn.height))
            assert psnr(drawn.crop((0, 0, *under.size)), under) < 20
            # beside the toast, the same rows still show the image (its last column there
            # is a half cell)
            beside = toast.x - region.x - 1
            if beside > 1 and (toast.y - region.y) * CELL[1] < expected.height:
                drawn = screen.region(region.x, toast.y, beside, toast.height)
                part = expected.crop((0, top, beside * CELL[0], top + drawn.height))
                rows = min(part.height, expected.height - top)
                checked.append(psnr(drawn.crop((0, 0, part.width, rows)),
                                    part.crop((0, 0, part.width, rows))))
        assert checked and min(checked) >= 30
        # the rows above the toasts still show the image
        top_rows = min(t.y for t in toasts) - region.y
        assert top_rows > 0
        drawn = screen.region(region.x, region.y, region.width, top_rows)
        height = min(top_rows * CELL[1], expected.height)
        assert psnr(drawn.crop((0, 0, expected.width, height)),
                    expected.crop((0, 0, expected.width, height))) >= 30


@pytest.mark.parametrize("protocol", ["sixel", "kitty"])
async def test_no_color_keeps_pixel_images(protocol_app: Any, protocol: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # NO_COLOR greys text; a Sixel image or Kitty's placeholder colours (the image id) must
    # pass through untouched
    monkeypatch.setenv("NO_COLOR", "1")
    app = protocol_app(protocol)
    async with app.run_test(size=SIZE) as pilot:
        image = await poster_card(pilot)
        if protocol == "kitty":
            from chatimg.tui import graphics

            graphics.forget_transmissions()
        stream = frame(app)
        screen = PixelScreen(*SIZE, cell=CELL).feed(stream)
        region = image.region
        expected = source_at(image, (region.width * CELL[0], region.height * CELL[1]))
        if protocol == "kitty":
            (sent,) = screen.kitty
            ids = {p.image_id for p in screen.placeholders}
            assert ids == {int(sent.keys["i"])}
            assert psnr(sent.image, expected) >= 30
        else:
            drawn = screen.region(region.x, region.y, region.width, region.height)
            assert psnr(drawn.crop((0, 0, *expected.size)), expected) >= 30


async def test_kitty_images_leave_the_terminal_with_their_card(
        protocol_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.tui import graphics

    written: list[str] = []  # every control sequence the app renders (headless frames too)
    original = graphics.kitty_strips

    def recording(*args: Any, **kwargs: Any) -> Any:
        strips = original(*args, **kwargs)
        written.extend(segment.text for strip in strips[:1] for segment in strip
                       if segment.control)
        return strips

    monkeypatch.setattr(graphics, "kitty_strips", recording)
    app = protocol_app("kitty")
    async with app.run_test(size=SIZE) as pilot:
        image = await poster_card(pilot)
        image_id = image._prepared.image_id
        assert sum(f"i={image_id}," in text for text in written) == 1  # sent once
        card = await poster_card(pilot, 'a "NEXT" poster in green')
        await image.remove()
        card.refresh()
        await pilot.pause()
        # a later Kitty frame deletes the image nobody shows any more, once
        await wait_until(pilot, lambda: any(f"a=d,d=I,i={image_id}," in t for t in written),
                         what="the deletion")
        assert sum(f"a=d,d=I,i={image_id}," in text for text in written) == 1
        assert str(image_id) not in graphics.forget_transmissions()
