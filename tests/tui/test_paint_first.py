"""The app paints before the store opens; what is typed meanwhile is sent once it is open."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, wait_until


@pytest.fixture
def gated_open(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``Studio.open`` blocks until the test sets the returned event (bounded: 60 s)."""
    from chatimg.studio import Studio

    gate = threading.Event()
    opened: list[Studio] = []
    original = Studio.open.__func__  # type: ignore[attr-defined]

    def blocking_open(cls: type[Studio], *args: Any, **kwargs: Any) -> Studio:
        if not gate.wait(60):
            raise AssertionError("the test never let the store open")
        studio: Studio = original(cls, *args, **kwargs)
        opened.append(studio)
        return studio

    monkeypatch.setattr(Studio, "open", classmethod(blocking_open))
    yield gate
    gate.set()
    for studio in opened:
        studio.close()


def _app() -> Any:
    from chatimg.tui.app import ChatImgApp, open_studio

    class Watched(ChatImgApp):
        painted = False

        def on_ready(self) -> None:
            self.painted = True

    return Watched(open_studio)


async def test_first_frame_and_typing_do_not_wait_for_the_store(gated_open: Any) -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.painted and app.main_screen.is_mounted,
                         what="first paint")
        screen = app.main_screen
        # the frame is up while the store is still blocked
        assert app.studio is None and not screen.ready
        assert screen.composer.prompt.has_focus
        assert screen.query_one("#conversations").loading
        screen.composer.prompt.load_text('a "WAIT" poster')
        await pilot.press("enter")
        assert screen.composer.prompt.text == ""  # taken, not lost
        assert "will be sent once it is open" in screen.composer.hint_text
        assert screen.queued == ['a "WAIT" poster']
        assert not screen.thread.cards()

        gated_open.set()
        await wait_until(pilot, lambda: screen.ready and bool(screen.thread.cards()),
                         timeout=60, what="the queued prompt sent")
        card = screen.thread.cards()[0]
        await wait_until(pilot, lambda: card.status == "succeeded", timeout=60,
                         what="the queued prompt's image")
        assert screen.queued == []
        assert app.studio is not None and screen.conversation_id is not None
        thread = app.studio.load_thread(screen.conversation_id)
        assert [m.text for m in thread.messages] == ['a "WAIT" poster']
        await wait_until(pilot, lambda: [c.id for c in screen.sidebar.conversations]
                         == [screen.conversation_id], what="the sidebar to list it")
        assert not screen.query_one("#conversations").loading


async def test_a_store_that_cannot_open_ends_the_app_with_its_error(config_file: Path) -> None:
    from chatimg.errors import ConfigError

    config_file.write_text("default_model = [\n", encoding="utf-8")
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.startup_error is not None, timeout=30,
                         what="the open to fail")
    assert isinstance(app.startup_error, ConfigError)
    assert app.return_code == 1


@pytest.mark.parametrize("checks", [["blank", "size", "typography"], ["blank", "size"]])
async def test_the_ocr_model_is_warmed_after_paint_only_when_typography_checks_run(
        config_file: Path, monkeypatch: pytest.MonkeyPatch, checks: list[str]) -> None:
    from chatimg.validate import ocr

    config_file.write_text(f"[validation]\nenabled = {checks!r}\n".replace("'", '"'),
                           encoding="utf-8")
    warmed: list[str] = []

    def loaded() -> bool:
        warmed.append(threading.current_thread().name)
        return True

    monkeypatch.setattr(ocr, "available", loaded)
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.painted and app.main_screen.ready, timeout=60,
                         what="the store")
        if "typography" in checks:
            await wait_until(pilot, lambda: bool(warmed), timeout=30, what="the warm-up")
            assert warmed[0] != threading.main_thread().name  # in a worker thread
        else:
            await pilot.pause()
            assert not [w for w in app.workers if w.name == "warm-ocr"]
            assert warmed == []


