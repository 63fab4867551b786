"""Card keys and card-bound slash commands are single Studio calls: vary and edit on the tiny
diffusers pipeline land in the thread as replies to their source; /describe asks the model
through Studio (a fake Ideogram server speaking its wire format)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.remote.fakeserver import FakeServer, Reply
from tests.tiny_diffusers import write_tiny_model_config
from tests.tui.conftest import SIZE, ready, type_and_send, wait_until


def _settled(screen: Any, count: int) -> bool:
    cards = screen.thread.cards()
    return (len(cards) == count and screen.running == 0
            and all(card.status not in ("queued", "running") for card in cards))


async def test_vary_key_and_edit_command_on_tiny_diffusers(
        make_app: Any, config_file: Path, tiny_sd_path: Path, tmp_path: Path) -> None:
    write_tiny_model_config(config_file, tiny_sd_path, name="tiny", steps=2, width=64,
                            height=64)
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, "/model tiny")
        await type_and_send(pilot, "a tiny robot")
        await wait_until(pilot, lambda: _settled(screen, 1), timeout=90, what="first image")
        first = screen.thread.cards()[0]
        assert first.status == "succeeded", first.generation.error
        first.focus()
        await pilot.press("v")
        await wait_until(pilot, lambda: _settled(screen, 2), timeout=90, what="variation")
        await type_and_send(pilot, f"/edit {mask}")  # the selected card: still the first
        await wait_until(pilot, lambda: _settled(screen, 3), timeout=90, what="edit")
        thread = app.studio.load_thread(screen.conversation_id)
        source, varied, edited = (m.generations[0] for m in thread.messages)
        assert [g.status for g in (varied, edited)] == ["succeeded", "succeeded"]
        assert varied.params["source_asset"] == edited.params["source_asset"] \
            == source.assets[0].sha256
        assert "mask_asset" in edited.params and "mask_asset" not in varied.params
        assert [m.parent_id for m in thread.messages] == [None, thread.messages[0].id,
                                                          thread.messages[0].id]
        assert [m.text for m in thread.messages] == ["a tiny robot"] * 3


@pytest.fixture
def ideogram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    server = FakeServer().start()
    monkeypatch.setenv("IDEOGRAM_API_KEY", "test-key")
    monkeypatch.setenv("IDEOGRAM_BASE_URL", server.url)
    yield server
    server.stop()


async def test_describe_goes_through_studio(make_app: Any, ideogram: FakeServer) -> None:
    ideogram.route("POST", "/describe", Reply(200, {"descriptions": [{"text": "A red tower."}]}))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, '"TOWER"')
        await wait_until(pilot, lambda: _settled(screen, 1), what="layout image")
        card = screen.thread.cards()[0]
        await type_and_send(pilot, "/describe")  # layout cannot: Studio says which model can
        await wait_until(pilot, lambda: "e.g. ideogram-v2" in screen.composer.hint_text,
                         what="capability error with Studio's hint")
        assert not ideogram.hits("POST", "/describe")
        await type_and_send(pilot, "/model ideogram-v2")
        await type_and_send(pilot, "/describe")
        await wait_until(pilot, lambda: screen.composer.prompt.text == "A red tower.",
                         what="description in the composer")
        assert "description from ideogram-v2" in screen.composer.hint_text
        (sent,) = ideogram.hits("POST", "/describe")
        stored = app.studio.get_generation(card.generation_id).assets[0]
        assert sent.form()["image_file"].data == Path(stored.path).read_bytes()


async def test_fixtext_command_rewrites_the_selected_cards_text(make_app: Any) -> None:
    from tests.typeset.test_repair import _store_misspelled_generation

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        source_id, message_id, _ = _store_misspelled_generation(app.studio)
        screen.open_conversation(app.studio.repo.conversation_of_generation(source_id))
        await wait_until(pilot, lambda: screen.thread_loaded and _settled(screen, 1),
                         what="the misspelled poster")
        await type_and_send(pilot, "/fixtext")
        await wait_until(pilot, lambda: _settled(screen, 2), timeout=90, what="repaired card")
        repaired = screen.thread.cards()[1]
        assert repaired.status == "succeeded", repaired.generation.error
        thread = app.studio.load_thread(screen.conversation_id)
        answer = thread.messages[1]
        assert answer.parent_id == message_id and answer.params["fixtext_of"] == source_id
        (generation,) = answer.generations
        assert generation.resolved_model == "fixtext"
        assert generation.route_reason.endswith("'SALF' -> 'SALE'")  # (TUI tests skip OCR checks)
        await type_and_send(pilot, "/fixtext")  # the newest card already reads right
        await wait_until(pilot, lambda: any("nothing to repair" in str(n.message)
                                            for n in app._notifications),
                         timeout=90, what="one-line refusal")
        assert len(screen.thread.cards()) == 2
