"""The composer: multi-line prompt, model chip, preset chip, slash-command hints, advanced panel.

Enter sends; Shift+Enter or Ctrl+J inserts a newline; Tab completes a slash command; Up on
the first line (an empty composer included) asks for an earlier prompt and Down, while one is
shown, for a later one. The composer only announces (``Send``, ``OpenPicker``, ``CyclePreset``,
``SeedLock``, ``FieldChanged``, ``HistoryStep``); the screen owns the options and the history,
decides what happens and calls back (``show_options``, ``show_error`` with the text kept,
``clear`` when accepted, ``recall`` with a prompt from the history, ``show_editing`` while a
prompt is edited to be sent again as a branch).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from chatimg.tui import slash
from chatimg.tui.options import ADVANCED_FIELDS
from chatimg.tui.widgets.typing_order import KeysInOrder, OrderedInput

CHIP_ROOM = 23
"""Columns the model chip's label has (``#chips`` is 26 wide) until it is laid out."""


def chip_label(models: list[str], room: int = CHIP_ROOM) -> str:
    """``⧉ a + b``: as many whole model names as fit in ``room`` columns, then ``+N more``.

    A single name too long for the chip is cut with an ellipsis.
    """
    full = "⧉ " + " + ".join(models)
    if len(full) <= room or not models:
        return full
    for shown in range(len(models) - 1, 0, -1):
        label = "⧉ " + " + ".join(models[:shown]) + f" +{len(models) - shown} more"
        if len(label) <= room:
            return label
    more = f" +{len(models) - 1} more" if len(models) > 1 else ""
    space = max(1, room - 2 - len(more))
    first = models[0] if len(models[0]) <= space else models[0][:space - 1] + "…"
    return "⧉ " + first + more


class PromptArea(KeysInOrder, TextArea):
    """A TextArea where Enter submits and Shift+Enter / Ctrl+J add a line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,shift+enter", "newline", "Newline", show=False, id="composer.newline"),
    ]

    @dataclass
    class Submitted(Message):
        """Enter was pressed."""

        area: PromptArea
        text: str

    @dataclass
    class HistoryStep(Message):
        """Up on the first line (``older``) or Down on the last line of a recalled prompt."""

        area: PromptArea
        older: bool

    completions: list[str] = []
    recalling = False
    """The text shown came from the history and was not edited since (Down walks forward)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        if event.key in ("up", "down") and self._walks_history(event.key == "up"):
            event.stop()
            event.prevent_default()
            self.post_message(self.HistoryStep(self, event.key == "up"))
            return
        if event.key == "tab" and self.completions:
            event.stop()
            event.prevent_default()
            self.load_text(self.completions[0])
            self.move_cursor(self.document.end)
            return
        await super()._on_key(event)

    def _walks_history(self, up: bool) -> bool:
        """Up on the first (wrapped) line, Down on the last line of a recalled prompt."""
        if self.selection.start != self.selection.end:
            return False
        if up:
            return self.navigator.is_first_wrapped_line(self.cursor_location)
        return self.recalling and self.navigator.is_last_wrapped_line(self.cursor_location)

    def action_newline(self) -> None:
        self.insert("\n")


