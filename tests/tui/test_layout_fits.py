"""Nothing is cut off or covered at 140x45 and 80x24 (issue 12, bug 7): the fan-out chip says
how many models it holds, every advanced field shows whole, and compare's messages leave pane
#2's details readable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import ready, type_and_send, wait_until
from tests.tui.engines import register_test_engines
from tests.tui.screen_text import region_text, screen_lines

SIZES = [(140, 45), (80, 24)]
MODELS = ["layout", "second-model", "third-model", "fourth-model"]


@pytest.mark.parametrize("size", SIZES)
async def test_fanout_chip_names_every_model_or_says_how_many_more(
        make_app: Any, monkeypatch: pytest.MonkeyPatch, config_file: Path,
        size: tuple[int, int]) -> None:
    from textual.widgets import Button

    register_test_engines(monkeypatch, config_file, *MODELS[1:])
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/fanout " + " ".join(MODELS))
        await wait_until(pilot, lambda: "fan-out" in screen.composer.hint_text, what="fan-out")
        chip = screen.composer.query_one("#model-chip", Button)
        await wait_until(pilot, lambda: "+" in region_text(app, chip.region), what="chip")
        text = region_text(app, chip.region)
        whole = [name for name in MODELS if name in text]
        assert whole and whole == MODELS[:len(whole)], text  # names shown are shown whole
        hidden = len(MODELS) - len(whole)
        if hidden:
            assert f"+{hidden} more" in text, text
        # all four are named where there is room: the hint line and the chip's tooltip
        assert all(name in screen.composer.hint_text for name in MODELS)
        assert all(name in str(chip.tooltip) for name in MODELS)


@pytest.mark.parametrize("size", SIZES)
async def test_advanced_panel_shows_every_field_whole(make_app: Any,
                                                      size: tuple[int, int]) -> None:
    from textual.widgets import Input, Label

    from chatimg.tui.options import ADVANCED_FIELDS

    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: bool(screen.query("#advanced")), what="panel")
        await pilot.pause()
        panel = screen.query_one("#advanced")
        await wait_until(pilot, lambda: panel.region.height > 0, what="panel laid out")
        visible = screen.composer.region.intersection(screen.region)
        for field in ADVANCED_FIELDS:
            box = screen.query_one(f"#adv-{field.name}", Input)
            assert box.region.width >= 6, (field.name, box.region)
            assert visible.contains_region(box.region), (field.name, box.region, visible)
        labels = [label for label in panel.query(Label)]
        for label in labels:
            assert visible.contains_region(label.region), (label.region, visible)
        shown = "\n".join(screen_lines(app))
        for field in ADVANCED_FIELDS:
            assert field.label in shown, field.label


@pytest.mark.parametrize("size", SIZES)
async def test_compare_messages_leave_pane_two_details_readable(
        make_app: Any, size: tuple[int, int]) -> None:
    from chatimg.tui.screens.compare import ComparePane, CompareScreen

    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        screen = await ready(pilot)
        for text in ('"ONE"', '"TWO"'):
            await type_and_send(pilot, text)
            await wait_until(pilot, lambda: screen.running == 0 and all(
                c.status == "succeeded" for c in screen.thread.cards()), what="cards")
        for card in screen.thread.cards():
            card.focus()
            await pilot.press("p")  # each pick says so in a toast on the main screen
        await wait_until(pilot, lambda: len(screen.picked) == 2, what="two picks")
        await type_and_send(pilot, "/compare")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare")
        compare = app.screen
        await wait_until(pilot, lambda: len(compare.query(ComparePane)) == 2, what="panes")
        await wait_until(pilot, lambda: compare.focused is compare.query_one("#pane-1"),
                         what="pane #1 focused")
        await pilot.press("right")
        await wait_until(pilot, lambda: compare.focused is compare.query_one("#pane-2"),
                         what="pane #2 focused")
        await pilot.press("w")  # pick pane #2 as the winner
        await wait_until(pilot, lambda: "winner" in str(
            compare.query_one("#pane-2 .pane-title").render()), what="winner")
        await pilot.pause()
        details = compare.query_one("#pane-2 .pane-params").region
        assert details.height > 0
        toasts = [toast.region for toast in compare.query("Toast")]
        assert not [toast for toast in toasts if toast.overlaps(details)], (toasts, details)
        text = region_text(app, details)
        assert "prompt" in text or "seed" in text, text
        status = str(compare.query_one("#compare-status").render())
        assert "Picked #2" in status


def test_chip_label_keeps_names_whole_and_counts_the_rest() -> None:
    from chatimg.tui.widgets.composer import chip_label

    assert chip_label(["layout"]) == "⧉ layout"
    assert chip_label(["layout", "tiny"]) == "⧉ layout + tiny"
    assert chip_label(MODELS) == "⧉ layout +3 more"
    assert chip_label(MODELS, 40) == "⧉ layout + second-model +2 more"
    assert chip_label(["a-very-long-model-name-indeed", "tiny"], 20) == "⧉ a-very-lo… +1 more"
    assert chip_label(["a-very-long-model-name-indeed"], 12) == "⧉ a-very-lo…"
    assert all(len(chip_label(MODELS, room)) <= room for room in range(16, 60))


@pytest.mark.parametrize(("size", "sidebar"), [((80, 24), 24), ((120, 40), 32), ((200, 50), 32)])
async def test_the_sidebar_takes_a_share_of_a_small_terminal(
        make_app: Any, size: tuple[int, int], sidebar: int) -> None:
    """At 80 columns the sidebar leaves the thread most of the width; from about 107 columns
    up it has its full 32. Its rows still end with their time either way."""
    from chatimg.studio import Studio

    studio = Studio.open()
    studio.repo.create_conversation("a poster for the spring fair in the old town", "layout")
    studio.close()
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot)
        assert screen.sidebar.outer_size.width == sidebar
        assert screen.thread.outer_size.width == size[0] - sidebar
        rows = screen.sidebar.query_one("#conversations")
        lines = region_text(app, rows.region).splitlines()
        assert lines[0].rstrip().endswith("now"), lines[0]  # the title is cut, not the time


async def test_rows_shown_while_the_list_is_covered_are_fitted_to_the_width_it_gets(
        make_app: Any) -> None:
    """The first rows arrive while the list is still covered by its loading indicator (out
    of the layout, with no width): they are fitted to the width it gets, not cut short of
    their time."""
    from chatimg.studio import Studio

    studio = Studio.open()
    studio.repo.create_conversation("a poster for the spring fair in the old town", "layout")
    studio.close()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        listing = screen.query_one("#conversations")
        width = listing.scrollable_content_region.width
        listing.loading = True
        await wait_until(pilot, lambda: listing.scrollable_content_region.width == 0,
                         what="the list covered")
        assert app.studio is not None
        app.studio.repo.create_conversation("a second poster for the autumn fair by the river",
                                            "layout")
        rows = app.studio.list_conversations(limit=10)
        screen.sidebar.show(screen.sidebar.query_text, rows)
        listing.loading = False
        await wait_until(pilot, lambda: listing.scrollable_content_region.width == width,
                         what="the list laid out")
        await pilot.pause()
        lines = region_text(app, listing.region).splitlines()
        assert all(line.rstrip().endswith("now") for line in lines[:2]), lines[:2]
