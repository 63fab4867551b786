"""The main screen: sidebar, thread and composer. It owns the state; widgets only announce.

It paints before the Studio exists: the sidebar shows a loading state, and prompts sent meanwhile
are kept and sent, in order, once the app hands the screen its Studio (``attach_studio``).

Everything that touches the store or an engine is one ``Studio`` call in a worker. Events may
arrive from worker threads, so the callback only posts a message (thread-safe); progress
messages for the same generation replace each other in the queue (coalesced). A worker that
fails reaches the app's one failure handler (``chatimg.tui.failures``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.timer import Timer
from textual.widget import Widget

from chatimg.collector import COLLECTOR, IDLE_COLLECTIONS
from chatimg.errors import ChatImgError, StoreError
from chatimg.safetext import shown
from chatimg.tui import slash
from chatimg.tui.compositor import DrawnCompositor
from chatimg.tui.failures import ForwardFailedWorkers
from chatimg.tui.history import PromptHistory
from chatimg.tui.screens.card_navigation import NEWEST_CARD
from chatimg.tui.screens.dialogs import AskScreen, ConfirmScreen
from chatimg.tui.screens.model_picker import ModelPicker
from chatimg.tui.screens.prompt_flow import Branch, PromptFlow
from chatimg.tui.screens.team import TeamView
from chatimg.tui.widgets.card import ACTION_MODES, GenerationCard
from chatimg.tui.widgets.composer import Composer
from chatimg.tui.widgets.key_hints import LateFooter
from chatimg.tui.widgets.message_block import CardBuilt
from chatimg.tui.widgets.sidebar import LIMIT, Sidebar
from chatimg.tui.widgets.thread import WINDOW, ThreadView
from chatimg.tui.widgets.thread_layout import prepare_newest, read_opening
from chatimg.tui.widgets.typing_order import focus_now

if TYPE_CHECKING:
    from chatimg import domain
    from chatimg.compare import ImageRef
    from chatimg.engines.base import CancelToken
    from chatimg.engines.catalog import Listing
    from chatimg.generation import EventCallback
    from chatimg.spec import GenerationSpec
    from chatimg.studio import GenerateOutcome, Studio
    from chatimg.tui.options import ComposerOptions

PartT = TypeVar("PartT", bound=Widget)

#: The default model until the settings are read (``Settings.default_model``'s default).
FIRST_MODEL = "layout"


def title_from(prompt: str) -> str:
    """A conversation title from its first prompt."""
    words = " ".join(prompt.split())
    return words[:60] + ("…" if len(words) > 60 else "")


class MainScreen(PromptFlow, TeamView, ForwardFailedWorkers):
    """Sidebar | thread over composer."""

    AUTO_FOCUS = "#prompt"
    """The prompt has the focus from the first frame (not the sidebar's filter, first in the
    screen, for a frame: its cursor and a second frame with it moved)."""
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's ``Screen.focused`` repaints the whole screen on every focus change (a full
    frame on each move between cards); the widgets whose look depends on the focus repaint
    themselves as their ``:focus`` styles change, and the key hints follow the bindings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="generation.cancel", priority=True),
        # Screen-wide actions are priority bindings: a key the user maps to one of them in
        # [keymap] wins over the focused widget's own use of it (ctrl+k deletes to the end
        # of the line in the composer unless "composer.model" = "ctrl+k").
        Binding("ctrl+n", "new_conversation", "New", id="conversation.new", priority=True),
        Binding("ctrl+r", "rename_conversation", "Rename", id="conversation.rename",
                priority=True),
        Binding("f8", "delete_conversation", "Delete conv.", id="conversation.delete",
                priority=True),
        Binding("f9", "toggle_visibility", "Private/team", show=False,
                id="conversation.visibility", priority=True),
        Binding("ctrl+l", "focus_filter", "Filter", id="conversation.filter", priority=True),
        Binding("ctrl+o", "pick_model", "Model", id="composer.model", priority=True),
        Binding("ctrl+g", "toggle_advanced", "Advanced", id="composer.advanced", priority=True),
        Binding("ctrl+f", "search_history", "History", id="composer.history", priority=True,
                show=False),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", id="sidebar.toggle", priority=True,
                show=False),
        Binding("ctrl+e", "focus_prompt", "Prompt", show=False, id="composer.focus"),
        NEWEST_CARD,
    ]

    def __init__(self, studio: Studio | None = None, saved_options: object = None) -> None:
        super().__init__()
        self._compositor = DrawnCompositor()  # (a scroll redraws what moved: see the module)
        self._studio: Studio | None = None
        self._options: ComposerOptions | None = None
        self.saved_options = saved_options
        """The composer's settings from the last run, restored once the catalog is known."""
        self.keep_saved_model = saved_options is not None
        """The first conversation shown keeps the restored model instead of its own."""
        self.queued: list[str] = []
        """What was sent before the Studio was open, sent in order once it is."""
        self._composed = False
        self._resumed = False
        self.conversation_id: str | None = None
        self.tokens: set[CancelToken] = set()
        self.sends: dict[CancelToken, str | None] = {}
        self.deleted_conversations: set[str] = set()
        self.listings: list[Listing] = []
        self.picked: list[ImageRef] = []
        """Images picked for compare (``p`` on a card), in order."""
        self.selected_id: str | None = None
        """The generation whose card was focused last (the target of /vary, /describe ...)."""
        self.selected_image = 0
        """The selected image of that card."""
        self.generations: dict[str, domain.Generation] = {}
        """The latest stored state of every generation shown, by id."""
        self.prompts: dict[str, str] = {}
        """The prompt of every generation shown, by generation id."""
        self.restore_scroll: float | None = None
        self.thread_loaded = False
        self.initial: tuple[str | None, float | None] = (None, None)
        self.history = PromptHistory()
        """Earlier prompts for Up in the composer and the searchable history."""
        self.editing: Branch | None = None
        """The message being edited to send again as a branch."""
        self.sidebar_collapsed = False
        self._save_timer: Timer | None = None
        self._collector_holds: list[Callable[[], None]] = []
        """Ends of the collector pauses of thread opens (each ends after its first frame)."""
        self._parts: dict[type, Widget] = {}
        """The thread, composer and sidebar as composed (read often: no query each time)."""
        if studio is not None:
            self.attach_studio(studio)

    def compose(self):  # type: ignore[no-untyped-def]
        models, preset = self._painted_options()
        parts = self._parts = {ThreadView: ThreadView(id="thread"),
                               Composer: Composer(models, preset, id="composer"),
                               Sidebar: Sidebar(id="sidebar")}
        with Horizontal(id="body"):
            yield parts[Sidebar]
            with Vertical(id="main"):
                yield parts[ThreadView]
                yield parts[Composer]
        yield LateFooter()  # the key hints come just after the first paint, in its row

    def _painted_options(self) -> tuple[list[str], str]:
        """The composer's chips for the first paint: the options once known, else what was
        saved last time (checked against the catalog when the store is open)."""
        if self._options is not None:
            return self._options.models, self._options.preset
        saved = self.saved_options if isinstance(self.saved_options, dict) else {}
        fanout = saved.get("fanout")
        model = saved.get("model")
        if isinstance(fanout, list) and fanout and all(isinstance(m, str) for m in fanout):
            models = [str(m) for m in fanout]
        else:
            models = [model if isinstance(model, str) and model else FIRST_MODEL]
        preset = saved.get("preset")
        return models, preset if isinstance(preset, str) and preset else "Balanced"

    def _part(self, kind: type[PartT]) -> PartT:
        part = self._parts.get(kind)
        if isinstance(part, kind):
            return part
        return self.query_one(kind)  # (not composed yet: says so)

    @property
    def thread(self) -> ThreadView:
        return self._part(ThreadView)

    @property
    def composer(self) -> Composer:
        return self._part(Composer)

    @property
    def sidebar(self) -> Sidebar:
        return self._part(Sidebar)

    @property
    def studio(self) -> Studio:
        """The Studio (raises ``StoreError`` while it is still opening)."""
        if self._studio is None:
            raise StoreError("the store is still opening", "try again in a moment")
        return self._studio

    @studio.setter
    def studio(self, studio: Studio) -> None:
        self.attach_studio(studio)

    @property
    def options(self) -> ComposerOptions:
        """What the next prompt is sent with (raises ``StoreError`` while the store opens)."""
        if self._options is None:
            raise StoreError("the store is still opening", "try again in a moment")
        return self._options

    @options.setter
    def options(self, options: ComposerOptions) -> None:
        self._options = options

    @property
    def ready(self) -> bool:
        """Whether the Studio is open (until then the screen shows a loading state)."""
        return self._studio is not None

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # The first resume is the app's start: every widget was styled as it mounted, just
        # before, and restyling them all again cost ~7 ms of the first frame.
        # (Later resumes restyle as Textual does: the screen comes back from under another.)
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        super()._on_screen_resume(event)

    def on_mount(self) -> None:
        self.composer.themes = sorted(self.app.available_themes)
        self.sidebar.display = not self.sidebar_collapsed
        self._composed = True
        if self._studio is None:
            self.query_one("#conversations").loading = True
        else:
            self._fill_in(self._studio)

    def attach_studio(self, studio: Studio) -> None:
        """The Studio is open: restore the composer's settings, fill in models, the sidebar,
        the history and the thread; start live updates; send what waited."""
        from chatimg.tui.options import ComposerOptions

        self._studio = studio
        default = studio.settings.default_model
        if self.saved_options is not None:
            self._options = ComposerOptions.from_state(self.saved_options, default,
                                                       studio.catalog.names())
        else:
            self._options = ComposerOptions(model=default)
        if self._composed:
            self._fill_in(studio)

    def _fill_in(self, studio: Studio) -> None:
        self.composer.models = list(studio.catalog.names())
        self.sidebar.user = self.thread.user = studio.user
        self.options_changed()
        self.start_flow()
        self.open_conversation(*self.initial)
        self.reload_sidebar()
        self.run_worker(self._load_listings, thread=True, group="listings", name="listings",
                        exit_on_error=False)
        self.start_live()

    def _not_ready(self) -> bool:
        """True (and says so in the composer) while the Studio is still opening."""
        if self._studio is not None:
            return False
        self.composer.show_info("opening the store… (prompts you send now go out once it is open)")
        return True

    def on_sidebar_loaded(self, event: Sidebar.Loaded) -> None:
        self.query_one("#conversations").loading = False

    def on_unmount(self) -> None:
        self.stop_live()
        for release in self._collector_holds:
            release()

    def _load_listings(self) -> None:
        listings = self.studio.catalog.listings()
        self.app.call_from_thread(self._listings_loaded, listings)

    def _listings_loaded(self, listings: list[Listing]) -> None:
        self.listings = listings
        for screen in self.app.screen_stack:
            if isinstance(screen, ModelPicker) and not screen.listings:
                screen.set_listings(listings)
        self._model_defaults()

    # -- composer options -------------------------------------------------------------------

    def _model_defaults(self) -> None:
        for listing in self.listings:
            if listing.name == self.options.model and listing.info is not None:
                self.options.model_defaults = dict(listing.info.defaults)
        self.options_changed()

    def options_changed(self) -> None:
        """Show the options (chips, estimate, advanced fields) after they changed.

        The estimate prices only the models that can run here and says how many cannot.
        """
        if self._studio is None:
            return
        estimate = ""
        with contextlib.suppress(ChatImgError):
            value = self.studio.estimate_cost(self.options.models, self.options.params())
            if value is not None:
                estimate = f"est. ${float(value):.3f}"
        missing = self.unavailable(self.options.models)
        if missing:
            estimate = f"{estimate} ({len(missing)} can't run)".lstrip()
        self.composer.show_options(self.options.models, self.options.preset, estimate,
                                   self.options.advanced_values(), self.options.seed_locked)
        self.schedule_save()

    async def action_toggle_advanced(self) -> None:
        if self._not_ready():
            return
        await self.composer.toggle_advanced(self.options.advanced_values(),
                                            self.options.seed_locked)

    def action_cycle_preset(self) -> None:
        if self._not_ready():
            return
        self.composer.show_info(self.options.cycle_preset() + "  ·  " + self.options.summary())
        self.options_changed()

    def on_composer_cycle_preset(self, event: Composer.CyclePreset) -> None:
        self.action_cycle_preset()

    def on_composer_seed_lock(self, event: Composer.SeedLock) -> None:
        if self._not_ready():
            return
        self.options.set_seed_locked(event.locked)
        self.options_changed()

    def on_composer_field_changed(self, event: Composer.FieldChanged) -> None:
        if self._not_ready():
            return
        try:
            self.options.apply_field(event.name, event.value)
        except slash.SlashError as exc:
            self.composer.mark_field(event.name, str(exc))
            return
        self.composer.mark_field(event.name, None)
        self.composer.show_info(self.options.summary())
        self.options_changed()

    def action_pick_model(self) -> None:
        if self._not_ready():
            return
        self.app.push_screen(ModelPicker(self.listings, self.options.model), self.set_model)

    def on_composer_open_picker(self, event: Composer.OpenPicker) -> None:
        self.action_pick_model()

    def set_model(self, name: str | None) -> None:
        """Use ``name`` from the next message on."""
        if not name or self._not_ready():
            return
        self.options.set_model(name)
        self._model_defaults()
        self.composer.show_info(f"model → {name} (from the next message)")
        self.composer.prompt.focus()

    def continue_from(self, result: dict[str, Any] | None) -> None:
        """The compare screen's "continue from this one": load its model, seed and params.

        Whatever the result, the thread is reloaded so new picks show on the cards.
        """
        from chatimg.spec import GenerationSpec

        if self.conversation_id:
            self.open_conversation(self.conversation_id, self.thread.scroll_y)
        if not result:
            return
        model = result.get("model")
        spec = GenerationSpec.from_stored({**(result.get("params") or {}),
                                           "seed": result.get("seed")}, lenient=True)
        self.options.continue_from(model if model in self.composer.models else None, spec)
        self._model_defaults()
        self.composer.show_info("continuing from the picked image · " + self.options.summary())

    # -- conversations ----------------------------------------------------------------------

    def on_sidebar_filter(self, event: Sidebar.Filter) -> None:
        if self._studio is None:
            return  # the list loads once the store is open (attach_studio)
        self.run_worker(lambda: self._load_conversations(event.query), thread=True,
                        exclusive=True, group="sidebar", name="sidebar-load",
                        exit_on_error=False)

    def _load_conversations(self, query: str) -> None:
        conversations = self.studio.list_conversations(limit=LIMIT, query=query or None)
        self.app.call_from_thread(self._show_conversations, query, conversations)

    def _show_conversations(self, query: str, conversations: list[domain.Conversation]) -> None:
        listing = self.query_one("#conversations")
        if listing.loading:  # the first list: rows are fitted to the list's width once it is
            listing.loading = False  # laid out again without the loading indicator over it
            self.call_after_refresh(self.sidebar.show, query, conversations)
        else:
            self.sidebar.show(query, conversations)

    def reload_sidebar(self) -> None:
        """Reload the conversation list (with the filter as typed)."""
        self.sidebar.reload()

    def open_conversation(self, conversation_id: str | None, scroll_y: float | None = None) -> None:
        """Show a conversation (``None``: a new, empty one). Loads in a worker."""
        if self.editing is not None and self.editing.conversation_id != conversation_id:
            self.stop_editing()
        self.conversation_id = conversation_id
        self.restore_scroll = scroll_y
        self.sidebar.set_current(conversation_id)
        self.picked.clear()
        self.selected_id = None
        self.selected_image = 0
        self.thread_loaded = False
        # the highlight, the old thread cleared and the new one are drawn in one frame, no
        # later than a period from now (the content is mounted by then on a fast store)
        self.hold_frames()
        self.run_worker(self._load_thread(conversation_id), exclusive=True, group="thread",
                        name="thread-load", exit_on_error=False)

    async def _load_thread(self, conversation_id: str | None) -> None:
        # opening makes tens of thousands of short-lived objects (rows, widgets, strips):
        # no collections until the thread's first frame is drawn, or the load is dropped
        IDLE_COLLECTIONS.note_activity()  # no full collection starts in the open either
        release = COLLECTOR.hold()
        self._collector_holds.append(release)
        try:
            await self._open_thread(conversation_id)
        except BaseException:
            self._end_hold(release)
            raise
        self.call_after_refresh(self._end_hold, release)

    def _end_hold(self, release: Callable[[], None]) -> None:
        release()
        with contextlib.suppress(ValueError):
            self._collector_holds.remove(release)

    async def _open_thread(self, conversation_id: str | None) -> None:
        thread = None
        if conversation_id is not None:
            size, at_end = self.thread.card_area(), self.restore_scroll is None

            def read(last: int, before: str | None) -> domain.Thread:
                return self.studio.load_thread(conversation_id, last=last, before=before)

            def load() -> domain.Thread:
                # opening at its end, only what fills the view is read (a restored position,
                # the window it was saved in); older messages are read as the person scrolls
                # up. The images it opens on are decoded here, off the UI loop, before cards
                # mount
                if not at_end:
                    return read(WINDOW, None)
                loaded = read_opening(read, size, WINDOW)
                prepare_newest(loaded, size)
                return loaded

            try:
                thread = await asyncio.to_thread(load)
            except ChatImgError as exc:
                self.notify(exc.one_line(), severity="warning")
                self.conversation_id = None
        self.thread.fetch_earlier = self._fetch_earlier
        self.generations.clear()
        self.prompts.clear()
        if thread is not None:
            self._remember_thread(thread)
        await self.thread.show_thread(thread, self.restore_scroll)
        self.release_frames()
        self.restore_scroll = None
        keep_model, self.keep_saved_model = self.keep_saved_model, False
        if thread is not None and thread.conversation.default_model and not keep_model:
            last = thread.messages[-1].model if thread.messages else None
            model = last or thread.conversation.default_model
            chosen = (self.options.model, self.options.fanout) == (model, ())
            if model in self.composer.models and not chosen:  # (chosen: nothing to redraw)
                self.options.set_model(model)
                self._model_defaults()
        self.thread_loaded = True
        self.schedule_save()  # (once the open settles: not while its frame is due)
        await self._send_queued()

    async def _fetch_earlier(self, before: str, count: int) -> domain.Thread | None:
        """The ``count`` messages before message ``before`` of the open conversation (the
        thread's earlier window); ``None`` when the conversation changed or the store failed
        (said in a notice)."""
        conversation_id = self.conversation_id
        if conversation_id is None:
            return None
        try:
            thread = await asyncio.to_thread(self.studio.load_thread, conversation_id,
                                             last=count, before=before)
        except ChatImgError as exc:
            self.notify(exc.one_line(), severity="warning")
            return None
        if conversation_id != self.conversation_id:
            return None
        self._remember_thread(thread)
        return thread

    def _remember_thread(self, thread: domain.Thread) -> None:
        """Remember every loaded generation of ``thread`` with its prompt."""
        for message in thread.messages:
            for generation in message.generations:
                self.remember(generation, message.text)

    async def _send_queued(self) -> None:
        """Send, in order, what was typed while the store was opening."""
        while self.queued and self._studio is not None:
            await self._dispatch(self.queued.pop(0), typed=False)

    def _remember_ui(self) -> None:
        save = getattr(self.app, "save_ui_state", None)
        if save is not None:
            save()

    def on_sidebar_open(self, event: Sidebar.Open) -> None:
        self.open_conversation(event.conversation_id)
        focus_now(self.composer.prompt)

    def action_new_conversation(self) -> None:
        self.open_conversation(None)
        focus_now(self.composer.prompt)

    def action_focus_filter(self) -> None:
        if self.sidebar_collapsed:
            self.set_sidebar_collapsed(False)
        focus_now(self.query_one("#filter"))

    def action_focus_prompt(self) -> None:
        focus_now(self.composer.prompt)

    def target_conversation(self) -> str | None:
        return self.sidebar.highlighted_id if self.sidebar.has_focus_within else \
            self.conversation_id

    def action_rename_conversation(self) -> None:
        target = self.target_conversation()
        if target is None:
            self.notify("open a conversation first")
            return
        current = next((c.title for c in self.sidebar.conversations if c.id == target), "")

        def done(title: str | None) -> None:
            if title:
                self.rename(target, title)

        self.app.push_screen(AskScreen("Rename conversation", current), done)

    def rename(self, conversation_id: str, title: str) -> str | None:
        """Rename a conversation; the error line, or ``None``."""
        try:
            self.studio.rename_conversation(conversation_id, title)
        except ChatImgError as exc:
            self.composer.show_error(exc.one_line())
            return exc.one_line()
        self.reload_sidebar()
        return None

    def action_delete_conversation(self) -> None:
        target = self.target_conversation()
        if target is None:
            self.notify("no conversation selected")
            return
        title = shown(next((c.title for c in self.sidebar.conversations if c.id == target),
                           target))

        def done(yes: bool | None) -> None:
            if not yes:
                return
            self.abandon_sends(target)
            try:
                self.studio.delete_conversation(target)
            except ChatImgError as exc:
                self.deleted_conversations.discard(target)
                self.notify(exc.one_line(), severity="error")
                return
            if target == self.conversation_id:
                self.open_conversation(None)
            self.reload_sidebar()
            self.notify(f"deleted “{title}”")

        self.app.push_screen(ConfirmScreen(f"Delete “{title}” and its messages?"), done)

    # -- CommandHost: slash commands that are not about a card --------------------------------

    async def change_setting(self, command: slash.SlashCommand) -> str | None:
        confirmation = self.options.apply(command) or ""
        if command.name in ("fanout", "model"):  # mark what cannot run here, and say why
            models = self.options.models
            missing = self.unavailable(models)
            if command.name == "fanout":
                confirmation = "fan-out → " + self.marked(models, missing)
            if missing:
                confirmation += "  ·  ✗ " + (self.unavailable_line(missing, len(models)) or "")
        if command.name == "model":
            self._model_defaults()
        else:
            self.options_changed()
        self.composer.clear()
        self.composer.show_info(confirmation + "  ·  " + self.options.summary())
        return None

    async def rename_open(self, title: str) -> str | None:
        if self.conversation_id is None:
            return "send a prompt first: there is no conversation to rename"
        error = self.rename(self.conversation_id, title)
        if error is None:
            self.composer.show_info(f"renamed to “{title}”")
        return error

    async def set_theme(self, name: str) -> str | None:
        self.app.theme = name
        self.composer.show_info(f"theme → {name}")
        return None

    async def show_help(self) -> str | None:
        self.app.open_help()  # type: ignore[attr-defined]
        return None

    # -- sending ----------------------------------------------------------------------------

    async def on_composer_send(self, event: Composer.Send) -> None:
        text = event.text
        if self._studio is None:
            self.queued.append(text)
            self.composer.clear()
            waiting = len(self.queued)
            self.composer.show_info(f"opening the store… {waiting} prompt"
                                    f"{'s' if waiting > 1 else ''} will be sent once it is open")
            return
        await self._dispatch(text, typed=True)

    async def _dispatch(self, text: str, *, typed: bool) -> None:
        """Run a slash command or send a prompt; ``typed``: it is what the composer holds."""
        if slash.is_command(text):
            try:
                command = slash.parse(text, self.composer.models, self.composer.themes)
            except slash.SlashError as exc:
                if not typed:  # sent while the store opened: put it back to fix
                    self.composer.restore(text)
                self.composer.show_error(str(exc))
                self.composer.prompt.select_all()  # typing replaces it; a move keeps it
                return
            error = await slash.run(command, self)
            if error:
                self.composer.show_error(error)
                if typed and self.composer.prompt.text == text:
                    self.composer.prompt.select_all()
            elif typed and self.composer.prompt.text == text:
                self.composer.clear()
            return
        models = self.options.models
        missing = self.unavailable(models)
        if missing:
            self.confirm_unavailable(text, models, missing)
            return
        self.send_now(text, models, clear=typed)

    def send_now(self, text: str, models: list[str], info: str = "", *,
                 clear: bool = True) -> None:
        """Send the composer's prompt to ``models``: an edit being made ends and goes out as
        its branch, the prompt joins the history, and the composer clears (showing ``info``;
        not ``clear``: a prompt kept while the store opened, the composer holds newer text)."""
        branch = self.take_branch()
        self.history.add(text)
        if clear:
            self.composer.clear()
        self.composer.show_info(info)
        self.send_prompt(text, models, self.options.params(), branch)

    def send_prompt(self, text: str, models: list[str], spec: GenerationSpec,
                    branch: Branch | None = None) -> None:
        """Send ``text`` to ``models``: a message block appears at once, cards as events come.

        With ``branch`` the new message's parent is the edited message."""
        if self.conversation_id is None:
            try:
                conversation = self.studio.create_conversation(title_from(text) or "image",
                                                               models[0])
            except ChatImgError as exc:
                self.composer.restore(text)
                self.composer.show_error(exc.one_line())
                return
            self.conversation_id = conversation.id
            self.thread.conversation_id = conversation.id
            self._remember_ui()
        conversation_id = self.conversation_id
        label = " + ".join(models) if len(models) > 1 else models[0]
        hints = self.options.hints()

        def call(on_event: EventCallback, cancel: CancelToken) -> Awaitable[GenerateOutcome]:
            return self.studio.generate(text, models, spec, hints=hints,
                                        conversation_id=conversation_id, on_event=on_event,
                                        cancel=cancel, parent_id=parent_id)

        parent_id = branch.message_id if branch is not None else None
        self.start_send(text, label, call, restore=True,
                        branch=branch.label if branch is not None else None)

    def action_cancel(self) -> None:
        if not self.tokens:
            if self.stop_editing():
                return
            if self.composer.prompt.has_focus:
                return
            self.composer.prompt.focus()
            return
        for token in list(self.tokens):
            token.cancel()
        self.notify("cancelling…", timeout=2)

    def on_descendant_focus(self, event: Any) -> None:
        self.focus_arrived(event.widget)
        if isinstance(event.widget, GenerationCard):
            card = event.widget
            self.selected_id = card.generation_id
            generation = self.generations.get(card.generation_id)
            model = (generation.resolved_model or generation.requested_model
                     if generation else card.model)
            card.offer({mode for mode in ACTION_MODES.values() if self.can_run(model, mode)})
            self.selected_image = card.selected

    def on_card_built(self, event: CardBuilt) -> None:
        """A long thread built a card as it came into view: show its picks."""
        card = event.card
        picked = frozenset(p.image for p in self.picked if p.generation_id == card.generation_id)
        if picked:
            card.set_picked(picked)

    def on_thread_view_scrolled(self, event: ThreadView.Scrolled) -> None:
        self.schedule_save()

    def schedule_save(self) -> None:
        """Save the UI state (scroll position, composer settings) once things settle."""
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(0.3, self._scheduled_save)

    def _scheduled_save(self) -> None:
        self._save_timer = None
        self._remember_ui()

    def flush_save(self) -> None:
        """Save now what a scheduled save would (the app is closing)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._scheduled_save()

    def scroll_position(self) -> float:
        return self.thread.last_scroll_y
