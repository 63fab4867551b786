"""The main screen: sidebar, thread and composer. It owns the state; widgets only announce.

Everything that touches the store or an engine is one ``Studio`` call in a worker. Events may
arrive from worker threads, so the callback only posts a message (thread-safe); progress
messages for the same generation replace each other in the queue (coalesced). A worker that
fails reaches the app's one failure handler (``chatimg.tui.failures``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Footer

from chatimg import domain
from chatimg.compare import ImageRef
from chatimg.engines.base import CancelToken
from chatimg.errors import ChatImgError
from chatimg.generation import EventCallback
from chatimg.safetext import shown
from chatimg.spec import GenerationSpec
from chatimg.studio import GenerateOutcome
from chatimg.tui import slash
from chatimg.tui.failures import ForwardFailedWorkers
from chatimg.tui.history import PromptHistory
from chatimg.tui.options import ComposerOptions
from chatimg.tui.screens.card_navigation import NEWEST_CARD
from chatimg.tui.screens.dialogs import AskScreen, ConfirmScreen
from chatimg.tui.screens.model_picker import ModelPicker
from chatimg.tui.screens.prompt_flow import Branch, PromptFlow
from chatimg.tui.screens.team import TeamView
from chatimg.tui.widgets.card import ACTION_MODES, GenerationCard
from chatimg.tui.widgets.composer import Composer
from chatimg.tui.widgets.sidebar import LIMIT, Sidebar
from chatimg.tui.widgets.thread import ThreadView

if TYPE_CHECKING:
    from chatimg.engines.catalog import Listing
    from chatimg.studio import Studio

def title_from(prompt: str) -> str:
    """A conversation title from its first prompt."""
    words = " ".join(prompt.split())
    return words[:60] + ("…" if len(words) > 60 else "")


class MainScreen(PromptFlow, TeamView, ForwardFailedWorkers):
    """Sidebar | thread over composer."""

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

    def __init__(self, studio: Studio, saved_options: object = None) -> None:
        super().__init__()
        self.studio = studio
        default = studio.settings.default_model
        self.options = ComposerOptions(model=default)
        self.keep_saved_model = saved_options is not None
        """The first conversation shown keeps the restored model instead of its own."""
        if saved_options is not None:
            self.options = ComposerOptions.from_state(saved_options, default,
                                                      studio.catalog.names())
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

    def compose(self):  # type: ignore[no-untyped-def]
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            with Vertical(id="main"):
                yield ThreadView(id="thread")
                yield Composer(self.options.models, self.options.preset, id="composer")
        yield Footer()

    @property
    def thread(self) -> ThreadView:
        return self.query_one(ThreadView)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    def on_mount(self) -> None:
        self.composer.models = list(self.studio.catalog.names())
        self.composer.themes = sorted(self.app.available_themes)
        self.composer.prompt.focus()
        self.sidebar.user = self.thread.user = self.studio.user
        self.start_flow()
        self.open_conversation(*self.initial)
        self.run_worker(self._load_listings, thread=True, group="listings", name="listings",
                        exit_on_error=False)
        self.start_live()

    def on_unmount(self) -> None:
        self.stop_live()

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
        await self.composer.toggle_advanced(self.options.advanced_values(),
                                            self.options.seed_locked)

    def action_cycle_preset(self) -> None:
        self.composer.show_info(self.options.cycle_preset() + "  ·  " + self.options.summary())
        self.options_changed()

    def on_composer_cycle_preset(self, event: Composer.CyclePreset) -> None:
        self.action_cycle_preset()

    def on_composer_seed_lock(self, event: Composer.SeedLock) -> None:
        self.options.set_seed_locked(event.locked)
        self.options_changed()

    def on_composer_field_changed(self, event: Composer.FieldChanged) -> None:
        try:
            self.options.apply_field(event.name, event.value)
        except slash.SlashError as exc:
            self.composer.mark_field(event.name, str(exc))
            return
        self.composer.mark_field(event.name, None)
        self.composer.show_info(self.options.summary())
        self.options_changed()

    def action_pick_model(self) -> None:
        self.app.push_screen(ModelPicker(self.listings, self.options.model), self.set_model)

    def on_composer_open_picker(self, event: Composer.OpenPicker) -> None:
        self.action_pick_model()

    def set_model(self, name: str | None) -> None:
        """Use ``name`` from the next message on."""
        if not name:
            return
        self.options.set_model(name)
        self._model_defaults()
        self.composer.show_info(f"model → {name} (from the next message)")
        self.composer.prompt.focus()

    def continue_from(self, result: dict[str, Any] | None) -> None:
        """The compare screen's "continue from this one": load its model, seed and params.

        Whatever the result, the thread is reloaded so new picks show on the cards.
        """
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
        self.run_worker(lambda: self._load_conversations(event.query), thread=True,
                        exclusive=True, group="sidebar", name="sidebar-load",
                        exit_on_error=False)

    def _load_conversations(self, query: str) -> None:
        conversations = self.studio.list_conversations(limit=LIMIT, query=query or None)
        self.app.call_from_thread(self.sidebar.show, query, conversations)

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
        self.run_worker(self._load_thread(conversation_id), exclusive=True, group="thread",
                        name="thread-load", exit_on_error=False)

    async def _load_thread(self, conversation_id: str | None) -> None:
        thread = None
        if conversation_id is not None:
            try:
                thread = await asyncio.to_thread(self.studio.load_thread, conversation_id)
            except ChatImgError as exc:
                self.notify(exc.one_line(), severity="warning")
                self.conversation_id = None
        self.generations.clear()
        self.prompts.clear()
        for message in thread.messages if thread is not None else ():
            for generation in message.generations:
                self.remember(generation, message.text)
        await self.thread.show_thread(thread, self.restore_scroll)
        self.restore_scroll = None
        keep_model, self.keep_saved_model = self.keep_saved_model, False
        if thread is not None and thread.conversation.default_model and not keep_model:
            last = thread.messages[-1].model if thread.messages else None
            model = last or thread.conversation.default_model
            if model in self.composer.models:
                self.options.set_model(model)
                self._model_defaults()
        self.thread_loaded = True
        self._remember_ui()

    def _remember_ui(self) -> None:
        save = getattr(self.app, "save_ui_state", None)
        if save is not None:
            save()

    def on_sidebar_open(self, event: Sidebar.Open) -> None:
        self.open_conversation(event.conversation_id)
        self.composer.prompt.focus()

    def action_new_conversation(self) -> None:
        self.open_conversation(None)
        self.composer.prompt.focus()

    def action_focus_filter(self) -> None:
        if self.sidebar_collapsed:
            self.set_sidebar_collapsed(False)
        self.query_one("#filter").focus()

    def action_focus_prompt(self) -> None:
        self.composer.prompt.focus()

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
        if slash.is_command(text):
            try:
                command = slash.parse(text, self.composer.models, self.composer.themes)
            except slash.SlashError as exc:
                self.composer.show_error(str(exc))
                self.composer.prompt.select_all()  # typing replaces it; a move keeps it
                return
            error = await slash.run(command, self)
            if error:
                self.composer.show_error(error)
                if self.composer.prompt.text == text:
                    self.composer.prompt.select_all()
            elif self.composer.prompt.text == text:
                self.composer.clear()
            return
        models = self.options.models
        missing = self.unavailable(models)
        if missing:
            self.confirm_unavailable(text, models, missing)
            return
        self.send_now(text, models)

    def send_now(self, text: str, models: list[str], info: str = "") -> None:
        """Send the composer's prompt to ``models``: an edit being made ends and goes out as
        its branch, the prompt joins the history, and the composer clears (showing ``info``)."""
        branch = self.take_branch()
        self.history.add(text)
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
        if isinstance(event.widget, GenerationCard):
            card = event.widget
            self.selected_id = card.generation_id
            generation = self.generations.get(card.generation_id)
            model = (generation.resolved_model or generation.requested_model
                     if generation else card.model)
            card.offer({mode for mode in ACTION_MODES.values() if self.can_run(model, mode)})
            self.selected_image = card.selected

    def on_thread_view_scrolled(self, event: ThreadView.Scrolled) -> None:
        self.schedule_save()

    def schedule_save(self) -> None:
        """Save the UI state (scroll position, composer settings) once things settle."""
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(0.3, self._remember_ui)

    def scroll_position(self) -> float:
        return self.thread.last_scroll_y
