"""Capability-aware actions (issue 12, acceptance 5): keys a card's model cannot do open the
picker filtered to models that can; unavailable models are marked, warned about before a send
and not priced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until
from tests.tui.screen_text import screen_lines

PAID = '\n[models.paid-layout]\nengine = "layout"\ncost_per_image = 0.02\n'


def _stored(app: Any, screen: Any) -> list[Any]:
    """Every generation stored in the open conversation."""
    thread = app.studio.load_thread(screen.conversation_id)
    return [generation for message in thread.messages for generation in message.generations]


def _settled(screen: Any, count: int) -> bool:
    cards = screen.thread.cards()
    return screen.running == 0 and len(cards) == count and all(
        card.status in ("succeeded", "failed") for card in cards)


def _footer(app: Any) -> str:
    return screen_lines(app)[-1]


async def _layout_card(pilot: Any) -> Any:
    screen = await ready(pilot)
    await type_and_send(pilot, "/size 64x64")  # small: a variation of it runs fast on CPU
    await wait_until(pilot, lambda: screen.options.width == 64, what="size set")
    await type_and_send(pilot, 'a "SALE" poster')
    await wait_until(pilot, lambda: _settled(screen, 1), what="the layout card")
    card = screen.thread.cards()[0]
    card.focus()
    await pilot.pause()
    return card


async def test_vary_on_a_layout_image_picks_an_img2img_model_and_stores_no_failure(
        make_app: Any, config_file: Path, tiny_sd_path: Path) -> None:
    from textual.widgets import OptionList

    from chatimg.tui.screens.model_picker import ModelPicker
    from tests.tiny_diffusers import write_tiny_model_config

    write_tiny_model_config(config_file, tiny_sd_path, steps=2, width=64, height=64)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        card = await _layout_card(pilot)
        source = card.generation.assets[0].sha256
        # the footer offers what layout can do: Regenerate and the receipt, no Vary
        await wait_until(pilot, lambda: "Regenerate" in _footer(app) and "receipt" in
                         _footer(app) and "Vary" not in _footer(app), what="card footer")
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), what="picker")
        picker = app.screen
        assert picker.filter_capability == "img2img"
        await wait_until(pilot, lambda: picker.query_one(OptionList).option_count > 0,
                         what="filled")
        options = picker.query_one(OptionList)
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert names[0] == "tiny" and "layout" not in names  # available and capable first
        await pilot.press("enter")
        await wait_until(pilot, lambda: _settled(screen, 2), timeout=60, what="the variation")
        stored = _stored(app, screen)
        assert [g.status for g in stored] == ["succeeded", "succeeded"]  # no failed message
        variation = stored[1]
        assert variation.resolved_model == "tiny"
        assert variation.params["source_asset"] == source
        # a tiny card can vary itself: the footer offers Vary there
        screen.thread.cards()[1].focus()
        await wait_until(pilot, lambda: "Vary" in _footer(app), what="Vary offered")


async def test_u_on_a_layout_image_upscales_by_what_the_chosen_model_takes(
        make_app: Any, config_file: Path, tiny_upscaler_path: Path) -> None:
    """``u`` asks for no factor: on the x4 upscaler it upscales by 4 (it takes nothing else)."""
    from textual.widgets import OptionList

    from chatimg.tui.screens.model_picker import ModelPicker
    from tests.tiny_diffusers import write_tiny_model_config

    write_tiny_model_config(config_file, tiny_upscaler_path, name="tiny-x4", steps=2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        await _layout_card(pilot)
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), what="picker")
        picker = app.screen
        await wait_until(pilot, lambda: picker.query_one(OptionList).option_count > 0,
                         what="filled")
        options = picker.query_one(OptionList)
        names = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
        assert names[0] == "tiny-x4", names
        await pilot.press("enter")
        await wait_until(pilot, lambda: _settled(screen, 2), timeout=60, what="the upscale")
        stored = _stored(app, screen)
        assert [g.status for g in stored] == ["succeeded", "succeeded"], stored[1].error
        upscaled = stored[1]
        assert upscaled.resolved_model == "tiny-x4" and upscaled.params["upscale"] == 4
        assert (upscaled.assets[0].width, upscaled.assets[0].height) == (256, 256)


@pytest.mark.parametrize(("key", "mode"), [("u", "upscale"), ("e", "inpaint")])
async def test_upscale_and_edit_on_a_layout_image_open_the_filtered_picker(
        make_app: Any, key: str, mode: str) -> None:
    from textual.widgets import OptionList

    from chatimg.model_choice import can_do
    from chatimg.tui.screens.model_picker import ModelPicker

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        await _layout_card(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), what="picker")
        picker = app.screen
        assert picker.filter_capability == mode
        await wait_until(pilot, lambda: picker.query_one(OptionList).option_count > 0,
                         what="filled")
        options = picker.query_one(OptionList)
        listings = {listing.name: listing for listing in picker.listings}
        names = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
        assert names and all(can_do(listings[name], mode) for name in names)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="closed")
        await pilot.pause()
        assert [g.status for g in _stored(app, screen)] == ["succeeded"]  # nothing added
        assert len(screen.thread.cards()) == 1


async def test_fanout_marks_unavailable_models_warns_before_sending_and_prices_the_rest(
        make_app: Any, config_file: Path) -> None:
    from chatimg.tui.screens.dialogs import ConfirmScreen

    config_file.write_text(config_file.read_text() + PAID)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/fanout paid-layout ideogram-v3")
        await wait_until(pilot, lambda: "fan-out" in screen.composer.hint_text, what="set")
        hint = screen.composer.hint_text
        assert "ideogram-v3 ✗" in hint and "paid-layout ✗" not in hint, hint
        assert "cannot run here: ideogram-v3" in hint
        estimate = str(screen.composer.query_one("#estimate").render())
        assert estimate.startswith("est. $0.020"), estimate  # ideogram-v3 is not priced
        assert "1 can't run" in estimate

        await type_and_send(pilot, 'a "SALE" poster')
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="warning")
        assert "1 of 2 models cannot run here: ideogram-v3" in app.screen.question
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen, what="closed")
        assert screen.composer.prompt.text == 'a "SALE" poster'  # kept, nothing sent
        assert screen.conversation_id is None and app.studio.list_conversations() == []

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="again")
        await pilot.press("y")
        await wait_until(pilot, lambda: _settled(screen, 1), what="sent to the one that can")
        stored = _stored(app, screen)
        assert [(g.resolved_model, g.status) for g in stored] == [("paid-layout", "succeeded")]
        assert screen.composer.prompt.text == ""


async def test_a_send_to_models_that_all_cannot_run_stores_nothing(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/model ideogram-v3")
        await wait_until(pilot, lambda: screen.options.model == "ideogram-v3", what="model")
        await type_and_send(pilot, 'a "SALE" poster')
        await wait_until(pilot, lambda: "cannot run here" in screen.composer.hint_text,
                         what="the inline warning")
        assert "IDEOGRAM_API_KEY" in screen.composer.hint_text  # says why
        assert screen.composer.prompt.text == 'a "SALE" poster'
        assert app.studio.list_conversations() == []
