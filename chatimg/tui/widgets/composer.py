"""The composer: multi-line prompt, model chip, preset chip, slash-command hints, advanced panel.

Enter sends; Shift+Enter or Ctrl+J inserts a newline; Tab completes a slash command. The
composer only announces (``Composer.Send``); the screen decides what happens, and calls back
``show_error`` (text kept) or ``clear`` (accepted).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from chatimg.tui import slash
from chatimg.tui.options import PRESETS, ComposerOptions


class PromptArea(TextArea):
    """A TextArea where Enter submits and Shift+Enter / Ctrl+J add a line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,shift+enter", "newline", "Newline", show=False, id="composer.newline"),
    ]

    @dataclass
    class Submitted(Message):
        """Enter was pressed."""

        area: PromptArea
        text: str

    completions: list[str] = []

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        if event.key == "tab" and self.completions:
            event.stop()
            event.prevent_default()
            self.load_text(self.completions[0])
            self.move_cursor(self.document.end)
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")


class AdvancedPanel(Vertical):
    """Seed lock, steps, guidance, scheduler, size, negative prompt, count."""

    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("seed", "seed", "random"), ("steps", "steps", "default"),
        ("guidance", "guidance", "default"), ("scheduler", "scheduler", "default"),
        ("size", "size", "WxH"), ("n", "count", "1"),
    )

    def compose(self):  # type: ignore[no-untyped-def]
        with Horizontal(classes="adv-row"):
            yield Checkbox("lock seed", id="adv-lock", compact=True)
            for name, label, placeholder in self.FIELDS:
                yield Label(label, classes="adv-label")
                yield Input(placeholder=placeholder, id=f"adv-{name}", compact=True,
                            classes="adv-input")
        with Horizontal(classes="adv-row"):
            yield Label("negative", classes="adv-label")
            yield Input(placeholder="what to avoid", id="adv-negative", compact=True)


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
    class OptionsChanged(Message):
        """The advanced panel or preset changed the options."""

    def __init__(self, options: ComposerOptions, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.options = options
        self.models: Collection[str] = ()
        self.themes: Collection[str] = ()
        self.estimate = ""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="composer-hint")
        with Horizontal(id="composer-row"):
            yield PromptArea(id="prompt", soft_wrap=True, show_line_numbers=False,
                             compact=True, placeholder="Describe an image… (/ for commands)")
            with Vertical(id="chips"):
                yield Button(self._chip_label(), id="model-chip", compact=True)
                yield Button(self.options.preset, id="preset-chip", compact=True)
                yield Static("", id="estimate")

    @property
    def prompt(self) -> PromptArea:
        return self.query_one(PromptArea)

    def _chip_label(self) -> str:
        return "⧉ " + " + ".join(self.options.models)

    def refresh_options(self) -> None:
        """Redraw chips after the options changed."""
        self.query_one("#model-chip", Button).label = self._chip_label()
        self.query_one("#preset-chip", Button).label = self.options.preset
        self.query_one("#estimate", Static).update(self.estimate)

    def show_error(self, text: str) -> None:
        """An inline error above the prompt; the prompt text stays."""
        hint = self.query_one("#composer-hint", Static)
        hint.update(Text(f"✗ {text}", style="bold"))
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
        self.prompt.load_text("")

    def restore(self, text: str) -> None:
        """Put text back after a failed send."""
        self.prompt.load_text(text)
        self.prompt.move_cursor(self.prompt.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
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
            self.cycle_preset()

    def cycle_preset(self) -> None:
        index = PRESETS.index(self.options.preset) if self.options.preset in PRESETS else 0
        self.options.preset = PRESETS[(index + 1) % len(PRESETS)]
        self.refresh_options()
        self.post_message(self.OptionsChanged())

    async def toggle_advanced(self) -> None:
        """Show or hide the advanced panel (built on first use, to keep start-up light)."""
        found = self.query("#advanced")
        if not found:
            await self.mount(AdvancedPanel(id="advanced"))
            self._fill_advanced()
            return
        panel = found.first()
        panel.display = not panel.display
        if panel.display:
            self._fill_advanced()

    def _fill_advanced(self) -> None:
        o = self.options
        values = {"seed": "" if o.seed is None else str(o.seed),
                  "steps": "" if o.steps is None else str(o.steps),
                  "guidance": "" if o.guidance is None else f"{o.guidance:g}",
                  "scheduler": o.scheduler or "",
                  "size": f"{o.width}x{o.height}" if o.width and o.height else "",
                  "n": "" if o.count == 1 else str(o.count), "negative": o.negative or ""}
        with self.prevent(Input.Changed, Checkbox.Changed):
            for name, value in values.items():
                self.query_one(f"#adv-{name}", Input).value = value
            self.query_one("#adv-lock", Checkbox).value = o.seed_locked

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.options.seed_locked = event.value
        self.post_message(self.OptionsChanged())

    def on_input_changed(self, event: Input.Changed) -> None:
        if not (event.input.id or "").startswith("adv-"):
            return
        event.stop()
        name = (event.input.id or "")[4:]
        value = event.value.strip()
        try:
            self._apply_field(name, value)
        except slash.SlashError as exc:
            event.input.set_class(True, "-invalid")
            self.show_error(str(exc))
            return
        event.input.set_class(False, "-invalid")
        self.show_info(self.options.summary())
        self.post_message(self.OptionsChanged())

    def _apply_field(self, name: str, value: str) -> None:
        o = self.options
        if name == "negative":
            o.negative = value or None
        elif name == "seed":
            o.seed = slash.parse_seed(value) if value else None
            o.seed_locked = o.seed is not None
            with self.prevent(Checkbox.Changed):
                self.query_one("#adv-lock", Checkbox).value = o.seed_locked
        elif not value:
            if name == "size":
                o.width = o.height = None
            elif name == "n":
                o.count = 1
            else:
                setattr(o, name, None)
        else:
            o.apply(slash.parse(f"/{name} {value}"))
