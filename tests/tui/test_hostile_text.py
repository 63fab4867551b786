"""The app shows hostile prompts and titles escaped, and marks an image whose file is damaged."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from tests.tui.conftest import SIZE, ready, wait_until

PROMPT = 'clear\x1b[2J title\x1b]0;pwned\x07 sign that says "OK" \u202eevil'
TITLE = "ring\x07 \x1b[31mred \u202egnp.exe"


def _raw(text: str) -> list[str]:
    return [c for c in text if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")]


async def _seed() -> tuple[str, Path]:
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        outcome = await studio.generate(PROMPT, ["layout"], title=TITLE, validate=False)
        studio.repo.update_generation(outcome.generations[0].id, route_reason="via \x1b[5mblink")
        path = Path(outcome.generations[0].assets[0].path)
    finally:
        studio.close()
    return outcome.message.conversation_id, path


async def test_app_escapes_hostile_text_and_marks_a_damaged_image(make_app: Any) -> None:
    from textual.widgets import OptionList, Static

    from chatimg.tui.widgets.card import GenerationCard

    conversation_id, image = await _seed()
    image.write_bytes(image.read_bytes()[:-10])  # truncated on disk
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        if screen.conversation_id != conversation_id:
            await pilot.press("ctrl+l", "enter", "enter")
            await wait_until(pilot, lambda: screen.thread_loaded
                             and screen.conversation_id == conversation_id, what="opened")
        await wait_until(pilot, lambda: bool(list(screen.query(GenerationCard))), what="card")
        label = screen.sidebar.query_one(OptionList).get_option_at_index(0).prompt
        # The escaped title is cut to fit the sidebar beside its count and time.
        assert str(label).startswith("ring\\x07 \\x1b[31mred") and _raw(str(label)) == []
        prompt = str(screen.thread.query_one(".prompt").render())
        assert "clear\\x1b[2J" in prompt
        texts = [str(widget.render()) for widget in screen.query(Static)]
        assert all(_raw(text) == [] for text in texts)
        detail = "\n".join(texts)
        assert "image 1 damaged" in detail and "via \\x1b[5mblink" in detail
