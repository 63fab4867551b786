"""Keys applied in the order they were typed.

Textual hands a key to the focused widget, which types printable characters at once; a key the
widget binds (Backspace, the arrows, Ctrl+K, Enter in an ``Input``…) is not acted on there but
bubbles up to the app, and only then runs the widget's action. Keys that arrive close together
(fast typing, a held Backspace, a busy moment such as a generation or a collection that lets
keys queue up) are therefore applied out of order: a Backspace lands after the letters typed
after it, and a filter or a prompt ends up with text nobody typed.

``KeysInOrder`` runs the focused widget's own bindings when their key reaches it, right after
the widget's own handling of the key, so every edit happens in the order of the keys. What the
bindings do is unchanged: the app's priority bindings were checked before the key reached the
widget, a binding whose action is disabled here lets the key bubble as before, and keys the
widget does not bind go on up to its ancestors.

``focus_now`` moves the focus before the next key is handled: ``Widget.focus`` only queues the
move behind the keys already waiting, so the keys typed right after Ctrl+L went to the widget
that had the focus before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widget import Widget
from textual.widgets import Input

if TYPE_CHECKING:
    _Mixin = Widget
else:  # a plain mixin at run time: Textual gathers CSS and component classes along the MRO
    _Mixin = object


class KeysInOrder(_Mixin):
    """Mix into an editing widget (before ``Input`` or ``TextArea``): its bindings run when
    their key arrives, not after the key has bubbled up to the app."""

    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)
        # (Textual has no public "was it stopped": a key the widget handled itself, such as
        # a typed character, is left alone)
        if event.is_printable or getattr(event, "_stop_propagation", False):
            return
        if await self._run_own_binding(event.key):
            event.stop()
            event.prevent_default()

    async def _run_own_binding(self, key: str) -> bool:
        """Run this widget's enabled, non-priority binding of ``key``; whether one ran."""
        active = self.screen.active_bindings.get(key)
        if active is None or active.node is not self or active.binding.priority \
                or not active.enabled:
            return False
        return await self.app.run_action(active.binding.action, self)


class OrderedInput(KeysInOrder, Input):
    """An ``Input`` whose editing keys keep their order with the characters typed around
    them."""


def focus_now(widget: Widget) -> None:
    """Focus ``widget`` at once when it is on the screen shown (keys typed next reach it),
    else as ``Widget.focus`` does, once the messages already queued are handled."""
    if widget.is_mounted and widget.screen.is_current:
        widget.screen.set_focus(widget)
    else:
        widget.focus()
