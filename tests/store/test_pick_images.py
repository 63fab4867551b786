"""Picks address images (migration 0004): which image of each compared generation won.

Picks written before the migration (first images, both new columns NULL) read as before, and
survive a downgrade and upgrade; a pick of first images is stored exactly as before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from chatimg.errors import InvalidRequestError
from chatimg.spec import GenerationSpec
from chatimg.store.database import Database
from chatimg.store.repository import Repository

BEFORE = "0003_generation_owner_and_checks"
CONV, MSG = "01J0000000000000000000CONV", "01J00000000000000000000MSG"
GEN_A, GEN_B = "01J000000000000000000GENA0", "01J000000000000000000GENB0"


def _old_rows(database: Database) -> None:
    """A conversation with two generations and a pick, written at revision 0003."""
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with database.engine.begin() as c:
        c.execute(sa.text("INSERT INTO conversation (id, title, default_model, created_at, "
                          "updated_at) VALUES (:id, 'old', 'layout', :t, :t)"),
                  {"id": CONV, "t": now})
        c.execute(sa.text("INSERT INTO message (id, conversation_id, parent_id, role, text, model, "
                          "params, created_at) VALUES (:id, :c, NULL, 'user', 'x', 'layout', "
                          "'{}', :t)"), {"id": MSG, "c": CONV, "t": now})
        for gen in (GEN_A, GEN_B):
            c.execute(sa.text("INSERT INTO generation (id, message_id, requested_model, params, "
                              "status, queued_at, cost_estimated, receipt) VALUES (:id, :m, "
                              "'layout', '{}', 'succeeded', :t, :e, '{}')"),
                      {"id": gen, "m": MSG, "t": now, "e": True})
        c.execute(sa.text("INSERT INTO pick (id, conversation_id, generation_ids, winner_id, "
                          "picked_by, created_at) VALUES ('01J0000000000000000000PICK', :c, "
                          ":ids, :w, 'me', :t)"),
                  {"c": CONV, "ids": json.dumps([GEN_A, GEN_B]), "w": GEN_B, "t": now})


def test_picks_written_before_read_as_first_images_and_survive(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade(BEFORE)
    _old_rows(database)
    database.upgrade("head")
    repo = Repository(database, Path("/unused"))
    (old,) = repo.load_thread(CONV).picks
    assert (old.generation_ids, old.winner_id, old.picked_by) == ((GEN_A, GEN_B), GEN_B, "me")
    assert (old.winner_image, old.images) == (0, ())
    # a pick of image 3 of A against image 1 of B, after the upgrade
    new = repo.add_pick(CONV, [GEN_A, GEN_B], GEN_A, "me", winner_image=2, images=[2, 0])
    again = {pick.id: pick for pick in repo.load_thread(CONV).picks}[new.id]
    assert (again.winner_id, again.winner_image, again.images) == (GEN_A, 2, (2, 0))
    # first images only: stored as the rows before the migration were (NULLs)
    first = repo.add_pick(CONV, [GEN_A, GEN_B], GEN_A, images=[0, 0])
    with database.engine.connect() as c:
        stored = c.execute(sa.text("SELECT winner_image, images FROM pick WHERE id = :id"),
                           {"id": first.id}).one()
    assert tuple(stored) == (None, None)
    database.downgrade(BEFORE)  # the old schema keeps every pick (without the image columns)
    with database.engine.connect() as c:
        count = c.execute(sa.text("SELECT count(*) FROM pick")).scalar_one()
    assert count == 3
    database.upgrade("head")
    assert len(repo.load_thread(CONV).picks) == 3
    database.dispose()


async def test_studio_checks_the_winner_is_a_compared_image(home: Path) -> None:
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        outcome = await studio.generate('"TWO"', ["layout"],
                                        GenerationSpec.build(seed=1, count=2, width=64,
                                                             height=64), validate=False)
        (generation,) = outcome.generations
        gid = generation.id
        pick = studio.add_pick([gid, gid], gid, winner_image=1, images=[0, 1])
        assert (pick.winner_image, pick.images) == (1, (0, 1))
        with pytest.raises(InvalidRequestError, match="one of the compared images"):
            studio.add_pick([gid, gid], gid, winner_image=3, images=[0, 1])
        with pytest.raises(InvalidRequestError, match="one image index per"):
            studio.add_pick([gid, gid], gid, images=[0])
        thread = studio.load_thread(outcome.message.conversation_id)
        assert [(p.winner_image, p.images) for p in thread.picks] == [(1, (0, 1))]
    finally:
        studio.close()
