"""Which image protocol to use: ``CHATIMG_IMAGES``, then the environment, then the terminal.

``CHATIMG_IMAGES=kitty|sixel|iterm|halfcell`` forces a protocol; ``auto`` (the default) reads
what terminals announce about themselves (``KITTY_WINDOW_ID``, ``TERM_PROGRAM``, ``WEZTERM_*``,
``LC_TERMINAL``, ``TERM``) and, when that says nothing, asks the terminal the questions
textual-image asks (device attributes for Sixel, a Kitty graphics query) before the app
starts. Inside tmux or screen only what the multiplexer itself answers counts (the outer
terminal's variables leak in), so tmux gets half cells unless it draws Sixel itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from chatimg.errors import ConfigError
from chatimg.termimage import PROTOCOLS, Protocol

MODES = (*PROTOCOLS, "auto")
DEFAULT_CELL = (10, 20)


def requested(env: Mapping[str, str]) -> str:
    """``CHATIMG_IMAGES`` as one of ``kitty sixel iterm halfcell auto`` (default ``auto``).

    Raises:
        ConfigError: Any other value.
    """
    value = env.get("CHATIMG_IMAGES", "").strip().lower() or "auto"
    if value not in MODES:
        raise ConfigError(f"CHATIMG_IMAGES={value!r} is not an image mode",
                          f"use one of: {', '.join(MODES)}")
    return value


def in_multiplexer(env: Mapping[str, str]) -> bool:
    """Whether we run inside tmux or GNU screen."""
    term = env.get("TERM", "")
    return bool(env.get("TMUX") or env.get("STY")) or term.startswith(("tmux", "screen"))


def from_environment(env: Mapping[str, str]) -> Protocol | None:
    """The protocol a terminal announces through its environment, or ``None`` if unsure."""
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "")
    if env.get("KITTY_WINDOW_ID") or term == "xterm-kitty":
        return "kitty"
    if program.lower() == "ghostty" or term == "xterm-ghostty":
        return "kitty"
    if program == "WezTerm" or any(key.startswith("WEZTERM_") for key in env):
        return "iterm"  # WezTerm's Kitty support lacks the placeholders; iTerm2 images work
    if program == "iTerm.app" or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    if program == "mintty":
        return "iterm"
    if term.startswith(("foot", "mlterm", "contour")):
        return "sixel"
    return None


def choose(mode: str, env: Mapping[str, str],
           probe: Callable[[], Protocol | None] = lambda: None) -> Protocol:
    """The protocol to draw with.

    Args:
        mode: A value of ``requested`` (``auto`` or a protocol name).
        env: The environment (``os.environ``).
        probe: Asks the terminal itself; called only in ``auto`` mode when the environment
            is not conclusive. Returns ``sixel``, ``kitty`` or ``None``.

    Returns:
        ``kitty``, ``sixel``, ``iterm`` or ``halfcell``.
    """
    if mode != "auto":
        return mode  # type: ignore[return-value]
    if not in_multiplexer(env):
        announced = from_environment(env)
        if announced is not None:
            return announced
    answered = probe()
    if answered == "kitty" and in_multiplexer(env):
        return "halfcell"
    return answered or "halfcell"


def probe_terminal() -> Protocol | None:
    """Ask the terminal (before the app starts) whether it draws Sixel or Kitty graphics.

    Uses textual-image's queries: it sends them, with a short timeout, when it is imported
    and stdout is a terminal. Returns ``None`` when neither is answered or there is no
    terminal.
    """
    if not (sys.__stdout__ is not None and sys.__stdout__.isatty()
            and sys.__stdin__ is not None and sys.__stdin__.isatty()):
        return None
    try:
        from textual_image import renderable
    except Exception:  # no terminal to ask after all
        return None
    if renderable.Image is renderable.SixelImage:
        return "sixel"
    if renderable.Image is renderable.TGPImage:
        return "kitty"
    return None


def cell_size() -> tuple[int, int]:
    """Pixels per cell ``(width, height)`` from the terminal's window size, else 10x20.

    ``TEXTUAL_CELL_WIDTH``/``TEXTUAL_CELL_HEIGHT`` override it (as textual-serve sets them).
    """
    env_w, env_h = os.environ.get("TEXTUAL_CELL_WIDTH", ""), os.environ.get(
        "TEXTUAL_CELL_HEIGHT", "")
    if env_w.isdigit() and env_h.isdigit() and int(env_w) and int(env_h):
        return int(env_w), int(env_h)
    if sys.platform != "win32":
        import fcntl
        import struct
        import termios

        for stream in (sys.__stdout__, sys.__stderr__, sys.__stdin__):
            try:
                if stream is None or not stream.isatty():
                    continue
                packed = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
                rows, cols, width, height = struct.unpack("HHHH", packed)
            except (OSError, ValueError):
                continue
            if rows and cols and width and height:
                return max(1, width // cols), max(1, height // rows)
    return DEFAULT_CELL
