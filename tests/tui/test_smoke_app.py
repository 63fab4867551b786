"""Acceptance 1: prompt → card with progress then image; stored; restart shows the thread."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import SIZE, images_loaded, ready, type_and_send, wait_until


async def test_prompt_makes_card_and_survives_restart(make_app: Any) -> None:
    from chatimg.tui.widgets.card import GenerationCard
    from chatimg.tui.widgets.image import CardImage

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, 'a "HELLO" poster in blue')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1, what="a card")
        card = screen.thread.cards()[0]
        await wait_until(pilot, lambda: card.status == "succeeded", what="success")
        await wait_until(pilot, lambda: bool(list(card.query(CardImage))), what="image")
        await wait_until(pilot, lambda: images_loaded(screen), what="thumbnail")
        assert screen.composer.prompt.text == ""
        conversation_id = screen.conversation_id
        assert conversation_id
        thread = app.studio.load_thread(conversation_id)
        assert thread.messages[0].text == 'a "HELLO" poster in blue'
        generation = thread.messages[0].generations[0]
        assert generation.status == "succeeded" and generation.assets
        assert generation.resolved_model == "layout"
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.conversation_id == conversation_id
        cards = screen.query(GenerationCard)
        assert len(cards) == 1 and cards.first().generation.id == generation.id
