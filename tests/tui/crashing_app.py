"""Run ``chatimg`` (its real entry point) with a crash injected into the app after it starts.

Used by ``test_exit_code`` in a subprocess on a pseudo-terminal: the app mounts, then a timer
raises ``RuntimeError("injected crash")`` inside Textual's event loop, as a bug would.
"""

from __future__ import annotations

from chatimg.cli import main
from chatimg.tui.app import ChatImgApp

_original_on_mount = ChatImgApp.on_mount


def _crash() -> None:
    raise RuntimeError("injected crash")


def _on_mount(self: ChatImgApp) -> None:
    _original_on_mount(self)
    self.set_timer(0.2, _crash)


ChatImgApp.on_mount = _on_mount  # type: ignore[method-assign]

if __name__ == "__main__":
    main([])
