"""The main screen's keyboard flow around the composer: prompt history, "edit and resend" as a
branch, and the collapsible sidebar.

``PromptFlow`` is the part of ``MainScreen`` that owns the prompt history (loaded from the
store's messages in a worker, so nothing is kept twice), the branch being edited (the message
it branches from, and the composer settings from before the edit so Esc can put them back) and
whether the sidebar is collapsed. Widgets only announce (``PromptArea.HistoryStep``, card keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.errors import ChatImgError
from chatimg.tui.history import LIMIT, PromptHistory
from chatimg.tui.options import ComposerOptions
from chatimg.tui.screens.card_actions import CardActions
from chatimg.tui.screens.history_search import HistorySearch
from chatimg.tui.widgets.composer import PromptArea
from chatimg.tui.widgets.message_block import branch_label

if TYPE_CHECKING:
    from chatimg.tui.widgets.sidebar import Sidebar


@dataclass(frozen=True)
class Branch:
    """A message being edited, to be sent again as a new message whose parent it is."""

    conversation_id: str
    message_id: str
    number: int | None
    """Its place in the thread (1-based), for "branch of #N"."""
    text: str
    before: dict[str, Any]
    """The composer's settings before the edit (``ComposerOptions.to_state``)."""

    @property
    def label(self) -> str:
        """The line the thread shows above the branch."""
        return branch_label(self.number, self.text)


class PromptFlow(CardActions):
    """Prompt history, edit-and-resend branches and the sidebar toggle of the main screen."""

    history: PromptHistory
    editing: Branch | None
    sidebar_collapsed: bool

    # -- provided by MainScreen ---------------------------------------------------------------

    @property
    def sidebar(self) -> Sidebar:
        raise NotImplementedError

    def options_changed(self) -> None:
        raise NotImplementedError

    def schedule_save(self) -> None:
        raise NotImplementedError

    # -- start ---------------------------------------------------------------------------------

    def start_flow(self) -> None:
        """Apply the remembered sidebar state and load the prompt history in a worker."""
        self.sidebar.display = not self.sidebar_collapsed
        self.run_worker(self._load_history, thread=True, group="history", name="history",
                        exit_on_error=False)

    def _load_history(self) -> None:
        prompts = self.studio.recent_prompts(LIMIT)
        self.app.call_from_thread(self.history.add_older, prompts)

    # -- prompt history ------------------------------------------------------------------------

    def on_prompt_area_history_step(self, event: PromptArea.HistoryStep) -> None:
        event.stop()
        if not event.area.recalling:
            self.history.reset()  # what is shown was typed: walking starts from it
        text = self.history.older(event.area.text) if event.older else self.history.newer()
        if text is not None:
            self.composer.recall(text)

    def action_search_history(self) -> None:
        """Open the searchable prompt history; the chosen prompt goes into the composer."""

        def chosen(text: str | None) -> None:
            if text is not None:
                self.history.reset()
                self.composer.restore(text)
            self.composer.prompt.focus()

        self.app.push_screen(HistorySearch(list(self.history.entries)), chosen)

    # -- edit and resend -----------------------------------------------------------------------

    def card_action(self, generation_id: str, action: str, image: int | None = None) -> None:
        if action == "resend":
            self.selected_id = generation_id
            self.edit_and_resend(generation_id)
            return
        super().card_action(generation_id, action, image)

    def edit_and_resend(self, generation_id: str) -> None:
        """Put a generation's message (its prompt, models and settings) into the composer;
        sending it then makes a new message whose parent is that message."""
        generation = self.generations.get(generation_id)
        if generation is None:
            self.notify("the card has no stored generation yet", severity="warning")
            return
        try:
            message = self.studio.get_message(generation.message_id)
        except ChatImgError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        before = self.editing.before if self.editing is not None else self.options.to_state()
        self.editing = Branch(message.conversation_id, message.id,
                              self.thread.message_number(message.id), message.text, before)
        params = dict(message.params or {})
        known = set(self.composer.models)
        models = [m for m in params.get("models") or [] if isinstance(m, str) and m in known]
        if not models:
            model = message.model or generation.requested_model
            models = [model] if model in known else [self.options.model]
        from chatimg.spec import GenerationSpec

        spec = GenerationSpec.from_stored(params, lenient=True)
        if spec.seed is None:  # a random seed: keep the one that ran, to see the edit's effect
            seeds = [a.seed for a in generation.assets if a.seed is not None]
            spec = spec.model_copy(update={"seed": seeds[0] if seeds else generation.ran.seed})
        self.options.edit_from(models, spec, params.get("preset"))
        self.options_changed()
        self.history.reset()
        self.composer.restore(message.text)
        self.composer.show_editing(self._editing_line())
        self.composer.prompt.focus()

    def _editing_line(self) -> str:
        assert self.editing is not None
        where = f"#{self.editing.number}" if self.editing.number else "an earlier message"
        return (f"editing — branch from {where} · enter sends it as a branch · esc stops "
                f"editing  ·  {self.options.summary()}")

    def take_branch(self) -> Branch | None:
        """The branch to send now (editing ends); ``None`` when not editing this
        conversation."""
        branch, self.editing = self.editing, None
        self.composer.show_editing(None)
        if branch is None or branch.conversation_id != self.conversation_id:
            return None
        return branch

    def stop_editing(self) -> bool:
        """Leave the editing state (settings as before it; the untouched prompt goes);
        whether there was one."""
        branch, self.editing = self.editing, None
        if branch is None:
            return False
        self.composer.show_editing(None)
        if self.composer.prompt.text == branch.text:
            self.composer.clear()
        self.options = ComposerOptions.from_state(branch.before, self.options.model,
                                                  self.composer.models or None)
        self.options_changed()
        self.composer.show_info("stopped editing · " + self.options.summary())
        return True

    # -- sidebar -------------------------------------------------------------------------------

    def action_toggle_sidebar(self) -> None:
        """Collapse or expand the conversation list (remembered across restarts)."""
        self.set_sidebar_collapsed(not self.sidebar_collapsed)

    def set_sidebar_collapsed(self, collapsed: bool) -> None:
        if collapsed and self.sidebar.has_focus_within:
            self.composer.prompt.focus()
        self.sidebar_collapsed = collapsed
        self.sidebar.display = not collapsed
        self.schedule_save()
