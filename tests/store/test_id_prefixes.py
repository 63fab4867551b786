"""Ids by unique prefix, as git does: one lookup in the repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chatimg.config import load_settings
from chatimg.errors import InvalidRequestError, NotFoundError
from chatimg.studio import Studio

FIRST = "01HZZAAAAA0000000000000001"
SECOND = "01HZZAAAAA0000000000000002"
THIRD = "01HZZBBBBB0000000000000003"


@pytest.fixture
def any_studio(database_url: str) -> Iterator[Studio]:
    studio = Studio.open(load_settings(database_url=database_url))
    for conversation_id in (FIRST, SECOND, THIRD):
        studio.repo.create_conversation(f"c-{conversation_id[-1]}", id=conversation_id)
    yield studio
    studio.close()


def test_full_id_and_unique_prefix_in_any_case(any_studio: Studio) -> None:
    assert any_studio.resolve_id("conversation", FIRST) == FIRST
    assert any_studio.resolve_id("conversation", "01HZZB") == THIRD
    assert any_studio.resolve_id("conversation", "01hzzb") == THIRD
    assert any_studio.resolve_id("conversation", " 01HZZAAAAA0000000000000002 ") == SECOND


def test_ambiguous_prefix_names_the_candidates_on_one_line(any_studio: Studio) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        any_studio.resolve_id("conversation", "01HZZA")
    line = raised.value.one_line()
    assert line == (f"conversation id prefix '01HZZA' is ambiguous: {FIRST}, {SECOND} "
                    "(type more characters)")


def test_unknown_prefix_and_wildcards_match_nothing(any_studio: Studio) -> None:
    for text in ("7", "01HZZ_AAAA", "01HZZ%"):
        with pytest.raises(NotFoundError) as raised:
            any_studio.resolve_id("conversation", text)
        assert raised.value.one_line() == (
            f"no conversation with id {text!r} (list them with: chatimg ls)")
    with pytest.raises(InvalidRequestError):
        any_studio.resolve_id("conversation", "   ")


def test_generation_and_message_prefixes(any_studio: Studio) -> None:
    outcome = asyncio.run(any_studio.generate('a sign that says "A"', ["layout"],
                                              conversation_id=THIRD, validate=False))
    (generation,) = outcome.generations
    assert any_studio.resolve_id("generation", generation.id[:22].lower()) == generation.id
    assert any_studio.resolve_id("message", outcome.message.id[:22]) == outcome.message.id
    with pytest.raises(NotFoundError):  # a conversation id is not a generation id
        any_studio.resolve_id("generation", THIRD)
