"""Team mode and live updates in the app.

On PostgreSQL (two roles, one database; the asset folder shared): Bob's app shows Alice's
team-visible generation with its image and never her private conversation; when Alice adds a
message, Bob's open app shows it by itself (LISTEN/NOTIFY). On SQLite, another process's new
conversation and a second writer's new message appear without typing.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.teamdb import Team
from tests.tui.conftest import SIZE, images_loaded, ready, type_and_send, wait_until

#: Generous bounds for what another process or connection has to deliver (never asserted as
#: a duration: the app only has to get there).
LIVE_WAIT = 30.0


def _titles(screen: Any) -> list[str]:
    return [c.title for c in screen.sidebar.conversations]


def _blocks_saying(screen: Any, text: str) -> list[Any]:
    from chatimg.tui.widgets.message_block import MessageBlock

    return [b for b in screen.thread.query(MessageBlock) if b.text == text]


def _shows_image(card: Any) -> bool:
    from chatimg.tui.widgets.image import CardImage

    images = list(card.query(CardImage))
    return bool(images) and all(i.loaded and i._failed is None for i in images)


@pytest.mark.postgres
@pytest.mark.xdist_group("team")
async def test_bobs_app_shows_alices_team_work_and_hides_her_private_work(
        team: Team, make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.tui.widgets.card import GenerationCard

    alice = team.studio(monkeypatch, "alice")
    try:
        shared = await alice.generate('a poster that says "TEAM"', ["layout"], title="shared",
                                      validate=False)
        await alice.generate('a note that says "SECRET"', ["layout"], title="secret",
                             validate=False)
        alice.set_visibility(shared.message.conversation_id, "team")
    finally:
        alice.close()
    team.use(monkeypatch, "bob")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert _titles(screen) == ["shared"]
        screen.open_conversation(screen.sidebar.conversations[0].id)
        await wait_until(pilot, lambda: screen.thread_loaded and bool(screen.thread.cards()),
                         what="alice's card")
        card = screen.thread.query_one(GenerationCard)
        assert card.status == "succeeded"
        await wait_until(pilot, lambda: _shows_image(card), what="alice's image")
        prompt = str(screen.thread.query_one(".prompt").render())
        assert prompt.startswith(team.names["alice"]) and "TEAM" in prompt
        await pilot.press("f9")  # not his to share or hide
        await wait_until(pilot, lambda: any(team.names["alice"] in str(n.message)
                                            for n in app._notifications), what="refusal")
        await pilot.press("ctrl+n")
        await type_and_send(pilot, "bob's own idea")
        await wait_until(pilot, lambda: "bob's own idea" in _titles(screen), what="bob's own")
        mine = next(c for c in screen.sidebar.conversations if c.title == "bob's own idea")
        assert mine.owner == team.names["bob"] and mine.visibility == "private"
        await pilot.press("f9")
        await wait_until(pilot, lambda: app.studio.get_conversation(mine.id).visibility
                         == "team", what="shared with the team")


@pytest.mark.postgres
@pytest.mark.xdist_group("team")
async def test_bobs_open_app_shows_alices_new_message_by_itself(
        team: Team, make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.tui.widgets.card import GenerationCard

    alice = team.studio(monkeypatch, "alice")
    try:
        first = await alice.generate('a poster that says "ONE"', ["layout"], title="live",
                                     validate=False)
        conversation_id = first.message.conversation_id
        alice.set_visibility(conversation_id, "team")
        team.use(monkeypatch, "bob")
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            screen.open_conversation(conversation_id)
            await wait_until(pilot, lambda: screen.thread_loaded and len(screen.thread.cards())
                             == 1, what="the first card")
            assert app.main_screen.feed is not None
            await asyncio.to_thread(app.main_screen.feed.ready.wait, LIVE_WAIT)

            second = await alice.generate('a poster that says "TWO"', ["layout"],
                                          conversation_id=conversation_id, validate=False)
            text = 'a poster that says "TWO"'
            await wait_until(pilot, lambda: len(_blocks_saying(screen, text)) == 1,
                             timeout=LIVE_WAIT, what="alice's new message in bob's app")
            block = _blocks_saying(screen, text)[0]
            await wait_until(pilot, lambda: [c.generation_id for c in
                                             block.query(GenerationCard)]
                             == [second.generations[0].id], timeout=LIVE_WAIT,
                             what="its card")
            card = block.query_one(GenerationCard)
            await wait_until(pilot, lambda: card.status == "succeeded" and _shows_image(card),
                             timeout=LIVE_WAIT, what="its image")

            news = alice.create_conversation("news from alice", "layout")
            alice.set_visibility(news.id, "team")
            await wait_until(pilot, lambda: "news from alice" in _titles(screen),
                             timeout=LIVE_WAIT, what="alice's new conversation in the sidebar")
            assert screen.sidebar.query_text == ""
    finally:
        alice.close()


async def test_sqlite_app_picks_up_another_process_and_another_writer(
        make_app: Any, home: Path) -> None:
    from chatimg.studio import Studio

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_and_send(pilot, 'my own "HELLO"')
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 1 and screen.running == 0
                         and images_loaded(screen), what="my card")
        mine = screen.conversation_id
        assert screen.feed is not None
        await asyncio.to_thread(screen.feed.ready.wait, LIVE_WAIT)

        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from chatimg.cli import main; main()", "gen",
            'a "ELSEWHERE" poster', "-m", "layout", "--title", "from another process", "-q",
            env={**os.environ, "CHATIMG_HOME": str(home)},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, errors = await asyncio.wait_for(process.communicate(), timeout=300)
        assert process.returncode == 0, errors.decode()
        await wait_until(pilot, lambda: "from another process" in _titles(screen),
                         timeout=LIVE_WAIT, what="the other process's conversation")
        assert screen.sidebar.query_text == ""

        writer = Studio.open()
        try:
            await writer.generate("a second writer's prompt", ["layout"], conversation_id=mine,
                                  validate=False)
        finally:
            writer.close()
        await wait_until(pilot, lambda: len(_blocks_saying(screen, "a second writer's prompt"))
                         == 1, timeout=LIVE_WAIT, what="the second writer's message")
        await wait_until(pilot, lambda: len(screen.thread.cards()) == 2, timeout=LIVE_WAIT,
                         what="its card")
        assert len(_blocks_saying(screen, 'my own "HELLO"')) == 1