class AdvancedPanel(Vertical):
    """Seed lock, steps, guidance, scheduler, size, negative prompt, count.

    The fields sit in a grid of ``FIELD_WIDTH``-column cells, as many per row as the width
    allows (re-flowed on resize), so each one shows whole at any terminal width.
    """

    FIELD_WIDTH = 22

    def compose(self):  # type: ignore[no-untyped-def]
        with Grid(id="adv-grid"):
            yield Checkbox("lock seed", id="adv-lock", compact=True)
            for field in ADVANCED_FIELDS:
                with Horizontal(classes="adv-field"):
                    yield Label(field.label, classes="adv-label")
                    yield OrderedInput(placeholder=field.placeholder, id=f"adv-{field.name}",
                                       compact=True, classes="adv-input")
        with Horizontal(classes="adv-row"):
            yield Label("negative", classes="adv-label")
            yield OrderedInput(placeholder="what to avoid", id="adv-negative", compact=True)

    def on_resize(self, event: events.Resize) -> None:
        columns = max(1, event.size.width // self.FIELD_WIDTH)
        self.query_one("#adv-grid", Grid).styles.grid_size_columns = columns


class Composer(Vertical):
    """Prompt, chips and hints at the bottom of the main screen."""

    @dataclass
    class Send(Message):
        """The person pressed Enter with ``text``."""

        text: str

    @dataclass
    class OpenPicker(Message):
        """The model chip was pressed."""

    @dataclass
    class CyclePreset(Message):
        """The preset chip was pressed."""

    @dataclass
    class SeedLock(Message):
        """The advanced panel's "lock seed" box changed."""

        locked: bool

    @dataclass
    class FieldChanged(Message):
        """An advanced-panel field (``seed``, ``steps``, ``size``, ...) now reads ``value``."""

        name: str
        value: str

    def __init__(self, models: list[str], preset: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._chip_models = list(models)
        self._preset = preset
        self.models: Collection[str] = ()
        """Model names for completion."""
        self.themes: Collection[str] = ()
        """Theme names for completion."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="composer-hint")
        with Horizontal(id="composer-row"):
            yield PromptArea(id="prompt", soft_wrap=True, show_line_numbers=False, compact=True,
                             placeholder="Describe an image… (/ commands, ↑ history)")
            with Vertical(id="chips"):
                yield Button(self._chip_label(), id="model-chip", compact=True)
                yield Button(self._preset, id="preset-chip", compact=True)
                yield Static("", id="estimate")

    @property
    def prompt(self) -> PromptArea:
        return self.query_one(PromptArea)

    def _chip_label(self) -> str:
        chip = self.query("#model-chip")
        room = chip.first().content_size.width if chip and chip.first().is_mounted else 0
        return chip_label(self._chip_models, room or CHIP_ROOM)

    def on_resize(self) -> None:
        self.query_one("#model-chip", Button).label = self._chip_label()

    def show_options(self, models: list[str], preset: str, estimate: str,
                     advanced: dict[str, str] | None = None, seed_locked: bool = False) -> None:
        """Redraw chips (and the advanced panel's fields, when given) after the options changed."""
        self._chip_models, self._preset = list(models), preset
        chip = self.query_one("#model-chip", Button)
        chip.label = self._chip_label()
        chip.tooltip = " + ".join(models) if len(models) > 1 else None
        self.query_one("#preset-chip", Button).label = preset
        self.query_one("#estimate", Static).update(estimate)
        if advanced is not None:
            self.fill_advanced(advanced, seed_locked)

    def show_error(self, text: str) -> None:
        """An inline error above the prompt; the prompt text stays."""
        hint = self.query_one("#composer-hint", Static)
        hint.update(Text(f"✗ {text}"))
        hint.set_class(True, "-error")

    def show_info(self, text: str) -> None:
        hint = self.query_one("#composer-hint", Static)
        hint.update(Text(text))
        hint.set_class(False, "-error")

    @property
    def hint_text(self) -> str:
        """What the hint line shows (for tests and screen readers)."""
        return str(self.query_one("#composer-hint", Static).render())

    def clear(self) -> None:
        """Empty the prompt (the hint line stays: it may say what just happened)."""
        with self.prevent(TextArea.Changed):
            self.prompt.load_text("")
        self.prompt.completions = []
        self.prompt.recalling = False

    def restore(self, text: str) -> None:
        """Put text back after a failed send (the hint line stays for the reason)."""
        with self.prevent(TextArea.Changed):
            self.prompt.load_text(text)
        self.prompt.completions = []
        self.prompt.recalling = False
        self.prompt.move_cursor(self.prompt.document.end)

    def recall(self, text: str) -> None:
        """Show a prompt from the history (Up/Down keep walking until it is edited)."""
        self.restore(text)
        self.prompt.recalling = True

    def show_editing(self, label: str | None) -> None:
        """Mark the composer as editing a message to send again as a branch (``None``: not)."""
        self.set_class(label is not None, "-editing")
        if label is not None:
            self.show_info(label)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.prompt.recalling = False
        text = event.text_area.text
        completions = slash.complete(text, self.models, self.themes)
        completions = [c for c in completions if c.rstrip() != text.rstrip()]
        self.prompt.completions = completions
        if completions:
            self.show_info("tab → " + "   ".join(c.strip() for c in completions[:6]))
        elif text.startswith("/"):
            name = text[1:].split(" ", 1)[0].lower()
            spec = slash.SPEC_BY_NAME.get(name)
            self.show_info(f"{spec.usage} — {spec.help}" if spec else "")
        elif self.query_one("#composer-hint", Static).has_class("-error") and not text:
            self.show_info("")

    def on_prompt_area_submitted(self, event: PromptArea.Submitted) -> None:
        event.stop()
        if event.text.strip():
            self.post_message(self.Send(event.text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "model-chip":
            event.stop()
            self.post_message(self.OpenPicker())
        elif event.button.id == "preset-chip":
            event.stop()
            self.post_message(self.CyclePreset())

    async def toggle_advanced(self, values: dict[str, str], seed_locked: bool) -> None:
        """Show or hide the advanced panel (built on first use, to keep start-up light)."""
        found = self.query("#advanced")
        if not found:
            await self.mount(AdvancedPanel(id="advanced"))
            self.fill_advanced(values, seed_locked)
            return
        panel = found.first()
        panel.display = not panel.display
        if panel.display:
            self.fill_advanced(values, seed_locked)

    def fill_advanced(self, values: dict[str, str], seed_locked: bool) -> None:
        """Show ``values`` in the advanced panel's fields (when it is open)."""
        if not self.query("#advanced"):
            return
        with self.prevent(Input.Changed, Checkbox.Changed):
            for name, value in values.items():
                field = self.query_one(f"#adv-{name}", Input)
                if field.value != value and not field.has_focus:
                    field.value = value
            self.query_one("#adv-lock", Checkbox).value = seed_locked

    def mark_field(self, name: str, error: str | None) -> None:
        """Mark an advanced-panel field invalid (with the reason above the prompt) or valid."""
        field = self.query_one(f"#adv-{name}", Input)
        field.set_class(error is not None, "-invalid")
        if error is not None:
            self.show_error(error)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.SeedLock(event.value))

    def on_input_changed(self, event: Input.Changed) -> None:
        if not (event.input.id or "").startswith("adv-"):
            return
        event.stop()
        self.post_message(self.FieldChanged((event.input.id or "")[4:], event.value))
