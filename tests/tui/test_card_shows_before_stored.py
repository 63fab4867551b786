"""Issue 15, item 3 on the card: the engine's decoded image is drawn while its file is still
being written; "finished" (stored) then keeps the same drawing, in the same widget and size.

Storing is held by gating ``GenerationRun.encode`` (PNG encoding, hashing, the fsynced write)
on a ``threading.Event``, so what the card shows meanwhile does not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from tests.tui.conftest import ready, type_and_send, wait_until
from tests.tui.halfcell_decode import content_box, strips_to_image, widget_pixels


class StoreGate:
    """Holds every image's encoding until ``release`` (bounded: a failed test never hangs)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.fail = False
        """Fail the encoding (as a full disk would) instead of storing."""


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreGate]:
    from chatimg.errors import EngineRequestError
    from chatimg.generation import GenerationRun

    held = StoreGate()
    original = GenerationRun.encode

    def gated(self: GenerationRun, *args: Any, **kwargs: Any) -> Any:
        held.entered.set()
        held.released.wait(timeout=60)
        if held.fail:
            raise EngineRequestError("no space left on device", reason="store")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GenerationRun, "encode", gated)
    try:
        yield held
    finally:
        held.released.set()  # never leave the process's encoding pool blocked


def _stored_pixels(asset: Any, box: tuple[int, int]) -> Image.Image:
    """What a card draws for the stored file in a ``box`` of cells (read from disk)."""
    from chatimg.tui.thumbnails import thumbnail
    from chatimg.tui.widgets.image import halfcell_strips

    cols, rows = box
    return strips_to_image(halfcell_strips(thumbnail(Path(asset.path), asset.sha256, cols,
                                                     rows * 2)), cols)


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


async def _held_card(pilot: Any, screen: Any, gate: StoreGate, count: int) -> Any:
    """Send a prompt for ``count`` images and wait until each is drawn while storing is held."""
    await type_and_send(pilot, "/size 256x256")
    await type_and_send(pilot, f"/n {count}")
    await wait_until(pilot, lambda: screen.options.count == count, what=f"/n {count}")
    await type_and_send(pilot, '"EARLY"')
    await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="a card")
    card = screen.thread.cards()[0]
    await wait_until(pilot, lambda: card.grid is not None and len(card.grid.tiles) == count
                     and all(tile.image.loaded for tile in card.grid.tiles),
                     timeout=60, what=f"{count} images drawn before they are stored")
    assert gate.entered.is_set() and not gate.released.is_set()
    return card


def _assert_not_finished(app: Any, card: Any, count: int) -> None:
    """The card and the store agree: nothing is stored yet, and the card says it is storing."""
    stored = app.studio.get_generation(card.generation_id)
    assert stored.status == "running" and stored.assets == ()
    assert card.status == "running"
    assert card.generation is None or not card.generation.assets
    assert "✓" not in str(card._meta.render()) and "succeeded" not in str(card._meta.render())
    noun = "image" if count == 1 else "images"
    assert f"storing {count} {noun}… not saved yet" in str(card._detail.render())
    for tile in card.grid.tiles:
        assert tile.image.asset is None  # keys that need the stored file have none yet


async def test_the_image_is_drawn_before_it_is_stored_and_stays_when_stored(
        make_app: Any, gate: StoreGate) -> None:
    from chatimg.tui.widgets.image import cell_box

    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        card = await _held_card(pilot, screen, gate, 1)
        _assert_not_finished(app, card, 1)
        (tile,) = card.grid.tiles
        image = tile.image
        assert not tile.label.display  # a single image has no label
        drawn = widget_pixels(image)
        assert content_box(drawn) is not None  # real cells, not a blank box
        box = image.box
        assert image.region.width == box[0] and image.region.height == box[1]

        gate.released.set()
        await wait_until(pilot, lambda: card.status == "succeeded", timeout=60,
                         what="stored")
        stored = app.studio.get_generation(card.generation_id)
        (asset,) = stored.assets
        # the same widget, still drawn, now the stored asset, at the same size
        assert card.grid.tiles == [tile] and tile.image is image
        assert image.loaded and image.asset is not None
        assert image.asset.sha256 == asset.sha256
        assert image.box == box == cell_box(asset.width, asset.height, *card.image_limits())
        await pilot.pause()
        assert image.region.width == box[0] and image.region.height == box[1]
        assert _same(widget_pixels(image), drawn)
        assert _same(drawn, _stored_pixels(asset, box))  # what the stored file draws
        assert "✓ succeeded" in str(card._meta.render())
        assert "storing" not in str(card._detail.render())


async def test_a_batch_of_two_shows_both_images_in_their_slots_before_storing(
        make_app: Any, gate: StoreGate) -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await ready(pilot)
        card = await _held_card(pilot, screen, gate, 2)
        _assert_not_finished(app, card, 2)
        first, second = card.grid.tiles
        await pilot.pause()
        assert first.region.y == second.region.y and first.region.right <= second.region.x
        drawn = [widget_pixels(tile.image) for tile in (first, second)]
        assert all(content_box(pixels) is not None for pixels in drawn)
        assert not _same(drawn[0], drawn[1])  # each slot has its own image (seed + 1)
        assert [str(tile.label.render()) for tile in (first, second)] == [
            "#1 storing…", "#2 storing…"]
        boxes = [tile.image.box for tile in (first, second)]

        gate.released.set()
        await wait_until(pilot, lambda: card.status == "succeeded", timeout=60,
                         what="stored")
        stored = app.studio.get_generation(card.generation_id)
        assert card.grid.tiles == [first, second]
        for tile, asset, pixels, box in zip((first, second), stored.assets, drawn, boxes,
                                            strict=True):
            assert tile.image.asset is not None and tile.image.asset.sha256 == asset.sha256
            assert tile.image.box == box and tile.image.loaded
            assert _same(widget_pixels(tile.image), pixels)
            assert _same(pixels, _stored_pixels(asset, box))
            assert str(tile.label.render()).startswith(f"#{asset.index + 1} seed {asset.seed}")


async def test_an_image_that_could_not_be_stored_leaves_the_card(
        make_app: Any, gate: StoreGate) -> None:
    from chatimg.tui.widgets.image import CardImage

    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        card = await _held_card(pilot, screen, gate, 1)
        gate.fail = True
        gate.released.set()
        await wait_until(pilot, lambda: card.status == "failed", timeout=60, what="failed")
        await wait_until(pilot, lambda: not card.query(CardImage), what="image gone")
        assert card.grid is None
        assert "no space left on device" in str(card._detail.render())
        assert app.studio.get_generation(card.generation_id).assets == ()
