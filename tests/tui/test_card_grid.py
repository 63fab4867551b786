"""Issue 12: several images of one generation as a grid on its card, each selectable, openable,
acted on and picked on its own; card images as wide as the card (re-fitted on resize)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from chatimg.compare import ImageRef
from tests.tui.conftest import images_loaded, ready, type_and_send, wait_until


def _same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("RGB"),
                                                       b.convert("RGB")).getbbox() is None


async def _grid_card(pilot: Any, screen: Any, count: int, prompt: str = '"GRID"') -> Any:
    await type_and_send(pilot, "/size 256x256")
    await type_and_send(pilot, f"/n {count}")
    await type_and_send(pilot, prompt)
    await wait_until(pilot, lambda: screen.running == 0 and bool(screen.thread.cards()) and
                     screen.thread.cards()[-1].status == "succeeded", what="a finished card")
    card = screen.thread.cards()[-1]
    await wait_until(pilot, lambda: card.grid is not None and len(card.grid.tiles) == count,
                     what=f"{count} images on the card")
    await wait_until(pilot, lambda: images_loaded(screen), what="images drawn")
    return card


async def test_four_images_form_a_2x2_grid_each_selectable_openable_and_picked(
        make_app: Any) -> None:
    """Acceptance 1: ``/n 4`` then a prompt; ``p`` on the third image; compare shows it."""
    from chatimg.tui.screens.compare import CompareScreen
    from chatimg.tui.screens.viewer import ViewerScreen

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await ready(pilot)
        card = await _grid_card(pilot, screen, 4)
        generation = screen.generations[card.generation_id]
        tiles = card.grid.tiles
        # 2x2: two side by side, then two below, the same columns
        top_left, top_right, bottom_left, bottom_right = (tile.region for tile in tiles)
        assert top_left.y == top_right.y < bottom_left.y == bottom_right.y
        assert top_left.x == bottom_left.x < top_right.x == bottom_right.x
        assert top_left.right <= top_right.x  # side by side, not overlapping
        # each image is its own, with its own seed and labelled checks
        seeds = [asset.seed for asset in generation.assets]
        assert len(set(seeds)) == 4
        for number, (tile, asset) in enumerate(zip(tiles, generation.assets, strict=True), 1):
            assert tile.image.asset.sha256 == asset.sha256
            label = str(tile.label.render())
            assert label.startswith(f"#{number} seed {asset.seed}")
            assert f"#{number} ✓ blank" in label and "size" in label

        # arrows move the selection inside the grid: right, down, left, up
        card.focus()
        await wait_until(pilot, lambda: tiles[0].selected, what="first selected")
        for key, expected in (("right", 1), ("down", 3), ("left", 2), ("up", 0), ("l", 1),
                              ("j", 3), ("h", 2)):
            await pilot.press(key)
            await wait_until(pilot, lambda e=expected: card.selected == e,  # type: ignore[misc]
                             what=f"image {expected + 1} selected")
            assert [t.selected for t in tiles] == [
                i == expected for i in range(4)]
            assert (screen.selected_id, screen.selected_image) == (card.generation_id, expected)

        # Enter opens each image in the viewer; Esc comes back to the same image
        for index, key in ((2, "enter"), (0, "z"), (3, "space")):
            card.select(index)
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), what="viewer")
            viewer = app.screen
            assert viewer.current.generation.id == card.generation_id
            assert viewer.current.image == index
            await wait_until(pilot, lambda v=viewer: v.canvas.frames > 0,  # type: ignore[misc]
                             what="viewer frame")
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen, what="back on the thread")
            await wait_until(pilot, lambda: app.focused is card, what="card focused again")
            assert card.selected == index

        # p on the third image picks that image (not the generation's first)
        card.select(2)
        await pilot.press("p")
        await wait_until(pilot, lambda: len(screen.picked) == 1, what="picked")
        assert screen.picked == [ImageRef(card.generation_id, 2)]
        assert tiles[2].picked and not tiles[0].picked
        assert "★ picked" in str(tiles[2].label.render())
        card.select(0)
        await pilot.press("p")
        await wait_until(pilot, lambda: len(screen.picked) == 2, what="two picks")
        await type_and_send(pilot, "/compare")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen)
                         and app.screen.comparison is not None and bool(app.screen.panes()),
                         what="compare loaded")
        compare = app.screen
        items = compare.shown.items
        assert [(item.generation.id, item.image) for item in items] == [
            (card.generation_id, 2), (card.generation_id, 0)]
        third = generation.assets[2]
        with Image.open(third.path) as source:
            assert _same_pixels(compare.images[0], source)  # the third image, not the first
        with Image.open(generation.assets[0].path) as first:
            assert not _same_pixels(compare.images[0], first)
        assert compare.panes()[0].title_text().startswith("#1 layout · image 3 of 4")
        # the seed row shows each image's own seed
        seed_row = next(row for row in compare.shown.rows if row.key == "seed")
        assert seed_row.values == (str(third.seed), str(generation.assets[0].seed))
        await pilot.press("w")  # the focused pane (the third image) wins: stored as an image
        await wait_until(pilot, lambda: bool(app.studio.load_thread(
            screen.conversation_id).picks), what="winner stored")
        (pick,) = app.studio.load_thread(screen.conversation_id).picks
        assert (pick.winner_id, pick.winner_image) == (card.generation_id, 2)
        assert pick.images == (2, 0)


async def test_card_actions_act_on_the_selected_image(
        make_app: Any, config_file: Path, tiny_sd_path: Path) -> None:
    """Vary, copy seed and copy path take the selected image of a grid (tiny diffusers)."""
    from tests.tiny_diffusers import write_tiny_model_config

    write_tiny_model_config(config_file, tiny_sd_path, name="tiny", steps=2, width=64,
                            height=64)
    app = make_app()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/model tiny")
        await type_and_send(pilot, "/n 2")
        await type_and_send(pilot, "a tiny robot")
        await wait_until(pilot, lambda: screen.running == 0 and bool(screen.thread.cards())
                         and screen.thread.cards()[0].grid is not None, timeout=90,
                         what="two images")
        card = screen.thread.cards()[0]
        generation = screen.generations[card.generation_id]
        assert len(generation.assets) == 2, generation.error
        card.focus()
        await pilot.press("right")
        await wait_until(pilot, lambda: card.selected == 1, what="second image")
        await pilot.press("c")
        await wait_until(pilot, lambda: len(copied) == 1, what="seed copied")
        assert copied[0] == str(generation.assets[1].seed) != str(generation.assets[0].seed)
        await pilot.press("C")
        await wait_until(pilot, lambda: len(copied) == 2, what="path copied")
        assert copied[1] == generation.assets[1].path
        await pilot.press("v")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2 and screen.running == 0,
                         timeout=90, what="the variation's card")
        varied = app.studio.get_generation(screen.thread.cards()[-1].generation_id)
        assert varied.params["source_asset"] == generation.assets[1].sha256


async def test_card_images_use_the_width_they_have(make_app: Any, config_file: Path) -> None:
    """Acceptance 2 (card part): at least 3x wider at 200 columns than at 80, re-fitted when
    the terminal is resized; and capped by ``[ui] image_max_columns``."""
    from chatimg.tui.widgets.image import CardImage

    async def width_at(size: tuple[int, int]) -> int:
        app = make_app()
        async with app.run_test(size=size) as pilot:
            screen = await ready(pilot)
            await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="card")
            await wait_until(pilot, lambda: bool(screen.query(CardImage))
                             and images_loaded(screen), what="image drawn")
            image = screen.query_one(CardImage)
            await wait_until(pilot, lambda: image.size.width == image.box[0], what="laid out")
            width: int = image.size.width
            return width

    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"WIDE"')
        await wait_until(pilot, lambda: screen.running == 0 and bool(screen.query(CardImage))
                         and images_loaded(screen), what="image drawn")
        image = screen.query_one(CardImage)
        wide = image.size.width
        # the terminal shrinks: the same widget re-fits and redraws at the new size
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: image.box[0] < wide and image.loaded
                         and image.size.width == image.box[0], what="re-fitted")
        strips = [image.render_line(y) for y in range(image.size.height)]
        assert {strip.cell_length for strip in strips} == {image.box[0]}
        narrow_live = image.size.width
    at_80 = await width_at((80, 24))  # the same thread, opened at 80x24 (restored)
    at_200 = await width_at((200, 60))
    assert at_200 >= 3 * at_80, (at_200, at_80)
    assert narrow_live == at_80

    with config_file.open("a", encoding="utf-8") as handle:
        handle.write("\n[ui]\nimage_max_columns = 40\n")
    assert await width_at((200, 60)) == 40


async def test_poster_text_reads_back_from_the_viewer_opened_with_enter(make_app: Any) -> None:
    """Acceptance 2 (viewer part), through the keys: at 200x60 Enter on a 512x512 layout
    poster's card opens the viewer, whose half cells (two pixels each) OCR back."""
    from chatimg.tui.screens.viewer import ViewerScreen
    from chatimg.validate import run_checks
    from tests.tui.halfcell_decode import widget_pixels

    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/size 512x512")
        await type_and_send(pilot, '"OPEN LATE"')
        await wait_until(pilot, lambda: screen.running == 0 and bool(screen.thread.cards())
                         and screen.thread.cards()[-1].status == "succeeded", what="poster")
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: app.focused is screen.thread.cards()[-1], what="card")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ViewerScreen), what="viewer")
        viewer = app.screen
        await wait_until(pilot, lambda: viewer.canvas.frames > 0, what="frame")
        seen = widget_pixels(viewer.canvas)
        assert seen.height == viewer.canvas.size.height * 2 >= 110
    (typography,) = run_checks(seen, expected_text="OPEN LATE", names=["typography"])
    assert typography.passed, typography.details
    assert typography.details["read"] == "OPEN LATE"
