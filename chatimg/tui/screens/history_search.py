"""Searchable prompt history: type to filter earlier prompts, Enter puts one in the composer."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from chatimg.safetext import shown
from chatimg.tui.history import PromptHistory
from chatimg.tui.widgets.typing_order import OrderedInput, focus_now

SHOWN = 200
"""Rows listed at once (the filter reaches every entry)."""


def prompt_row(prompt: str) -> Content:
    """One row: the prompt on one line (its line breaks shown as ``⏎``)."""
    return Content(shown(" ⏎ ".join(prompt.splitlines())))


class HistorySearch(ModalScreen[str | None]):
    """Pick an earlier prompt; returns its text (or ``None`` on Escape).

    Args:
        prompts: The history, newest first (a copy: the screen's history is not touched).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="history.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="history.down"),
        Binding("up", "move(-1)", "Up", show=False, id="history.up"),
    ]

    def __init__(self, prompts: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self.history = PromptHistory(prompts)
        self.found: list[str] = []

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical(classes="dialog picker"):
            yield Label("Prompt history", classes="dialog-title")
            yield OrderedInput(placeholder="filter earlier prompts…", id="history-search",
                               compact=True)
            yield OptionList(id="history-options", compact=True)
            yield Label("enter puts the prompt in the composer · esc closes", classes="dim")

    def on_mount(self) -> None:
        self._fill("")
        focus_now(self.query_one("#history-search", Input))

    def _fill(self, query: str) -> None:
        options = self.query_one("#history-options", OptionList)
        self.found = self.history.matching(query, SHOWN)
        options.set_options(Option(prompt_row(prompt), id=str(index))
                            for index, prompt in enumerate(self.found))
        if not self.found:
            options.add_option(Option("no earlier prompt matches" if query else
                                      "no prompts yet", disabled=True))
        else:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#history-options", OptionList)
        if self.found and options.highlighted is not None:
            self.dismiss(self.found[options.highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(self.found[int(event.option.id)])

    def action_move(self, delta: int) -> None:
        options = self.query_one("#history-options", OptionList)
        if self.found:
            current = options.highlighted if options.highlighted is not None else -delta
            options.highlighted = max(0, min(len(self.found) - 1, current + delta))

    def action_cancel(self) -> None:
        self.dismiss(None)
