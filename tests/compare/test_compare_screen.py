"""The compare screen through ``App.run_test()``: panes, difference mode, picks, continue."""

from __future__ import annotations

from pathlib import Path

import PIL.Image
from PIL.Image import Image as PILImage
from textual.color import Color
from textual.widget import Widget
from textual.widgets import Label, Static
from textual_image.widget import HalfcellImage

from chatimg.compare import winners_by_generation
from chatimg.studio import Studio
from chatimg.tui.screens.compare import ComparePane, CompareScreen
from tests.compare.conftest import MODELS, CompareApp, fan_out

SIZE = (120, 40)


async def _settle(app: CompareApp, pilot) -> CompareScreen:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    return screen


def _text(widget: Widget) -> str:
    return str(widget.render())


async def test_three_models_show_three_panes_with_labels_and_highlights(cstudio: Studio) -> None:
    outcome = await fan_out(cstudio, MODELS)
    app = CompareApp(cstudio, [g.id for g in outcome.generations])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _settle(app, pilot)
        panes = screen.panes()
        assert [pane.item.model for pane in panes] == MODELS
        titles = [_text(pane.query_one(".pane-title", Label)) for pane in panes]
        assert titles == ["#1 layout-a", "#2 layout-b", "#3 layout-c"]
        # Each pane shows its own image, at its own size.
        pictures = [pane.query_one(HalfcellImage).image for pane in panes]
        sizes = [picture.size for picture in pictures if isinstance(picture, PILImage)]
        assert sizes == [(96, 96), (128, 96), (96, 128)]
        for picture, generation in zip(pictures, outcome.generations, strict=True):
            with PIL.Image.open(generation.assets[0].path) as stored:
                assert isinstance(picture, PILImage)
                assert picture.tobytes() == stored.convert("RGB").tobytes()
        # Differing parameters are under each pane, highlighted; shared ones once in the header.
        differs = [[_text(label) for label in pane.query(".param.differs")] for pane in panes]
        assert differs[1] == ["size: 128x96", "cost: ~$0.02"]
        assert differs[2] == ["size: 96x128", "cost: ~$0"]
        label = panes[1].query_one(".param-size", Label)
        warning = Color.parse(app.get_css_variables()["warning"])
        assert label.styles.color == warning
        assert panes[0].query_one(".pane-title", Label).styles.color == warning  # models differ
        shared = _text(screen.query_one("#compare-shared", Static))
        assert "version layout-2" in shared and "seed 5" in shared and "latency 12 ms" in shared
        assert "size" not in shared
        similarity = _text(screen.query_one("#compare-similarity", Static))
        assert similarity.count("SSIM") == 3 and "dHash" in similarity


async def test_difference_mode_black_for_same_seed_not_for_other_seed(cstudio: Studio) -> None:
    first = await fan_out(cstudio, ["layout-a"], seed=3)
    conversation = first.message.conversation_id
    same = await fan_out(cstudio, ["layout-a"], seed=3, conversation_id=conversation)
    other = await fan_out(cstudio, ["layout-a"], seed=4, conversation_id=conversation)
    ids = [first.generations[0].id, same.generations[0].id, other.generations[0].id]
    app = CompareApp(cstudio, ids)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _settle(app, pilot)
        await pilot.press("d")  # focused #1 against the next pane, #2
        assert screen.difference is not None
        assert screen.difference.getextrema() == ((0, 0), (0, 0), (0, 0))
        header = _text(screen.query_one("#compare-similarity", Static))
        assert "difference #1 vs #2" in header and "SSIM 1.000" in header
        identical = screen.score_between(ids[0], ids[1])
        assert identical is not None and identical.ssim == 1.0
        await pilot.press("d", "space", "right", "right", "space", "d")  # marked #1 and #3
        assert screen.difference_pair == (ids[0], ids[2])
        assert screen.difference.getbbox() is not None
        header = _text(screen.query_one("#compare-similarity", Static))
        assert "difference #1 vs #3" in header
        score = screen.score_between(ids[0], ids[2])
        assert score is not None and score.ssim is not None and score.ssim < 1.0
        assert f"SSIM {score.ssim:.3f}" in header
        await pilot.press("escape")
        assert screen.difference is None and app.screen is screen


async def test_picking_a_winner_is_stored_and_survives_restart(cstudio: Studio) -> None:
    outcome = await fan_out(cstudio, MODELS)
    ids = [g.id for g in outcome.generations]
    app = CompareApp(cstudio, ids)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _settle(app, pilot)
        await pilot.press("right", "w")
        await pilot.pause()
        pane = screen.focused_pane()
        assert pane.item.id == ids[1] and pane.has_class("winner")
        assert "★" in _text(pane.query_one(".pane-title", Label))
        status = _text(screen.query_one("#compare-status", Static))  # a line, not a toast
        assert "Picked #2 layout-b" in status and not app._notifications
    cstudio.close()
    reopened = Studio.open()
    try:
        thread = reopened.load_thread(outcome.message.conversation_id)
        (pick,) = thread.picks
        assert pick.winner_id == ids[1]
        assert list(pick.generation_ids) == ids
        assert pick.created_at is not None
        assert winners_by_generation(thread) == {ids[1]: 1}
    finally:
        reopened.close()


async def test_continue_from_this_one_returns_model_seed_and_params(cstudio: Studio) -> None:
    outcome = await fan_out(cstudio, MODELS, seed=77)
    ids = [g.id for g in outcome.generations]
    app = CompareApp(cstudio, ids)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("right", "right", "c")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)
    assert app.result is not None
    params = app.result.pop("params")
    assert app.result == {"generation_id": ids[2], "model": "layout-c", "seed": 77}
    assert (params["width"], params["height"], params["seed"]) == (96, 128, 77)


async def test_sizes_failure_and_missing_file_are_shown_without_crash(cstudio: Studio) -> None:
    outcome = await fan_out(cstudio, ["layout-a", "layout-b", "layout-c", "no-such-model"])
    ok, wide, gone, failed = outcome.generations
    Path(gone.assets[0].path).unlink()
    app = CompareApp(cstudio, [ok.id, wide.id, gone.id, failed.id])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _settle(app, pilot)
        panes = screen.panes()
        assert screen.query_one("#compare-panes").styles.grid_size_columns == 2  # 2x2
        assert len(panes[0].query(HalfcellImage)) == len(panes[1].query(HalfcellImage)) == 1
        assert _text(panes[2].query_one(".pane-note", Static)) == "missing"
        error = _text(panes[3].query_one(".pane-note", Static))
        assert "no-such-model" in error and error == failed.error
        # Difference of the two different-sized images works (resized to the smaller).
        await pilot.press("d")
        assert screen.difference is not None and screen.difference.size == (96, 96)
        await pilot.press("d", "right", "right", "d")  # #3 (missing) vs #4 (failed)
        assert screen.difference is None
        assert "needs two images" in _text(screen.query_one("#compare-status", Static))
        # Zoom, swap and moving focus keep working with broken panes.
        await pilot.press("z")
        assert [p.item.id for p in screen.panes() if p.display] == [gone.id]
        await pilot.press("right")  # zoomed: the next pane takes the screen
        assert [p.item.id for p in screen.panes() if p.display] == [failed.id]
        await pilot.press("left")
        await pilot.press("z", "s")
        assert [p.item.id for p in screen.panes()] == [ok.id, wide.id, failed.id, gone.id]
        assert isinstance(screen.focused, ComparePane) and screen.focused.item.id == gone.id
