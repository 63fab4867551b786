"""The footer's row, kept from the first frame on, with the key hints mounted after it.

Textual's ``Footer`` builds a widget per key hint: a frame's worth of work that the first paint
does not wait for. Mounting the footer later (``textual.lazy.Lazy``) used to give the screen's
body one row less after the first frame, which laid out and redrew the whole screen a second
time (~35 ms, and a visible jump of the composer). ``LateFooter`` holds the row instead, with
the footer's background, and the ``Footer`` takes its place in one update: only that row is
drawn again.
"""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Footer


class LateFooter(Widget):
    """A one-row stand-in docked where the ``Footer`` goes, replaced by it after the first
    frame."""

    DEFAULT_CSS = """
    LateFooter { dock: bottom; height: 1; background: $footer-background; }
    """

    def on_mount(self) -> None:
        self.call_after_refresh(self._replace)

    async def _replace(self) -> None:
        parent = self.parent
        if not isinstance(parent, Widget) or not self.is_attached:
            return
        with self.app.batch_update():  # (no frame with both, or with neither)
            await parent.mount(Footer(), after=self)
            await self.remove()
