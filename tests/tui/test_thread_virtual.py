"""A long thread builds only the cards on screen; the rest wait as slots until scrolled to."""

from __future__ import annotations

from typing import Any

from tests.seeded import seed_layout_thread
from tests.tui.conftest import SIZE, on_screen, ready, wait_until

GENERATIONS = 500


async def _open_and_settle(pilot: Any, screen: Any, conversation_id: str) -> None:
    """Open ``conversation_id`` and wait until its cards and the images on screen are drawn."""
    screen.open_conversation(conversation_id)
    await wait_until(pilot, lambda: screen.thread_loaded and bool(screen.thread.cards())
                     and _visible_images_drawn(screen), what="the thread")
    await pilot.pause()


async def _shown(pilot: Any) -> tuple[Any, Any]:
    """The main screen and its thread once the thread opened at start shows its cards."""
    screen = await ready(pilot)
    thread = screen.thread
    await wait_until(pilot, lambda: bool(thread.cards()), what="the visible cards")
    return screen, thread


def _visible_images_drawn(screen: Any) -> bool:
    from chatimg.tui.widgets.image import CardImage

    return all(image.loaded for image in screen.query(CardImage) if on_screen(screen, image))


async def test_a_500_generation_thread_builds_only_the_visible_cards(make_app: Any) -> None:
    from chatimg.tui.widgets.thread import WINDOW

    conversation_id = seed_layout_thread(GENERATIONS)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.conversation_id == conversation_id
        thread = screen.thread
        await wait_until(pilot, lambda: bool(thread.cards()), what="the visible cards")
        await wait_until(pilot, lambda: _visible_images_drawn(screen), what="their thumbnails")
        await pilot.pause()
        # only the newest messages, about what fills the view, came from the store and
        # were mounted
        read = len(thread.messages)
        assert 1 <= read < WINDOW
        assert thread.unloaded == GENERATIONS - read
        cards, slots = thread.cards(), thread.slots()
        assert 1 <= len(cards) + len(slots) <= read
        assert 1 <= len(cards) <= 4, len(cards)
        assert thread.scroll_y == thread.max_scroll_y  # opened at the newest message
        assert all(on_screen(screen, card) for card in cards)
        assert not any(on_screen(screen, slot) for slot in slots)
        newest = cards[-1].generation
        assert newest is not None and newest.params["seed"] == GENERATIONS - 1

        # scrolling builds what comes into view, and only that
        thread.scroll_to(y=thread.max_scroll_y // 2, animate=False, immediate=True)
        await pilot.pause()
        await wait_until(pilot, lambda: not any(on_screen(screen, slot)
                                                for slot in thread.slots()),
                         what="the middle built")
        assert len(thread.cards()) <= 8


async def test_a_thread_opens_in_one_layout_with_its_scrollbar_where_the_view_is(
        make_app: Any) -> None:
    """Opening a long thread from an empty one lays the screen out once: the frame that shows
    its newest card is the final one (not a first frame without a scrollbar, then a second
    pass for the new widgets' sizes). The scrollbar says where the view is."""
    conversation_id = seed_layout_thread(40)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        await wait_until(pilot, lambda: _visible_images_drawn(screen), what="the thread")
        screen.open_conversation(None)
        await wait_until(pilot, lambda: screen.thread_loaded, what="the empty thread")
        await pilot.pause()
        assert thread.show_vertical_scrollbar  # shown with nothing to scroll too
        compositor = screen._compositor
        reflow = compositor.reflow
        layouts = 0

        def counted(*args: Any) -> Any:
            nonlocal layouts
            layouts += 1
            return reflow(*args)

        compositor.reflow = counted
        try:
            await _open_and_settle(pilot, screen, conversation_id)
        finally:
            compositor.reflow = reflow
        assert layouts == 1
        assert thread.max_scroll_y > 0 and thread.scroll_y == thread.max_scroll_y
        bar = thread.vertical_scrollbar
        assert bar.window_virtual_size == thread.virtual_size.height
        assert bar.window_size == thread.scrollable_content_region.height
        assert bar.position == thread.scroll_y  # the thumb at the bottom, like the view


async def test_a_thread_just_taller_than_the_view_is_drawn_at_its_end_from_its_first_frame(
        make_app: Any) -> None:
    """A short thread a row or two taller than the view (one square image: its card takes
    the view's height, its prompt the rest) opens at its end in the frame that first shows
    it. It is not drawn at the top first and then scrolled, which redrew the whole screen."""
    conversation_id = seed_layout_thread(1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        await wait_until(pilot, lambda: _visible_images_drawn(screen), what="the thread")
        assert 0 < thread.max_scroll_y <= 4  # (what the test is about: only just taller)
        screen.open_conversation(None)
        await wait_until(pilot, lambda: screen.thread_loaded, what="the empty thread")
        await pilot.pause()
        compositor = screen._compositor
        frames: list[tuple[bool, float, float]] = []
        full_screen = 0
        render_update = compositor.render_update

        def drawn(*args: Any, **kwargs: Any) -> Any:
            nonlocal full_screen
            full_screen += compositor.size.region in compositor._dirty_regions
            frames.append((bool(thread.cards()), thread.scroll_y, thread.max_scroll_y))
            return render_update(*args, **kwargs)

        compositor.render_update = drawn
        try:
            await _open_and_settle(pilot, screen, conversation_id)
        finally:
            compositor.render_update = render_update
        with_card = [(y, end) for has_card, y, end in frames if has_card]
        assert with_card and all(y == end > 0 for y, end in with_card), with_card
        assert full_screen == 0


def _first_block(thread: Any) -> Any:
    from chatimg.tui.widgets.message_block import MessageBlock

    return next(iter(thread.query(MessageBlock)))


async def test_page_up_right_after_opening_moves_a_whole_page(make_app: Any) -> None:
    """A thread opens with only what fills the view mounted; the first Page Up still moves a
    whole page (the run above is mounted first), not just to the top of what was mounted."""
    seed_layout_thread(60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        _, thread = await _shown(pilot)
        await pilot.pause()
        assert thread.scroll_y < thread.scrollable_content_region.height  # less than a page
        block = _first_block(thread)
        at = block.virtual_region.y - thread.scroll_y  # its row in the view
        thread.focus()
        await pilot.press("pageup")
        page = thread.scrollable_content_region.height

        def paged() -> bool:
            return block.virtual_region.y - thread.scroll_y == at + page \
                and not thread._mounting_earlier

        await wait_until(pilot, paged, what=f"the view a page up (block at {at} + {page})")
        assert _first_block(thread) is not block  # messages above it were mounted


async def test_focusing_the_first_mounted_card_mounts_the_run_above_it(make_app: Any) -> None:
    """Ctrl+Up onto the newest card of a thread just opened (only it mounted) mounts the
    messages above it in the background: the next Up finds the card above already there."""
    from chatimg.tui.widgets.card import GenerationCard

    seed_layout_thread(60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, thread = await _shown(pilot)
        await pilot.pause()
        shown_from = thread.first_shown
        assert [_seed_of(entry) for entry in thread.entries()] == [59]  # what fills the view
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard),
                         what="the newest card focused")
        await wait_until(pilot, lambda: thread.first_shown < shown_from
                         and not thread._mounting_earlier, what="the run above mounted")
        assert [_seed_of(entry) for entry in thread.entries()][-2:] == [58, 59]
        assert _seed_of(app.focused) == 59 and on_screen(screen, app.focused)


async def test_scrolling_up_mounts_then_loads_earlier_messages_and_keeps_the_view(
        make_app: Any) -> None:
    from chatimg.tui.widgets.thread import WINDOW

    seed_layout_thread(80)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        _, thread = await _shown(pilot)
        read = len(thread.messages)  # what filled the view
        assert thread.unloaded == 80 - read
        earlier = thread.query_one("#earlier")
        assert str(earlier.label) == f"▲ {thread.first_shown} earlier messages"

        # scroll to the top until what was read is mounted and a window more is read
        for _ in range(40):
            if thread.unloaded < 80 - read:
                break
            first, shown_from = _first_block(thread), thread.first_shown
            first_on_screen = first.virtual_region.y  # where it shows at the top
            thread.scroll_to(y=0, animate=False, immediate=True)
            await pilot.pause()

            def mounted(before: int = shown_from) -> bool:
                return bool(thread.first_shown < before and not thread._mounting_earlier)

            await wait_until(pilot, mounted, what="an earlier run mounted")
            await pilot.pause()  # the frame that shows the scroll keeping the view
            # the block that was first stays where it was on screen (scrolled with the
            # mount above it), not pushed away by the new content
            assert first.region.y - thread.region.y == first_on_screen
        assert thread.unloaded == 80 - read - WINDOW  # a window came from the store
        assert len(thread.messages) == read + WINDOW
        assert thread.first_shown >= thread.unloaded
        numbers = [thread.message_number(block.message_id) for block in
                   thread.query("MessageBlock")]
        assert numbers == list(range(thread.first_shown + 1, 81))  # in order, none twice
        assert str(earlier.label) == f"▲ {thread.first_shown} earlier messages"


async def test_the_view_is_kept_when_the_refresh_after_a_mount_above_comes_before_its_layout(
        make_app: Any, monkeypatch: Any) -> None:
    """On a busy machine the refresh after messages mount above can run before they are laid
    out; the block that was first still stays where it was on screen."""
    from chatimg.tui.widgets.thread import ThreadView

    seed_layout_thread(80)
    early: list[bool] = []
    call_after_refresh = ThreadView.call_after_refresh

    def first_one_early(self: Any, callback: Any, *args: Any, **kwargs: Any) -> bool:
        if getattr(callback, "__name__", "") == "_keep_position" and not early:
            early.append(True)
            callback(*args, **kwargs)  # as if the refresh had come before the layout
            return True
        return call_after_refresh(self, callback, *args, **kwargs)

    monkeypatch.setattr(ThreadView, "call_after_refresh", first_one_early)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        _, thread = await _shown(pilot)
        first, shown_from = _first_block(thread), thread.first_shown
        first_on_screen = first.virtual_region.y
        thread.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        await wait_until(pilot, lambda: bool(thread.first_shown < shown_from
                                             and not thread._mounting_earlier),
                         what="an earlier run mounted")
        await pilot.pause()  # the frame that shows the scroll keeping the view
        assert early
        assert first.region.y - thread.region.y == first_on_screen


async def test_a_thread_of_short_messages_reads_on_until_the_view_is_full(
        make_app: Any) -> None:
    """The first read of a thread is a few messages; when those are too short to fill the
    view (no images), a window more is read before anything is mounted."""
    from chatimg.studio import Studio
    from chatimg.tui.state import UiState, save_state
    from chatimg.tui.widgets.message_block import MessageBlock
    from chatimg.tui.widgets.thread import WINDOW
    from chatimg.tui.widgets.thread_layout import OPENING_READ

    studio = Studio.open()
    try:
        conversation = studio.create_conversation("notes", "layout")
        for index in range(80):
            studio.repo.add_message(conversation.id, f"note {index}", model="layout")
    finally:
        studio.close()
    save_state(UiState(conversation_id=conversation.id))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        await wait_until(pilot, lambda: thread.max_scroll_y > 0, what="the view filled")
        assert len(thread.messages) == OPENING_READ + WINDOW
        assert thread.unloaded == 80 - OPENING_READ - WINDOW
        texts = [block.text for block in thread.query(MessageBlock)]
        assert texts[-1] == "note 79" and len(texts) > OPENING_READ  # in order, to the end
        assert texts == [f"note {n}" for n in range(80 - len(texts), 80)]
        assert thread.scroll_y == thread.max_scroll_y


async def test_a_branch_of_a_message_outside_the_loaded_window_names_it(make_app: Any) -> None:
    from chatimg.studio import Studio

    conversation_id = seed_layout_thread(60)
    studio = Studio.open()
    try:
        thread = studio.load_thread(conversation_id)
        parent = thread.messages[2]  # "poster 2", far outside the newest window
        studio.repo.add_message(conversation_id, "a branch of the third", model="layout",
                                parent_id=parent.id)
    finally:
        studio.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: bool(screen.query(".branch")), what="the branch line")
        line = str(screen.query_one(".branch").render())
        assert "↳ branch of #3" in line and "poster 2" in line


def _seed_of(widget: Any) -> int:
    return int(widget.generation.params["seed"])


async def test_keys_move_onto_cards_that_were_slots_and_ctrl_up_finds_the_newest(
        make_app: Any) -> None:
    from chatimg.tui.widgets.card import GenerationCard

    seed_layout_thread(60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, thread = await _shown(pilot)
        # the cards above the view are not built at first (not even mounted)
        assert not any(_seed_of(card) in (58, 57) for card in thread.cards())

        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard),
                         what="the newest card focused")
        assert _seed_of(app.focused) == 59

        # up past the newest card's only image: the card above, built from its slot
        for expected in (58, 57):
            await pilot.press("up")

            def moved(seed: int = expected) -> bool:
                return isinstance(app.focused, GenerationCard) and _seed_of(app.focused) == seed

            await wait_until(pilot, moved, what=f"card {expected} focused")
            focused = app.focused

            def in_view(widget: Any = focused) -> bool:
                return on_screen(screen, widget)

            await wait_until(pilot, in_view, what="the focused card scrolled into view")
        assert not any(slot.generation.params["seed"] in (58, 57) for slot in thread.slots())

        # scrolled away to the top of the window, ctrl+up comes back to the newest card
        thread.scroll_to(y=2, animate=False, immediate=True)
        await pilot.pause()
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard)
                         and _seed_of(app.focused) == 59, what="the newest card again")
        newest = app.focused
        await wait_until(pilot, lambda: on_screen(screen, newest), what="it in view")



