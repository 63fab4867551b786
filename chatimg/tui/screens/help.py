"""The help screen: every key (after the user's keymap) and every slash command.

The tables are Rich tables (for their column layout); their muted columns take the theme's
``$foreground-muted`` over the dialog's ``$panel``, resolved when the screen opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.style import Style as RichStyle
from rich.table import Table
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.style import Style
from textual.widgets import Label, Static

from chatimg.tui.slash import help_lines


def key_rows(
    groups: Iterable[tuple[str, Iterable[BindingType]]], keymap: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """(area, keys, description, binding id) for every binding with an id, keymap applied."""
    rows: list[tuple[str, str, str, str]] = []
    for area, bindings in groups:
        for binding in bindings:
            if not isinstance(binding, Binding) or not binding.id:
                continue
            keys = keymap.get(binding.id, binding.key)
            rows.append((area, keys.replace(",", " / "), binding.description or binding.action,
                         binding.id))
    return rows


class HelpScreen(ModalScreen[None]):
    """Keys and commands; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "close", "Close", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.rows = rows

    def compose(self):  # type: ignore[no-untyped-def]
        muted: RichStyle = Style.parse("$foreground-muted on $panel").rich_style
        keys = Table(box=None, show_header=True, header_style="bold", expand=True, pad_edge=False)
        keys.add_column("area", style=muted, no_wrap=True)
        keys.add_column("keys", style="bold", no_wrap=True)
        keys.add_column("does")
        keys.add_column("keymap id", style=muted, no_wrap=True)
        for area, key, description, binding_id in self.rows:
            keys.add_row(area, key, description, binding_id)
        commands = Table(box=None, show_header=True, header_style="bold", expand=True,
                         pad_edge=False)
        commands.add_column("command", style="bold", no_wrap=True)
        commands.add_column("does")
        for usage, text in help_lines():
            commands.add_row(usage, text)
        with Vertical(classes="dialog help"):
            yield Label("chatimg — keys and commands", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(keys)
                yield Static("")
                yield Static(commands)
                yield Static(Content.styled(
                    "\nRemap keys in config.toml: [keymap] \"card.regenerate\" = \"g\"",
                    "$foreground-muted"))

    def action_close(self) -> None:
        self.dismiss(None)
