"""Acceptance 4 of the one-spec redesign: a run moves forward. Per generation, the row is read
at most once after it is finished (SQL statements counted) and each image a provider sends is
decoded once before it is stored (the checks get the decoded pixels)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from chatimg.generation import GenerationEvent
from chatimg.spec import GenerationSpec
from tests.routing.test_routing import MODELS


async def test_a_finished_generation_is_not_read_back(make_studio: Any) -> None:
    studio = make_studio(MODELS)  # remote engines whose server sends PNG bytes
    statements: list[str] = []
    finished_at: dict[str, int] = {}

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(studio.db.engine, "before_cursor_execute", record)

    def on_event(event: GenerationEvent) -> None:
        if event.kind == "finished":
            finished_at[event.generation_id] = len(statements)

    outcome = await studio.generate('a sign that says "OPEN"', ["pricey", "painter"],
                                    GenerationSpec.build(count=1), on_event=on_event)
    sa.event.remove(studio.db.engine, "before_cursor_execute", record)
    assert [g.status for g in outcome.generations] == ["succeeded", "succeeded"]
    assert all(g.validations for g in outcome.generations)  # the checks ran and were stored
    reads = re.compile(r"^\s*SELECT\b.*\bFROM generation\b", re.IGNORECASE | re.DOTALL)
    for generation in outcome.generations:
        after = statements[finished_at[generation.id]:]
        rereads = [s for s in after if reads.search(s) and "generation_asset" not in s]
        assert len(rereads) <= 1, rereads


async def test_each_image_is_decoded_once_before_it_is_stored(
    make_studio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    studio = make_studio(MODELS)
    opened: list[int] = []
    real_open = Image.open

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    outcome = await studio.generate('a sign that says "OPEN"', ["pricey"])
    (generation,) = outcome.generations
    assert generation.status == "succeeded" and len(generation.assets) == 1
    assert {v.name for v in generation.validations} >= {"blank", "size"}
    assert len(opened) == 1
