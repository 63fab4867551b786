"""The readable receipt as Rich renderables: the viewer's narrow panel stacks each value under
its label (``receipt_text``); the ``i`` dialog, wider, puts them side by side
(``receipt_table``). Both show the same rows (``chatimg.receipt_view.receipt_rows``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from chatimg.receipt_view import receipt_rows

if TYPE_CHECKING:
    from chatimg import domain

TONES = {"ok": "green", "bad": "bold red", "note": "yellow"}
"""How a row's tone (``chatimg.receipt_view.ReceiptRow.tone``) is coloured."""


def receipt_text(generation: domain.Generation, image: int | None = None, *,
                 wins: int = 0) -> Text:
    """Each receipt row as a dim label line and its value indented under it.

    Args:
        generation: The generation to explain.
        image: Index of the image shown (its seed, size and checks); None for all.
        wins: How often the generation won a comparison.

    Returns:
        Text ready for a ``Static``; values are plain text (never read as markup).
    """
    text = Text()
    for row in receipt_rows(generation, image, wins=wins):
        if text:
            text.append("\n")
        text.append(f"{row.label}\n", style="dim")
        text.append(f"  {row.value}", style=TONES.get(row.tone, ""))
    return text


def receipt_table(generation: domain.Generation, image: int | None = None, *,
                  wins: int = 0) -> Table:
    """The same rows as ``receipt_text`` in two columns: label, then value (wrapped).

    Args:
        generation: The generation to explain.
        image: Index of the image shown (its seed, size and checks); None for all.
        wins: How often the generation won a comparison.

    Returns:
        A borderless table ready for a ``Static``.
    """
    table = Table(box=None, show_header=False, expand=True, pad_edge=False)
    table.add_column("label", style="dim", no_wrap=True)
    table.add_column("value", ratio=1, overflow="fold")
    for row in receipt_rows(generation, image, wins=wins):
        table.add_row(row.label, Text(row.value, style=TONES.get(row.tone, "")))
    return table