async def test_up_walks_every_card_across_mounted_runs_and_loaded_windows(
        make_app: Any) -> None:
    """Up from the newest card lands on each card above in turn: past the first mounted card
    the run above is mounted, and past the loaded window the next is read, without a key
    doing nothing."""
    import asyncio

    from textual import events

    from chatimg.tui.widgets.card import GenerationCard
    from chatimg.tui.widgets.thread import WINDOW

    count = WINDOW + 6
    seed_layout_thread(count)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, thread = await _shown(pilot)
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard)
                         and _seed_of(app.focused) == count - 1, what="the newest card")
        assert thread.first_shown > 0 and thread.unloaded > 0
        expected = count - 1
        while expected:  # in bursts, as a held key sends them: none may be lost
            burst = min(5, expected)
            for _ in range(burst):  # a terminal's key repeat: no waiting for the app
                app.post_message(events.Key("up", None))
                await asyncio.sleep(0.02)
            expected -= burst

            def moved(seed: int = expected) -> bool:
                return isinstance(app.focused, GenerationCard) and _seed_of(app.focused) == seed

            try:
                await wait_until(pilot, moved, timeout=30, what=f"card {expected} focused")
            except AssertionError as exc:  # say where focus is instead
                focused = app.focused
                where = (_seed_of(focused) if isinstance(focused, GenerationCard)
                         else type(focused).__name__)
                raise AssertionError(f"{exc}; focus is on {where}, first shown "
                                     f"{thread.first_shown}, unloaded {thread.unloaded}") from None
        assert thread.first_shown == 0 and thread.unloaded == 0
        first = app.focused

        # back at the newest card, the same keys over cards that are built by now: the view
        # follows the card focus lands on, not one it passed on the way
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard)
                         and _seed_of(app.focused) == count - 1, what="the newest card again")
        for _ in range(8):  # all at once
            app.post_message(events.Key("up", None))
        await wait_until(pilot, lambda: isinstance(app.focused, GenerationCard)
                         and _seed_of(app.focused) == count - 9, timeout=30,
                         what="eight cards up")
        landed = app.focused
        await wait_until(pilot, lambda: on_screen(screen, landed), timeout=30,
                         what="the card focus landed on in view")
        for _ in range(3):  # and it stays there once every key is handled
            await pilot.pause(0.1)
            assert on_screen(screen, landed)
        for _ in range(count):  # up to the first card again, without waiting
            app.post_message(events.Key("up", None))
        await wait_until(pilot, lambda: app.focused is first, timeout=30,
                         what="the first card again")
        await wait_until(pilot, lambda: on_screen(screen, first), what="the first card in view")
        await pilot.press("up")  # nothing above the first card: focus stays
        await pilot.pause()
        assert app.focused is first

