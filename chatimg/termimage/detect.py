"""Which image protocol to use: ``CHATIMG_IMAGES``, then the environment, then the terminal.

``CHATIMG_IMAGES=kitty|sixel|iterm|halfcell`` forces a protocol; ``auto`` (the default) reads
what terminals announce about themselves (``KITTY_WINDOW_ID``, ``TERM_PROGRAM``, ``WEZTERM_*``,
``LC_TERMINAL``, ``TERM``) and, when that says nothing, asks the terminal before the app
starts (``ask_terminal``: a Kitty graphics query, the cell size and the device attributes,
in one round trip read to its end). Inside tmux or screen only what the multiplexer itself
answers counts (the outer terminal's variables leak in), so tmux gets half cells unless it
draws Sixel itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from time import monotonic

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
    if term in ("linux", "dumb"):  # (the Linux console draws no images: nothing to ask it)
        return "halfcell"
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


KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
"""A Kitty graphics query (a 1x1 image, not stored): terminals with Kitty graphics answer
``ESC _ G i=31;OK ESC \\``, the others ignore it."""
CELL_QUERY = "\x1b[16t"
"""XTWINOPS 16: the cell's size in pixels, answered ``CSI 6 ; height ; width t``."""
ATTRIBUTES_QUERY = "\x1b[c"
"""Primary device attributes (DA1): every VT100-like terminal answers ``CSI ? ... c``, Sixel
terminals with a 4 among its numbers. Sent last: terminals answer in order, so its answer
closes the round."""
PROBE_TIMEOUT = 2.0
"""How long to wait for the device attributes (seconds). A local terminal answers in a few
milliseconds; over SSH, or on a busy machine, it can take a few hundred."""

PROBE_LIMIT = 16384
"""Most characters read in a round before giving up (the answers take under 100)."""

_ATTRIBUTES = re.compile(r"\x1b\[\?([0-9;]*)c")
_KITTY = re.compile(r"\x1b_Gi=31;([^\x1b]*)\x1b\\")
_CELL = re.compile(r"\x1b\[6;([0-9]+);([0-9]+)t")


@dataclass(frozen=True)
class Answers:
    """What a terminal said about itself in one round of queries."""

    sixel: bool = False
    kitty: bool = False
    cell: tuple[int, int] | None = None
    """Pixels per cell ``(width, height)``, when it answered."""

    @property
    def protocol(self) -> Protocol | None:
        """Sixel before Kitty (as textual-image orders them: the terminals that announce both,
        Konsole and WezTerm, draw Sixel and not Kitty's placeholders)."""
        return "sixel" if self.sixel else "kitty" if self.kitty else None


def read_answers(received: str) -> Answers | None:
    """The answers in what the terminal sent back, or ``None`` while the device attributes,
    the last answer of the round, have not all arrived."""
    attributes = _ATTRIBUTES.search(received)
    if attributes is None:
        return None
    before = received[:attributes.start()]
    kitty = _KITTY.search(before)
    cell = _CELL.search(before)
    width, height = (int(cell.group(2)), int(cell.group(1))) if cell else (0, 0)
    return Answers(sixel="4" in attributes.group(1).split(";"),
                   kitty=kitty is not None and kitty.group(1) == "OK",
                   cell=(width, height) if width and height else None)


def ask_terminal(timeout: float = PROBE_TIMEOUT) -> Answers | None:
    """Ask the terminal (before the app starts) what it draws, in one round trip.

    Sends the Kitty graphics query, the cell size query and the device attributes, and reads
    until the device attributes are answered, so no answer is left to arrive later as keys
    typed into the app. Returns ``None`` without a terminal on stdin and stdout, or when it
    does not answer within ``timeout`` seconds. Keys typed during the round are dropped.
    """
    stdin, stdout = sys.__stdin__, sys.__stdout__
    if (sys.platform == "win32" or stdin is None or stdout is None
            or not stdin.isatty() or not stdout.isatty()):
        return None
    import select
    import termios
    import tty

    fd = stdin.fileno()
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        return None
    received = ""
    deadline = monotonic() + timeout
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # (answers read at once, and not echoed)
        stdout.write(KITTY_QUERY + CELL_QUERY + ATTRIBUTES_QUERY)
        stdout.flush()
        while (left := deadline - monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 1024)
            if not chunk or len(received) > PROBE_LIMIT:  # (no answer is this long)
                break
            received += chunk.decode("latin-1")
            answers = read_answers(received)
            if answers is not None:
                return answers
        return None
    except (OSError, termios.error):
        return None
    finally:
        with contextlib.suppress(OSError, termios.error):  # (the terminal went away)
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def cell_size(answered: tuple[int, int] | None = None) -> tuple[int, int]:
    """Pixels per cell ``(width, height)`` from the terminal's window size, else what the
    terminal ``answered`` to the cell size query (``Answers.cell``), else 10x20.

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
    return answered or DEFAULT_CELL
