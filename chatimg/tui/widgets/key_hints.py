"""The footer's key hints: rebuilt only when what they show changes, and mounted just after the
first paint in a row kept for them from the first frame on.

Textual's ``Footer`` rebuilds every hint (a widget per key, each restyled twice) after each
change of the screen's bindings, and every focus change is one: moving from card to card, or
coming back from the viewer, rebuilt the same hints two or three times over (~35 ms each on
this project's machines, on the keypress's own frames). ``KeyHints`` rebuilds them once per
refresh at most, and only when the hints shown differ.

The first paint does not wait for the hints either. Mounting the footer later
(``textual.lazy.Lazy``) gave the screen's body one row less after the first frame, which laid
out and redrew the whole screen a second time; ``LateFooter`` holds the row instead, with the
footer's background, and the hints take its place in one update.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer


class KeyHints(Footer):
    """A ``Footer`` that is rebuilt only when the hints it shows change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: Hashable = None
        """What the hints on screen were built from (``_hints``)."""
        self._due = False
        """A look at the bindings is queued for after the next refresh."""

    def _hints(self) -> Hashable:
        """Everything of the screen's bindings that the hints show."""
        app = self.app
        palette = app.COMMAND_PALETTE_BINDING
        return (self.compact, self.show_command_palette, tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action,
             binding.group, enabled, tooltip, binding.tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette))

    def compose(self):  # type: ignore[no-untyped-def]
        self._shown = self._hints() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._due:  # (several changes before a refresh: one look)
            self._due = True
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._due = False
        if self.is_attached and self._hints() != self._shown:
            await self.recompose()


class LateFooter(Widget):
    """A one-row stand-in docked where the footer goes, replaced by ``KeyHints`` after the
    first frame."""

    DEFAULT_CSS = """
    LateFooter { dock: bottom; height: 1; background: $footer-background; }
    """

    def render(self) -> str:
        return ""  # (an empty row: a plain widget would show its own name)

    def on_mount(self) -> None:
        self.call_after_refresh(self._replace)

    async def _replace(self) -> None:
        parent = self.parent
        if not isinstance(parent, Widget) or not self.is_attached:
            return
        with self.app.batch_update():  # (no frame with both, or with neither)
            await parent.mount(KeyHints(), after=self)
            await self.remove()
