"""``i`` on a card shows the receipt as rows a creator can scan; ``r`` shows the raw JSON."""

from __future__ import annotations

import json
from typing import Any

from tests.tui.conftest import SIZE, ready, type_and_send, wait_until
from tests.tui.screen_text import region_text, screen_text


async def test_receipt_on_i_is_readable_and_r_shows_the_raw_json(make_app: Any) -> None:
    from chatimg.tui.screens.dialogs import ReceiptScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/seed 1234")
        await type_and_send(pilot, '"seeded" poster')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1 and screen.running == 0
                         and screen.thread.cards()[0].status == "succeeded", what="card")
        card = screen.thread.cards()[0]
        generation = app.studio.get_generation(card.generation_id)
        card.focus()
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), what="receipt")
        await wait_until(pilot, lambda: "seed" in screen_text(app), what="rows painted")
        shown = region_text(app, app.screen.query_one(".dialog").content_region)
        lines = [line.strip() for line in shown.splitlines()]
        # one row per fact, label then value: no JSON braces or quoted keys
        rows = {line.split()[0]: line.split()[-1] for line in lines if len(line.split()) == 2}
        assert rows["model"] == "layout" and rows["seed"] == "1234", shown
        assert rows["cost"] == "free" and rows["version"] == generation.model_version
        assert rows["size"] == f"{generation.assets[0].width}x{generation.assets[0].height}"
        assert "checks" in shown and "✓ blank" in shown
        assert '"seed"' not in shown and "{" not in shown
        assert "r raw JSON" in shown
        await pilot.press("r")
        await wait_until(pilot, lambda: '"seed": 1234' in screen_text(app), what="raw JSON")
        assert json.loads(app.screen.text)["receipt"]["request"]["seed"] == 1234
        await pilot.press("r")
        await wait_until(pilot, lambda: '"seed": 1234' not in screen_text(app), what="rows")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="closed")
