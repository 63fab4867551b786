"""The composer's prompt history comes from the stored messages, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatimg.config import load_settings
from chatimg.studio import Studio


@pytest.fixture
def any_studio(database_url: str) -> Iterator[Studio]:
    studio = Studio.open(load_settings(database_url=database_url))
    yield studio
    studio.close()


def test_recent_prompts_newest_first_once_each_across_conversations(any_studio: Studio) -> None:
    posters = any_studio.create_conversation("posters")
    logos = any_studio.create_conversation("logos")
    any_studio.add_message(posters.id, "red fox poster")
    any_studio.add_message(logos.id, "a cat logo")
    any_studio.add_message(posters.id, "red fox poster")  # sent again: listed once, as newest
    any_studio.add_message(logos.id, "a note, not a prompt", role="note")
    any_studio.add_message(logos.id, "   ")
    any_studio.add_message(posters.id, "blue whale\nposter")
    assert any_studio.recent_prompts() == ["blue whale\nposter", "red fox poster", "a cat logo"]
    assert any_studio.recent_prompts(limit=2) == ["blue whale\nposter", "red fox poster"]
    any_studio.delete_conversation(posters.id)
    assert any_studio.recent_prompts() == ["a cat logo"]