async def test_opening_threads_pauses_collection_only_until_their_first_frame(
        make_app: Any) -> None:
    """A thread's open runs without cyclic collections (it makes tens of thousands of
    short-lived objects); the pause ends after its first frame, also when another open
    replaces it half-way or the app quits during one."""
    import asyncio
    import gc

    from chatimg.collector import COLLECTOR

    conversation_id = seed_layout_thread(40)
    assert gc.isenabled()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: _visible_images_drawn(screen) and screen.thread_loaded,
                         what="the thread on start")
        await wait_until(pilot, lambda: COLLECTOR.holding == 0, timeout=30,
                         what="the pause to end")
        assert gc.isenabled()
        for _ in range(3):  # each open replaces the one before while it loads
            screen.open_conversation(None)
            await asyncio.sleep(0.01)  # its worker starts, and is then cancelled mid-open
            screen.open_conversation(conversation_id)
            await asyncio.sleep(0.01)
        # polled without Pilot's wait for every widget's queue, which the cancelled opens'
        # half-mounted widgets can hold up on a busy machine
        for _ in range(600):
            if screen.thread_loaded and screen.thread.cards() and COLLECTOR.holding == 0:
                break
            await asyncio.sleep(0.05)
        assert screen.thread_loaded and screen.thread.cards(), "the last open showed"
        assert COLLECTOR.holding == 0 and gc.isenabled(), "every pause ended"
        assert screen.thread.cards()[-1].generation is not None
        screen.open_conversation(conversation_id)  # quits while this one loads
    assert COLLECTOR.holding == 0 and gc.isenabled()


