"""The help screen: every key (after the user's keymap) and every slash command."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
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


def table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]],
          styles: tuple[str, ...]) -> Content:
    """Rows as aligned columns (two spaces apart; the last column is not padded), with a bold
    header and a style per column (theme variables such as ``$text-muted``)."""
    body = [header, *rows]
    widths = [max(len(row[index]) for row in body) for index in range(len(header))]
    lines: list[Content] = []
    for number, row in enumerate(body):
        cells: list[tuple[str, str]] = []
        for index, cell in enumerate(row):
            last = index == len(row) - 1
            text = cell if last else cell.ljust(widths[index]) + "  "
            cells.append((text, "bold" if number == 0 else styles[index]))
        lines.append(Content.assemble(*cells))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Keys and commands; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "close", "Close", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.rows = rows

    def compose(self):  # type: ignore[no-untyped-def]
        keys = table(("area", "keys", "does", "keymap id"), self.rows,
                     ("$text-muted", "bold", "", "$text-muted"))
        commands = table(("command", "does"), help_lines(), ("bold", ""))
        with Vertical(classes="dialog help"):
            yield Label("chatimg — keys and commands", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(keys)
                yield Static("")
                yield Static(commands)
                yield Static(Content.styled(
                    "\nRemap keys in config.toml: [keymap] card.regenerate = \"g\"",
                    "$text-muted"))

    def action_close(self) -> None:
        self.dismiss(None)