async def test_no_collection_runs_while_the_first_frame_is_built_and_it_is_back_on_after(
        gated_open: Any) -> None:
    """Start-up's objects live as long as the app: collecting while the first frame is built
    frees nothing and only delays it. Collection is on again once the frame is up, also
    while the store is still opening."""
    import gc

    app = _app()
    collections: list[tuple[str, bool]] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append((str(info["generation"]), app.painted))

    assert gc.isenabled()
    gc.callbacks.append(seen)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.painted, what="first paint")
            assert gc.isenabled() and app.studio is None
            for _ in range(5):  # (garbage made now is collected as usual)
                cycle: list[Any] = []
                cycle.append(cycle)
            gc.collect(0)
            assert any(painted for _, painted in collections)
            gated_open.set()
    finally:
        gc.callbacks.remove(seen)
    building = [generation for generation, painted in collections if not painted]
    assert building == [], building
    assert gc.isenabled()


async def test_an_app_that_stops_before_its_first_frame_leaves_collection_on(
        gated_open: Any) -> None:
    import gc

    from chatimg.tui.app import ChatImgApp, open_studio

    class Failing(ChatImgApp):
        def on_mount(self) -> None:
            raise RuntimeError("broken on start")

    gated_open.set()
    app = Failing(open_studio)
    with pytest.raises(RuntimeError, match="broken on start"):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
    assert gc.isenabled()


async def test_the_footer_row_is_there_from_the_first_frame_and_its_keys_come_in_it(
        gated_open: Any) -> None:
    """The key hints mount after the first paint, in a row kept for them: nothing above the
    footer moves, and the screen is not laid out and drawn again whole."""
    from textual.widgets import Footer

    from chatimg.tui.app import ChatImgApp, open_studio
    from tests.tui.screen_text import screen_lines

    moved: list[str] = []
    first: list[Any] = []

    class Watched(ChatImgApp):
        def on_ready(self) -> None:
            screen = self.main_screen
            first.append(screen.query_one("#body").region)  # as the first frame has it
            compositor = screen._compositor
            reflow = compositor.reflow

            def watched(*args: Any) -> Any:
                result = reflow(*args)
                moved.extend(type(widget).__name__ for widget in result.resized)
                return result

            compositor.reflow = watched  # type: ignore[method-assign,assignment]

    app = Watched(open_studio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(first), what="first paint")
        screen = app.main_screen
        assert first[0].bottom == SIZE[1] - 1  # the last row is the footer's
        await wait_until(pilot, lambda: bool(screen.query(Footer))
                         and "Quit" in screen_lines(app)[-1], what="the key hints")
        assert screen.query_one("#body").region == first[0]
        assert moved == []
        gated_open.set()  # (the store opens and the app quits as usual)


async def test_the_first_frame_rendered_is_the_one_written_and_shows_the_screen(
        gated_open: Any) -> None:
    """The main screen is the app's first screen: its first frame is rendered once Textual's
    start-up batch is over, so it goes to the terminal. (Pushed from the app's mount, it was
    rendered inside that batch, thrown away, and the whole screen rendered again for the
    frame written: a quarter of the time to the first frame on a pty.) The prompt has the
    focus in it: no second frame moves it there."""
    from textual._compositor import LayoutUpdate

    from chatimg.tui.app import ChatImgApp, open_studio

    frames: list[tuple[bool, str, list[str]]] = []
    focused: list[str | None] = []

    class Watched(ChatImgApp):
        def _display(self, screen: Any, renderable: Any) -> None:
            if renderable is not None and not frames:
                lines = (["".join(strip.text for strip in line) for line in renderable.strips]
                         if isinstance(renderable, LayoutUpdate) else [])
                # (a frame displayed inside a batch is dropped, not written)
                frames.append((self._batch_count == 0, type(screen).__name__, lines))
            super()._display(screen, renderable)

    app = Watched(open_studio)
    set_focus = app.main_screen.set_focus

    def watched_focus(widget: Any, *args: Any, **kwargs: Any) -> None:
        if widget is not None:
            focused.append(widget.id)
        set_focus(widget, *args, **kwargs)

    app.main_screen.set_focus = watched_focus  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(frames), what="a first frame")
        gated_open.set()  # (the store opens and the app quits as usual)
    written, screen_name, lines = frames[0]
    assert written, "the first frame rendered was dropped by a batch"
    assert screen_name == "MainScreen"
    assert len(lines) == SIZE[1]
    assert "filter conversations" in lines[0]
    assert any("Type a prompt" in line for line in lines)
    assert lines[-1].strip() == ""  # the footer's row, empty until the key hints come
    # the focus goes to the prompt first (not to the filter, first on the screen, and then
    # moved: in a terminal, a frame with the filter's cursor and a second frame)
    assert focused[0] == "prompt"