def _seed_other_thread(text: str | None = None) -> str:
    """A second conversation, with one message ``text`` when given; its id."""
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        other = studio.create_conversation("other thread", "layout")
        if text is not None:
            studio.repo.add_message(other.id, text, model="layout")
        return other.id
    finally:
        studio.close()


def _watch_clearing(monkeypatch: Any) -> Any:
    """An ``asyncio.Event`` set each time the thread starts clearing its content."""
    import asyncio

    from chatimg.tui.widgets.thread import ThreadView

    clearing = asyncio.Event()
    remove_children = ThreadView.remove_children

    def watched(self: ThreadView, *args: Any, **kwargs: Any) -> Any:
        removing = remove_children(self, *args, **kwargs)
        clearing.set()
        return removing

    monkeypatch.setattr(ThreadView, "remove_children", watched)
    return clearing


async def test_an_open_replaced_while_it_clears_the_thread_leaves_every_widget_working(
        make_app: Any, monkeypatch: Any) -> None:
    """Opening another conversation while the last open is still clearing the thread (a
    person pressing Enter on row after row) shows the last one, with every widget still
    handling its messages, and the app quits cleanly. (Cancelling the replaced open used to
    reach the widgets' own tasks inside Textual's remove, leaving them on screen dead.)"""
    import asyncio

    from chatimg.tui.widgets.message_block import MessageBlock

    long_id, other_id = seed_layout_thread(40), _seed_other_thread()
    clearing = _watch_clearing(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: screen.thread_loaded and bool(screen.thread.cards()),
                         what="the long thread on start")
        for target, then in ((None, long_id), (long_id, other_id), (other_id, long_id)):
            await wait_until(pilot, lambda: screen.thread_loaded, what="the open before")
            clearing.clear()
            screen.open_conversation(target)
            await asyncio.wait_for(clearing.wait(), 30)  # its clearing has begun…
            screen.open_conversation(then)  # …and this open replaces it there

            def replaced(shown: str = then) -> bool:
                return bool(screen.thread_loaded) and screen.thread.conversation_id == shown

            await wait_until(pilot, replaced, timeout=30, what="the replacing open")
            handled: list[Any] = []
            widgets = [screen, *screen.walk_children()]
            for widget in widgets:
                widget.call_later(handled.append, widget)
            for _ in range(200):
                if len(handled) == len(widgets):
                    break
                await asyncio.sleep(0.02)
            dead = [w for w in widgets if w not in handled]
            assert not dead, f"widgets that no longer handle messages: {dead[:4]}"
            blocks = list(screen.thread.query(MessageBlock))
            shown = {block.message_id for block in blocks}
            assert len(shown) == len(blocks)  # nothing left over from the replaced open
            assert shown <= {message.id for message in screen.thread.messages}
        await pilot.press("ctrl+up")  # the keys still reach the cards
        await wait_until(pilot, lambda: app.focused in screen.thread.cards(),
                         what="a card focused")


