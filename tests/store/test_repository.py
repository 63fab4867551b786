"""The store on SQLite and PostgreSQL: conversations, messages, generations, search."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from chatimg.config import load_settings
from chatimg.errors import NotFoundError
from chatimg.studio import Studio


@pytest.fixture
def any_studio(database_url: str) -> Iterator[Studio]:
    studio = Studio.open(load_settings(database_url=database_url))
    yield studio
    studio.close()


def test_conversation_lifecycle(any_studio: Studio) -> None:
    first = any_studio.create_conversation("first")
    second = any_studio.create_conversation("second")
    any_studio.add_message(first.id, "hello there")  # activity moves "first" to the top
    listed = any_studio.list_conversations()
    assert [c.id for c in listed] == [first.id, second.id]
    assert listed[0].message_count == 1
    any_studio.rename_conversation(second.id, "  renamed   twice ")
    assert any_studio.get_conversation(second.id).title == "renamed twice"
    any_studio.delete_conversation(first.id)
    assert [c.id for c in any_studio.list_conversations()] == [second.id]
    with pytest.raises(NotFoundError):
        any_studio.load_thread(first.id)


def test_branches_and_generations_round_trip(any_studio: Studio) -> None:
    outcome = asyncio.run(any_studio.generate('a badge that says "ONE"', ["layout"],
                                              conversation_id=None, title="t"))
    root = outcome.message
    branch = any_studio.add_message(root.conversation_id, "try again", parent_id=root.id)
    thread = any_studio.load_thread(root.conversation_id)
    assert [m.id for m in thread.messages] == [root.id, branch.id]
    assert thread.messages[1].parent_id == root.id
    generation = thread.messages[0].generations[0]
    assert generation.status == "succeeded"
    assert generation.receipt_data["request"]["prompt"] == 'a badge that says "ONE"'
    assert generation.assets[0].seed == generation.params["seed"]


def test_a_long_thread_loads_a_window_at_a_time(any_studio: Studio) -> None:
    from datetime import timedelta

    from chatimg import domain
    from chatimg.store.tables import utcnow

    conversation = any_studio.create_conversation("long")
    start = utcnow()
    messages: list[domain.Message] = []
    for index in range(25):
        # two messages share each timestamp: windows must split ties by id, not lose them
        messages.append(any_studio.repo.add_message(
            conversation.id, f"message {index}", parent_id=messages[1].id if index == 20 else None,
            created_at=start + timedelta(seconds=index // 2)))
    whole = any_studio.load_thread(conversation.id)
    order = [m.id for m in whole.messages]
    assert whole.earlier == 0 and len(order) == 25

    newest = any_studio.load_thread(conversation.id, last=10)
    assert [m.id for m in newest.messages] == order[-10:]
    assert newest.earlier == 15
    assert newest.conversation.message_count == 25
    # message 20 branches from message 1, which this window does not hold
    assert newest.parents == {messages[1].id: (order.index(messages[1].id) + 1, "message 1")}

    before = any_studio.load_thread(conversation.id, last=10, before=order[-10])
    assert [m.id for m in before.messages] == order[5:15]
    assert before.earlier == 5
    rest = any_studio.load_thread(conversation.id, last=10, before=order[5])
    assert [m.id for m in rest.messages] == order[:5]
    assert rest.earlier == 0
    with pytest.raises(NotFoundError):
        any_studio.load_thread(conversation.id, last=10, before="no-such-message")


def test_search_finds_a_word_among_ten_thousand_messages(any_studio: Studio) -> None:
    conversations = [any_studio.create_conversation(f"batch {i}") for i in range(20)]
    rows = []
    from chatimg.ids import new_id
    from chatimg.store.tables import MessageRow, utcnow

    words = ["castle", "forest", "ocean", "portrait", "poster", "neon", "city", "river"]
    for index in range(10_000):
        text = f"{words[index % 8]} {words[(index // 8) % 8]} number {index}"
        rows.append(MessageRow(id=new_id(), conversation_id=conversations[index % 20].id,
                               text=text, role="user", params={}, created_at=utcnow()))
    with any_studio.db.write() as session:
        session.add_all(rows)
    needle = any_studio.add_message(conversations[3].id, "a zeppelin over the harbour at dawn")
    started = time.perf_counter()
    hits = any_studio.search("zeppelin")
    assert time.perf_counter() - started < 2
    assert [hit.message_id for hit in hits] == [needle.id]
    assert hits[0].conversation_id == conversations[3].id
    # prefix of the last word, several words, case-insensitive
    assert needle.id in {hit.message_id for hit in any_studio.search("HARBOUR zepp")}
    assert any_studio.search("zeppelin castle") == []
    # the sidebar filter: titles and prompts
    assert [c.id for c in any_studio.list_conversations(query="zeppelin")] == [conversations[3].id]
    assert conversations[7].id in [c.id for c in any_studio.list_conversations(query="batch 7")]
    # deleting the conversation removes its messages from the index
    any_studio.delete_conversation(conversations[3].id)
    assert any_studio.search("zeppelin") == []


def test_search_handles_punctuation_and_quotes(any_studio: Studio) -> None:
    conversation = any_studio.create_conversation("q")
    message = any_studio.add_message(conversation.id, 'poster that says "SUMMER SALE" -- 50% off!')
    for query in ('"summer', "sale)", "50%", "summer-sale", "OFF!", 'says "s'):
        assert message.id in {hit.message_id for hit in any_studio.search(query)}, query
    for query in ("*", '"', "OR", "NEAR(", "-- --"):
        assert message.id not in {hit.message_id for hit in any_studio.search(query)}, query


def test_interrupted_generations_are_marked_on_start(database_url: str) -> None:
    settings = load_settings(database_url=database_url)
    studio = Studio.open(settings)
    conversation = studio.create_conversation("crash")
    message = studio.add_message(conversation.id, "never finished")
    generation = studio.repo.create_generation(message.id, "layout", {})
    live = studio.repo.create_generation(message.id, "layout", {})
    studio.repo.update_generation(generation.id, status="running", owner_pid=_dead_pid())
    studio.repo.update_generation(live.id, status="running")  # owned by this (live) process
    studio.close()
    reopened = Studio.open(settings)
    assert reopened.get_generation(generation.id).status == "interrupted"
    assert reopened.get_generation(live.id).status == "running"
    reopened.close()


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    return child.pid


def test_deleting_one_generation_keeps_the_rest(any_studio: Studio) -> None:
    outcome = asyncio.run(any_studio.generate('"A"', ["layout", "layout"]))
    first, second = outcome.generations
    any_studio.add_pick([first.id, second.id], first.id)
    any_studio.delete_generation(first.id)
    thread = any_studio.load_thread(outcome.message.conversation_id)
    assert [g.id for g in thread.messages[0].generations] == [second.id]
    assert thread.picks == ()  # the pick's winner is gone
    assert any_studio.get_generation(second.id).assets  # shared image rows stay intact
    with pytest.raises(NotFoundError):
        any_studio.delete_generation(first.id)
