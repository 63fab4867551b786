"""Branching a thread (any backend): order, branches, receipts, images and picks come along,
with new ids; visibility takes only the two values."""

from __future__ import annotations

import pytest

from chatimg.errors import InvalidRequestError, NotFoundError
from chatimg.studio import Studio


async def test_branch_copies_thread_picks_and_cuts_at_a_message(studio: Studio) -> None:
    first = await studio.generate('a "ONE" sign', ["layout"], validate=False)
    conversation_id = first.message.conversation_id
    second = await studio.generate('a "TWO" sign', ["layout"], conversation_id=conversation_id,
                                   parent_id=first.message.id, validate=False)
    pending = studio.repo.create_generation(second.message.id, "layout", {})
    compared = [first.generations[0].id, second.generations[0].id]
    studio.add_pick(compared, compared[1])

    copy = studio.branch_conversation(conversation_id)
    thread = studio.load_thread(copy.id)
    source = studio.load_thread(conversation_id)
    assert [m.text for m in thread.messages] == [m.text for m in source.messages]
    assert not {m.id for m in thread.messages} & {m.id for m in source.messages}
    assert thread.messages[1].parent_id == thread.messages[0].id
    statuses = [g.status for g in thread.messages[1].generations]
    assert statuses == ["succeeded", "interrupted"]  # nobody runs the copy of a queued one
    assert pending.id not in {g.id for g in thread.messages[1].generations}
    (pick,) = thread.picks
    copied = [thread.messages[0].generations[0].id, thread.messages[1].generations[0].id]
    assert list(pick.generation_ids) == copied and pick.winner_id == copied[1]
    assert thread.messages[0].generations[0].assets[0].sha256 == \
        first.generations[0].assets[0].sha256

    cut = studio.load_thread(studio.branch_conversation(conversation_id, first.message.id,
                                                        title="only the first").id)
    assert [m.text for m in cut.messages] == ['a "ONE" sign'] and cut.picks == ()
    assert cut.conversation.title == "only the first"
    with pytest.raises(NotFoundError):
        studio.branch_conversation(conversation_id, "no-such-message")
    with pytest.raises(NotFoundError):
        studio.branch_conversation("no-such-conversation")


def test_visibility_takes_private_or_team(studio: Studio) -> None:
    conversation = studio.create_conversation("mine")
    assert conversation.visibility == "private" and conversation.owner is None
    assert studio.toggle_visibility(conversation.id).visibility == "team"
    assert studio.toggle_visibility(conversation.id).visibility == "private"
    with pytest.raises(InvalidRequestError):
        studio.set_visibility(conversation.id, "public")
    with pytest.raises(NotFoundError):
        studio.set_visibility("nope", "team")
