"""Bug 9: with ``NO_COLOR=1`` (no-color.org) an image card renders instead of crashing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import SIZE, images_loaded, ready, type_and_send, wait_until


async def test_no_color_renders_an_image_card(make_app: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.filter import Monochrome

    from chatimg.tui.widgets.image import CardImage

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert any(isinstance(f, Monochrome) for f in app.get_line_filters())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, 'a "HELLO" poster in red')
        await wait_until(pilot, lambda: bool(list(screen.query(CardImage))), what="image card")
        await wait_until(pilot, lambda: images_loaded(screen), what="thumbnail")
        await pilot.pause()
        image = screen.query_one(CardImage)
        app.export_screenshot()  # the whole screen rendered through the filters: no crash
        lines = image.render_lines(image.region.reset_offset)
        colours = {segment.style.color.get_truecolor() for line in lines for segment in line
                   if segment.style is not None and segment.style.color is not None}
        # drawn (many shades), and in grey levels: the monochrome filter read every cell
        assert len(colours) > 4
        assert all(c.red == c.green == c.blue for c in colours)
    assert not app.return_code
