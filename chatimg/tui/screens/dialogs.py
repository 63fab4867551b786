"""Small modal dialogs: confirm, ask for a line of text, show a receipt."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from chatimg.receipt_view import raw_receipt
from chatimg.tui.widgets.receipt import receipt_table
from chatimg.tui.widgets.typing_order import OrderedInput

if TYPE_CHECKING:
    from chatimg import domain


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no question; ``y``/``n``/Escape answer it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, question: str, confirm: str = "Delete") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.confirm = confirm

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm} (y)", id="yes", variant="error", compact=True)
                yield Button("Cancel (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class AskScreen(ModalScreen[str | None]):
    """Ask for one line of text (rename, mask path)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OrderedInput(self.value, placeholder=self.placeholder, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReceiptScreen(ModalScreen[None]):
    """A generation's receipt as rows a creator can scan (model, version, seed, steps, size,
    time, cost, checks, lineage: the viewer's panel); ``r`` toggles the raw JSON, read-only
    and selectable for copying."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="dialog.close"),
        Binding("r", "toggle_raw", "Raw JSON", id="receipt.raw"),
    ]

    def __init__(self, title: str, generation: domain.Generation, image: int | None = None,
                 wins: int = 0) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.generation = generation
        self.image = image
        self.wins = wins
        self.raw = False

    @property
    def text(self) -> str:
        """The raw receipt: everything stored about the generation, as JSON."""
        return raw_receipt(self.generation)

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical(classes="dialog receipt"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(id="receipt-rows"):
                yield Static(receipt_table(self.generation, self.image, wins=self.wins))
            yield TextArea(self.text, read_only=True, id="receipt-text", show_line_numbers=False)
            yield Label("r raw JSON · esc closes", classes="dim", id="receipt-keys")

    def on_mount(self) -> None:
        self.query_one("#receipt-text").display = False
        self.query_one("#receipt-rows").focus()

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        raw = self.query_one("#receipt-text", TextArea)
        rows = self.query_one("#receipt-rows")
        raw.display, rows.display = self.raw, not self.raw
        (raw if self.raw else rows).focus()
        self.query_one("#receipt-keys", Label).update(
            "r readable receipt · ctrl+c copies the selection · esc closes" if self.raw
            else "r raw JSON · esc closes")

    def action_close(self) -> None:
        self.dismiss(None)
