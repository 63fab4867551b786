"""Row-level security on a real PostgreSQL server, through the Studio and in raw SQL.

Alice and Bob are editors, Carol a viewer. Whatever Bob's client does, the database itself
keeps Alice's private conversation from him and her rows from his writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from chatimg.errors import NotFoundError, NotPermittedError
from chatimg.spec import GenerationSpec
from tests.teamdb import Team

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("team")]


def _raw(team: Team, person: str) -> psycopg.Connection[Any]:
    url = make_url(team.url(person)).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


async def _alice_writes(team: Team, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    studio = team.studio(monkeypatch, "alice")
    try:
        shared = await studio.generate('a poster that says "TEAM"', ["layout"],
                                       title="shared", validate=False)
        secret = await studio.generate('a note that says "SECRET"', ["layout"],
                                       GenerationSpec.build(seed=7), title="secret",
                                       validate=False)
        studio.set_visibility(shared.message.conversation_id, "team")
    finally:
        studio.close()
    return {"shared": shared.message.conversation_id, "shared_message": shared.message.id,
            "secret": secret.message.conversation_id, "secret_message": secret.message.id,
            "shared_generation": shared.generations[0].id,
            "secret_image": secret.generations[0].assets[0].sha256}


async def test_bob_reads_shared_not_private(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _alice_writes(team, monkeypatch)
    bob = team.studio(monkeypatch, "bob")
    try:
        listed = {c.id: c for c in bob.list_conversations()}
        assert set(listed) == {ids["shared"]}
        assert listed[ids["shared"]].owner == team.names["alice"]
        assert listed[ids["shared"]].visibility == "team"
        thread = bob.load_thread(ids["shared"])
        message = thread.messages[0]
        assert message.author == team.names["alice"]
        generation = message.generations[0]
        assert generation.author == team.names["alice"] and generation.status == "succeeded"
        assert Path(generation.assets[0].path).is_file()  # the image, through the shared store
        with pytest.raises(NotFoundError):
            bob.load_thread(ids["secret"])
        with pytest.raises(NotFoundError):
            bob.resolve_id("conversation", ids["secret"][:10])
        assert bob.search("SECRET") == []
        assert [hit.conversation_id for hit in bob.search("TEAM")] == [ids["shared"]]
    finally:
        bob.close()


async def test_raw_sql_as_bob_sees_and_changes_nothing_of_alices(
        team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _alice_writes(team, monkeypatch)
    with _raw(team, "bob") as bob:
        assert bob.execute("SELECT id FROM conversation").fetchall() == [(ids["shared"],)]
        for table, column in (("message", "conversation_id"), ("pick", "conversation_id")):
            count = bob.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s",
                                (ids["secret"],)).fetchone()
            assert count == (0,)
        hidden = bob.execute(
            "SELECT count(*) FROM generation g JOIN message m ON m.id = g.message_id "
            "WHERE m.id = %s", (ids["secret_message"],)).fetchone()
        assert hidden == (0,)
        # Bob can read Alice's shared message but changes to it touch no row.
        for statement in ("UPDATE message SET text = 'bob was here' WHERE id = %s",
                          "DELETE FROM message WHERE id = %s"):
            assert bob.execute(statement, (ids["shared_message"],)).rowcount == 0
        for statement in ("UPDATE conversation SET visibility = 'team' WHERE id = %s",
                          "UPDATE conversation SET owner = current_user WHERE id = %s",
                          "DELETE FROM conversation WHERE id = %s"):
            assert bob.execute(statement, (ids["secret"],)).rowcount == 0
            assert bob.execute(statement, (ids["shared"],)).rowcount == 0
        assert bob.execute("UPDATE generation SET status = 'failed' WHERE id = %s",
                           (ids["shared_generation"],)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("INSERT INTO message (id, conversation_id, role, text, params, "
                        "created_at) VALUES ('01BOBWASHERE0000000000000A', %s, 'user', 'x', "
                        "'{}', now())", (ids["shared"],))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # posing as Alice
            bob.execute("INSERT INTO conversation (id, title, created_at, updated_at, owner) "
                        "VALUES ('01BOBWASHERE0000000000000B', 'x', now(), now(), %s)",
                        (team.names["alice"],))
    with _raw(team, "alice") as alice:
        assert alice.execute("SELECT text FROM message WHERE id = %s",
                             (ids["shared_message"],)).fetchone() == ('a poster that says "TEAM"',)
        assert alice.execute("SELECT visibility FROM conversation WHERE id = %s",
                             (ids["secret"],)).fetchone() == ("private",)
        statuses = alice.execute("SELECT status FROM generation").fetchall()
        assert statuses == [("succeeded",), ("succeeded",)]


async def test_bob_branches_alices_thread_into_his_own(
        team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _alice_writes(team, monkeypatch)
    bob = team.studio(monkeypatch, "bob")
    try:
        with pytest.raises(NotPermittedError, match="branch"):
            await bob.generate("bob adds to alice's thread", ["layout"],
                               conversation_id=ids["shared"], validate=False)
        with pytest.raises(NotPermittedError):
            bob.set_visibility(ids["shared"], "private")
        copy = bob.branch_conversation(ids["shared"], title="bob's take")
        assert copy.owner == team.names["bob"] and copy.visibility == "private"
        thread = bob.load_thread(copy.id)
        original = bob.load_thread(ids["shared"])
        assert [m.text for m in thread.messages] == [m.text for m in original.messages]
        copied = thread.messages[0].generations[0]
        assert copied.author == team.names["bob"]
        assert copied.assets[0].sha256 == original.messages[0].generations[0].assets[0].sha256
        outcome = await bob.generate("and now a second one", ["layout"],
                                     conversation_id=copy.id, validate=False)
        assert outcome.generations[0].status == "succeeded"
    finally:
        bob.close()
    alice = team.studio(monkeypatch, "alice")
    try:
        assert {c.id for c in alice.list_conversations()} == {ids["shared"], ids["secret"]}
        assert len(alice.load_thread(ids["shared"]).messages) == 1
    finally:
        alice.close()


async def test_bob_makes_the_same_image_as_alices_private_one(
        team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _alice_writes(team, monkeypatch)
    bob = team.studio(monkeypatch, "bob")
    try:  # one stored image (content-addressed), each person sees it through their own thread
        outcome = await bob.generate('a note that says "SECRET"', ["layout"],
                                     GenerationSpec.build(seed=7), validate=False)
        (image,) = bob.load_thread(outcome.message.conversation_id).messages[0] \
            .generations[0].assets
        assert image.sha256 == ids["secret_image"] and Path(image.path).is_file()
    finally:
        bob.close()
    with _raw(team, "bob") as raw:
        owners = raw.execute("SELECT author FROM asset WHERE sha256 = %s",
                             (ids["secret_image"],)).fetchall()
    assert owners == [(team.names["alice"],)]  # stored once, first by alice


async def test_a_viewer_reads_but_cannot_write(team: Team,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _alice_writes(team, monkeypatch)
    carol = team.studio(monkeypatch, "carol")
    try:
        assert [c.id for c in carol.list_conversations()] == [ids["shared"]]
        with pytest.raises(NotPermittedError):
            carol.create_conversation("mine")
        with pytest.raises(NotPermittedError):
            carol.branch_conversation(ids["shared"])
    finally:
        carol.close()


async def test_making_it_private_again_hides_it(team: Team,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _alice_writes(team, monkeypatch)
    alice = team.studio(monkeypatch, "alice")
    try:
        assert alice.toggle_visibility(ids["shared"]).visibility == "private"
    finally:
        alice.close()
    with _raw(team, "bob") as bob:
        assert bob.execute("SELECT count(*) FROM conversation").fetchone() == (0,)
        assert bob.execute("SELECT count(*) FROM generation_asset").fetchone() == (0,)
        assert bob.execute("SELECT count(*) FROM asset").fetchone() == (0,)
