"""The footer's key hints follow the focus, and are rebuilt only when what they show changes."""

from __future__ import annotations

from typing import Any

from tests.seeded import seed_layout_thread
from tests.tui.conftest import SIZE, ready, wait_until
from tests.tui.screen_text import screen_lines


def _hints(app: Any) -> str:
    return screen_lines(app)[-1]


async def test_moving_between_cards_keeps_the_hints_and_leaving_them_changes_them(
        make_app: Any) -> None:
    from textual.widgets._footer import FooterKey

    seed_layout_thread(6)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: "Quit" in _hints(app), what="the key hints")
        assert "Regenerate" not in _hints(app)  # the composer has the focus

        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: "Regenerate" in _hints(app), what="the card's hints")
        on_card = _hints(app)
        # (the layout engine makes no variations: its cards do not offer "Vary")
        assert "receipt" in on_card and "Vary" not in on_card
        keys = set(screen.query(FooterKey))
        first = app.focused

        for key in ("up", "up", "up", "down"):
            before = app.focused

            def moved(before: Any = before) -> bool:
                return app.focused is not before

            await pilot.press(key)
            await wait_until(pilot, moved, what=f"focus to move on {key}")
            await pilot.pause()
            assert _hints(app) == on_card
        assert app.focused is not first
        # the same hints: the very same widgets, not rebuilt on each move
        assert set(screen.query(FooterKey)) == keys

        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: "Regenerate" not in _hints(app),
                         what="the composer's hints")
        assert "Quit" in _hints(app)


async def test_a_cards_first_focus_shows_only_its_offered_hints(make_app: Any) -> None:
    """The hints of a card are those its model allows from the first frame they show in: not
    the card's defaults for a frame (an action its model cannot run) and then the offer."""
    from textual.widgets._footer import Footer

    seed_layout_thread(4)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: "Quit" in _hints(app), what="the key hints")
        footer = screen.query_one(Footer)
        builds: list[str] = []
        compose = footer.compose

        def watched() -> Any:
            built = list(compose())
            builds.append(" ".join(str(getattr(key, "description", "")) for key in built))
            return built

        footer.compose = watched  # type: ignore[method-assign]
        for key in ("ctrl+up", "up", "up"):
            await pilot.press(key)
            await wait_until(pilot, lambda: "Regenerate" in _hints(app), what="a card's hints")
            await pilot.pause()
        assert builds and all("Vary" not in build for build in builds), builds
        assert len(builds) == 1, builds  # once for the cards, not once per card
