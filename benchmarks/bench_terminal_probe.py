"""Asking the terminal what it draws, before the first paint (issue 15: first paint).

The app asks once, before it runs (``chatimg.termimage.detect.ask_terminal``: the Kitty
graphics query, the cell size and the device attributes in one round, read until the
attributes are answered). Until this change it imported textual-image, which asks the device
attributes and then, unless the terminal draws Sixel, the Kitty query, each with a 0.1 s
wait: a terminal without either (GNOME Terminal, Alacritty, Terminal.app) never answers the
Kitty query, so every start waited the whole 0.1 s for it.

Plays two terminals on a pseudo-terminal, each answering at once or 0.3 s late (a busy
machine, SSH), and prints for each the time to the protocol and what was chosen: the round
(``ask_terminal``) against textual-image's import, in the same run. Medians of ``RUNS``
child processes; each child times its own probe only (not Python's start).

Then, on the same pseudo-terminal (a VTE-like terminal answering at once, 120x40), the
launch of the ``chatimg`` command itself to its first frame written, against a one-label
Textual app (issue 15's first-paint floor): the first-paint bench in ``bench_tui`` runs
headless, where nothing is asked.

Run: ``.venv/bin/python benchmarks/bench_terminal_probe.py [--frame]`` (``--frame``: the first
frame only)
"""

from __future__ import annotations

import fcntl
import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from chatimg.termimage.detect import ATTRIBUTES_QUERY

RUNS = 7
TERMINALS = {
    "Sixel terminal (xterm -ti vt340)": "\x1b[?63;1;2;4;6;9;15;16;17;18;21;22;28c",
    "neither (VTE-like)": "\x1b[?65;1;9c",
}
OURS = """
import sys, time
from chatimg.termimage import detect
started = time.perf_counter()
answers = detect.ask_terminal()
took = time.perf_counter() - started
print("RESULT", took, answers.protocol if answers else None, flush=True)
"""
THEIRS = """
import sys, time
import textual_image._terminal  # (the package's own import, not its queries)
started = time.perf_counter()
from textual_image import renderable
took = time.perf_counter() - started
kind = {"sixel": "sixel", "tgp": "kitty"}.get(renderable.Image.__module__.rsplit(".", 1)[-1])
print("RESULT", took, kind, flush=True)
"""


MINIMAL = """
from textual.app import App
from textual.widgets import Label
class Minimal(App):
    def compose(self):
        yield Label("filter conversations")
Minimal().run()
"""
FRAME_MARK = "filter conversations"  # (the sidebar's filter in chatimg's first frame; the label)


def run_on_pty(argv: list[str], answer: str, delay: float, done: str,
               env: dict[str, str] | None = None) -> tuple[str, float]:
    """Run ``argv`` on a pty (120x40) whose terminal answers each device attributes query
    with ``answer`` after ``delay`` seconds and ignores the rest, until it has written
    ``done`` and a line end after it; returns what it wrote and the seconds from launch."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    launched = time.perf_counter()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                             start_new_session=True)
    os.close(slave)
    written, answered = "", 0
    deadline = time.monotonic() + 60
    try:
        while done not in written or (done == "RESULT"
                                      and "\n" not in written[written.index(done):]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{done!r} not written: {written[-300:]!r}")
            if select.select([master], [], [], 0.05)[0]:
                try:
                    written += os.read(master, 4096).decode("latin-1")
                except OSError:
                    break
            while written.count(ATTRIBUTES_QUERY) > answered:
                time.sleep(delay)
                os.write(master, answer.encode("latin-1"))
                answered += 1
        took = time.perf_counter() - launched
    finally:
        child.kill()
        child.wait(timeout=30)
        os.close(master)
    return written, took


def play(code: str, answer: str, delay: float) -> tuple[float, str | None]:
    """Run ``code`` on the pty's terminal; returns the time and protocol it printed."""
    written, _ = run_on_pty([sys.executable, "-c", code], answer, delay, "RESULT")
    _, took, kind = written[written.index("RESULT"):].splitlines()[0].split()
    return float(took), None if kind == "None" else kind


def first_frame(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from launch to the first frame (its ``FRAME_MARK``) on a VTE-like terminal."""
    _, took = run_on_pty(argv, TERMINALS["neither (VTE-like)"], 0.0, FRAME_MARK, env)
    return took


def main() -> None:
    if "--frame" not in sys.argv[1:]:
        probes()
    frames()


def probes() -> None:
    print(f"terminal queries before the first paint (median of {RUNS} starts each)")
    for name, answer in TERMINALS.items():
        for delay in (0.0, 0.3):
            ours = [play(OURS, answer, delay) for _ in range(RUNS)]
            theirs = [play(THEIRS, answer, delay) for _ in range(RUNS)]
            ours_s = statistics.median(took for took, _ in ours)
            theirs_s = statistics.median(took for took, _ in theirs)
            print(f"{name}, answering {'at once' if not delay else f'{delay:.1f} s late'}:")
            print(f"  one round  {ours_s * 1000:7.1f} ms -> {ours[0][1] or 'half cells'}")
            print(f"  textual-image's import {theirs_s * 1000:7.1f} ms -> "
                  f"{theirs[0][1] or 'half cells'}"
                  f"  (ratio {ours_s / theirs_s:.2f}x)")


def frames() -> None:
    # the first frame (its mark) is written whole: Textual writes each frame at once
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CHATIMG_HOME": home, "TERM": "xterm-256color"}
        for name in ("CHATIMG_IMAGES", "TMUX", "STY", "KITTY_WINDOW_ID", "TERM_PROGRAM"):
            env.pop(name, None)
        chatimg = [str(Path(sys.executable).with_name("chatimg"))]
        first_frame(chatimg, env)  # (the store made once, not timed)
        floor, app = [], []
        for _ in range(RUNS):  # (alternating)
            floor.append(first_frame([sys.executable, "-c", MINIMAL], env))
            app.append(first_frame(chatimg, env))
    floor_s, app_s = statistics.median(floor), statistics.median(app)
    print(f"launch -> first frame on a pty (VTE-like, 120x40; median of {RUNS}): one-label "
          f"Textual app {floor_s * 1000:.0f} ms, chatimg {app_s * 1000:.0f} ms"
          f"  (ratio {app_s / floor_s:.2f}x)")


if __name__ == "__main__":
    main()