async def test_messages_written_elsewhere_do_not_land_in_a_thread_opened_meanwhile(
        make_app: Any, monkeypatch: Any) -> None:
    """A live update for the open thread that arrives while another thread is replacing it
    waits for that change, and is then dropped: the new thread shows only its own
    messages."""
    import asyncio

    from chatimg.studio import Studio
    from chatimg.tui.widgets.message_block import MessageBlock

    long_id, other_id = seed_layout_thread(3), _seed_other_thread("the other thread's message")
    studio = Studio.open()
    try:
        written = studio.repo.add_message(long_id, "written by a teammate", model="layout")
        other_thread = studio.load_thread(other_id)
        update = [m for m in studio.load_thread(long_id).messages if m.id == written.id]
    finally:
        studio.close()
    clearing = _watch_clearing(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        thread = screen.thread
        await wait_until(pilot, lambda: screen.thread_loaded and thread.conversation_id == long_id,
                         what="the long thread on start")
        clearing.clear()
        replacing = asyncio.create_task(thread.show_thread(other_thread))
        await asyncio.wait_for(clearing.wait(), 30)  # the old content is going…
        await thread.append_messages(update)  # …when the update for it arrives
        await replacing
        await pilot.pause()
        texts = [block.text for block in thread.query(MessageBlock)]
        assert texts == ["the other thread's message"]
        assert [m.id for m in thread.messages] == [m.id for m in other_thread.messages]


async def test_a_change_of_the_thread_that_never_ends_does_not_stop_later_opens(
        make_app: Any, monkeypatch: Any) -> None:
    """Changes of the thread's content run one after the other, but one that hangs (a widget
    whose mount never ends) holds the next back only for a bounded time: the next open
    still shows its thread, and the log says why it waited."""
    import asyncio
    import logging

    from chatimg.tui.widgets import thread as thread_module
    from chatimg.tui.widgets.message_block import MessageBlock

    other_id = _seed_other_thread("the other thread's message")
    monkeypatch.setattr(thread_module, "_CHANGE_WAIT", 0.5)
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logging.getLogger("chatimg.tui").addHandler(handler)
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            never = asyncio.Event()
            stuck = asyncio.create_task(screen.thread._whole(never.wait()))
            await asyncio.sleep(0)  # the stuck change is the one under way
            screen.open_conversation(other_id)
            await wait_until(pilot, lambda: screen.thread_loaded
                             and screen.thread.conversation_id == other_id, timeout=10,
                             what="the open after the stuck change")
            assert [b.text for b in screen.thread.query(MessageBlock)] == [
                "the other thread's message"]
            assert any("still runs after 0.5 s" in text for text in warnings), warnings
            assert not stuck.done()
            never.set()
            await stuck
    finally:
        logging.getLogger("chatimg.tui").removeHandler(handler)
