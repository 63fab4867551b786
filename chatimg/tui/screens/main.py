"""The main screen: sidebar, thread and composer; sends prompts and runs generations.

Generations run in async workers (``Studio.generate`` moves blocking engines to threads).
Events may arrive from worker threads, so the callback only posts a message (thread-safe);
progress messages for the same generation replace each other in the queue (coalesced).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from chatimg.engines.base import CancelToken
from chatimg.errors import ChatImgError
from chatimg.safetext import shown
from chatimg.studio import GenerationEvent, GenerationParams
from chatimg.tui import slash
from chatimg.tui.options import ComposerOptions
from chatimg.tui.screens import actions
from chatimg.tui.screens.dialogs import AskScreen, ConfirmScreen
from chatimg.tui.screens.model_picker import ModelPicker
from chatimg.tui.widgets.card import CardAction, CardProgress, GenerationCard
from chatimg.tui.widgets.composer import Composer
from chatimg.tui.widgets.sidebar import Sidebar
from chatimg.tui.widgets.thread import MessageBlock, ThreadView

if TYPE_CHECKING:
    from chatimg.engines.catalog import Listing
    from chatimg.studio import Studio


@dataclass
class GenerationUpdate(Message):
    """A ``GenerationEvent`` for the card of ``block``."""

    event: GenerationEvent
    block: MessageBlock

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, GenerationUpdate) and message.event.kind == "progress"
                and self.event.kind == "progress"
                and message.event.generation_id == self.event.generation_id)


def title_from(prompt: str) -> str:
    """A conversation title from its first prompt."""
    words = " ".join(prompt.split())
    return words[:60] + ("…" if len(words) > 60 else "")


class MainScreen(Screen[None]):
    """Sidebar | thread over composer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="generation.cancel", priority=True),
        Binding("ctrl+n", "new_conversation", "New", id="conversation.new"),
        Binding("ctrl+r", "rename_conversation", "Rename", id="conversation.rename"),
        Binding("f8", "delete_conversation", "Delete conv.", id="conversation.delete"),
        Binding("ctrl+l", "focus_filter", "Filter", id="conversation.filter"),
        Binding("ctrl+o", "pick_model", "Model", id="composer.model"),
        Binding("ctrl+g", "toggle_advanced", "Advanced", id="composer.advanced"),
        Binding("ctrl+e", "focus_prompt", "Prompt", show=False, id="composer.focus"),
    ]

    def __init__(self, studio: Studio) -> None:
        super().__init__()
        self.studio = studio
        self.options = ComposerOptions(model=studio.settings.default_model)
        self.conversation_id: str | None = None
        self.tokens: set[CancelToken] = set()
        self.listings: list[Listing] = []
        self.picked: list[str] = []
        self.selected_card: GenerationCard | None = None
        self.restore_scroll: float | None = None
        self.thread_loaded = False
        self.initial: tuple[str | None, float | None] = (None, None)
        self._save_timer: Timer | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        with Horizontal(id="body"):
            yield Sidebar(self.studio, id="sidebar")
            with Vertical(id="main"):
                yield ThreadView(id="thread")
                yield Composer(self.options, id="composer")
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

    @property
    def running(self) -> int:
        """How many sends are still running."""
        return len(self.tokens)

    def on_mount(self) -> None:
        self.composer.models = list(self.studio.catalog.names())
        self.composer.themes = sorted(self.app.available_themes)
        self.composer.prompt.focus()
        self.open_conversation(*self.initial)
        self.run_worker(self._load_listings, thread=True, group="listings", exit_on_error=False)

    def _load_listings(self) -> None:
        listings = self.studio.catalog.listings()
        self.app.call_from_thread(self._listings_loaded, listings)

    def _listings_loaded(self, listings: list[Listing]) -> None:
        self.listings = listings
        for screen in self.app.screen_stack:
            if isinstance(screen, ModelPicker) and not screen.listings:
                screen.set_listings(listings)
        self._model_defaults()

    def _model_defaults(self) -> None:
        for listing in self.listings:
            if listing.name == self.options.model and listing.info is not None:
                self.options.model_defaults = dict(listing.info.defaults)
        self._update_estimate()

    def _update_estimate(self) -> None:
        estimate = getattr(self.studio, "estimate_cost", None)
        text = ""
        if estimate is not None:
            with contextlib.suppress(Exception):
                value = estimate(self.options.models, self.options.params())
                value = getattr(value, "total", value)
                if value is not None:
                    text = f"est. ${float(value):.3f}"
        self.composer.estimate = text
        self.composer.refresh_options()

    # -- conversations ----------------------------------------------------------------------

    def open_conversation(self, conversation_id: str | None, scroll_y: float | None = None) -> None:
        """Show a conversation (``None``: a new, empty one). Loads in a thread worker."""
        self.conversation_id = conversation_id
        self.restore_scroll = scroll_y
        self.sidebar.set_current(conversation_id)
        self.picked.clear()
        self.selected_card = None
        self.thread_loaded = False
        self.run_worker(self._load_thread(conversation_id), exclusive=True, group="thread",
                        exit_on_error=False)

    async def _load_thread(self, conversation_id: str | None) -> None:
        import asyncio

        thread = None
        if conversation_id is not None:
            try:
                thread = await asyncio.to_thread(self.studio.load_thread, conversation_id)
            except ChatImgError as exc:
                self.notify(exc.one_line(), severity="warning")
                self.conversation_id = None
        await self.thread.show_thread(thread, self.restore_scroll)
        self.restore_scroll = None
        if thread is not None and thread.conversation.default_model:
            last = thread.messages[-1].model if thread.messages else None
            model = last or thread.conversation.default_model
            if model in self.composer.models:
                self.options.model, self.options.fanout = model, ()
                self._model_defaults()
        self.thread_loaded = True
        self._remember()

    def _remember(self) -> None:
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
        self.query_one("#filter").focus()

    def action_focus_prompt(self) -> None:
        self.composer.prompt.focus()

    def _target_conversation(self) -> str | None:
        return self.sidebar.highlighted_id if self.sidebar.has_focus_within else \
            self.conversation_id

    def action_rename_conversation(self) -> None:
        target = self._target_conversation()
        if target is None:
            self.notify("open a conversation first")
            return
        current = next((c.title for c in self.sidebar.conversations if c.id == target), "")

        def done(title: str | None) -> None:
            if title:
                self.rename(target, title)

        self.app.push_screen(AskScreen("Rename conversation", current), done)

    def rename(self, conversation_id: str, title: str) -> None:
        try:
            self.studio.rename_conversation(conversation_id, title)
        except ChatImgError as exc:
            self.composer.show_error(exc.one_line())
            return
        self.sidebar.reload()

    def action_delete_conversation(self) -> None:
        target = self._target_conversation()
        if target is None:
            self.notify("no conversation selected")
            return
        title = shown(next((c.title for c in self.sidebar.conversations if c.id == target),
                           target))

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.studio.delete_conversation(target)
            except ChatImgError as exc:
                self.notify(exc.one_line(), severity="error")
                return
            if target == self.conversation_id:
                self.open_conversation(None)
            self.sidebar.reload()
            self.notify(f"deleted “{title}”")

        self.app.push_screen(ConfirmScreen(f"Delete “{title}” and its messages?"), done)

    # -- composer ---------------------------------------------------------------------------

    async def action_toggle_advanced(self) -> None:
        await self.composer.toggle_advanced()

    def action_pick_model(self) -> None:
        self.app.push_screen(ModelPicker(self.listings, self.options.model), self.set_model)

    def on_composer_open_picker(self, event: Composer.OpenPicker) -> None:
        self.action_pick_model()

    def on_composer_options_changed(self, event: Composer.OptionsChanged) -> None:
        self._update_estimate()

    def set_model(self, name: str | None) -> None:
        """Use ``name`` from the next message on."""
        if not name:
            return
        self.options.model, self.options.fanout = name, ()
        self._model_defaults()
        self.composer.show_info(f"model → {name} (from the next message)")
        self.composer.prompt.focus()

    async def on_composer_send(self, event: Composer.Send) -> None:
        text = event.text
        if slash.is_command(text):
            try:
                command = slash.parse(text, self.composer.models, self.composer.themes)
            except slash.SlashError as exc:
                self.composer.show_error(str(exc))
                return
            await self.run_command(command)
            return
        self.composer.clear()
        self.composer.show_info("")
        await self.dispatch(text, self.options.models, self.options.params())

    async def run_command(self, command: slash.SlashCommand) -> None:
        """Carry out a parsed slash command; errors show inline and keep the text."""
        confirmation = self.options.apply(command)
        if confirmation is not None:
            if command.name == "model":
                self._model_defaults()
            self._update_estimate()
            self.composer.clear()
            self.composer.show_info(confirmation + "  ·  " + self.options.summary())
            return
        handler = getattr(self, f"command_{command.name}", None)
        shared = actions.COMMANDS.get(command.name)
        if handler is not None:
            error = await handler(command.value)
        elif shared is not None:
            error = await shared(self, command.value)
        else:
            self.composer.show_error(f"/{command.name} is not available yet")
            return
        if error:
            self.composer.show_error(error)
        else:
            self.composer.clear()

    async def command_rename(self, title: str) -> str | None:
        if self.conversation_id is None:
            return "send a prompt first: there is no conversation to rename"
        self.rename(self.conversation_id, title)
        self.composer.show_info(f"renamed to “{title}”")
        return None

    async def command_theme(self, name: str) -> str | None:
        self.app.theme = name
        self.composer.show_info(f"theme → {name}")
        return None

    async def command_help(self, _: Any) -> str | None:
        self.app.action_help()  # type: ignore[attr-defined]
        return None

    # -- generation -------------------------------------------------------------------------

    async def dispatch(self, text: str, models: list[str], params: GenerationParams, *,
                       parent_id: str | None = None) -> None:
        """Send ``text`` to ``models``: a message block appears at once, cards as events come."""
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
            self._remember()
        label = " + ".join(models) if len(models) > 1 else models[0]
        block = await self.thread.add_pending(text, label)
        token = CancelToken()
        self.tokens.add(token)
        self.run_worker(self._generate(text, models, params, block, token, parent_id),
                        group="generate", exit_on_error=False)

    async def _generate(self, text: str, models: list[str], params: GenerationParams,
                        block: MessageBlock, token: CancelToken, parent_id: str | None) -> None:
        def on_event(event: GenerationEvent) -> None:
            self.post_message(GenerationUpdate(event, block))

        try:
            outcome = await self.studio.generate(
                text, models, params, conversation_id=self.conversation_id,
                parent_id=parent_id, on_event=on_event, cancel=token)
        except Exception as exc:  # the send failed: put the prompt back
            reason = (exc.one_line() if isinstance(exc, ChatImgError)
                      else f"{type(exc).__name__}: {exc}")
            await block.remove()
            self.composer.restore(text)
            self.composer.show_error(reason)
            return
        finally:
            self.tokens.discard(token)
        block.message_id = outcome.message.id
        for generation in outcome.generations:
            card = block.card(generation.id) or block.add_card(
                generation.id, generation.resolved_model or generation.requested_model)
            card.update_generation(generation)
        self.sidebar.reload()

    def on_generation_update(self, message: GenerationUpdate) -> None:
        event = message.event
        block = message.block
        card = block.card(event.generation_id)
        if card is None:
            if not block.is_attached:
                return
            card = block.add_card(event.generation_id, event.model, event.generation)
        if event.kind == "progress" and event.progress is not None:
            card.update_progress(CardProgress(event.progress.step, event.progress.total,
                                              event.progress.message))
        elif event.kind == "started":
            card.set_status("running")
            card.update_progress(CardProgress(0, 0, "running… esc cancels"))
        elif event.generation is not None:
            card.update_generation(event.generation)

    def action_cancel(self) -> None:
        if not self.tokens:
            if self.composer.prompt.has_focus:
                return
            self.composer.prompt.focus()
            return
        for token in list(self.tokens):
            token.cancel()
        self.notify("cancelling…", timeout=2)

    def on_card_action(self, message: CardAction) -> None:
        self.selected_card = message.card
        self.run_worker(actions.card_action(self, message.card, message.action),
                        group="card-action", exit_on_error=False)

    def on_descendant_focus(self, event: Any) -> None:
        if isinstance(event.widget, GenerationCard):
            self.selected_card = event.widget

    def on_thread_view_scrolled(self, event: ThreadView.Scrolled) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(0.3, self._remember)

    def scroll_position(self) -> float:
        return self.thread.last_scroll_y
