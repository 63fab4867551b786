"""Asking the terminal what it draws: one round of queries, read to its end.

The app asks before it runs (``configure_images``), on a real pseudo-terminal here: the test
plays the terminal on the master side, answering late (0.3 s: a busy machine, or SSH), and
the app runs in a child process on the slave side as it would in a terminal window.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from chatimg.termimage import detect

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals")

SIXEL_XTERM = "\x1b[?63;1;2;4;6;9;15;16;17;18;21;22;28c"  # xterm -ti vt340's answer
PLAIN = "\x1b[?62;22c"
KITTY_OK = "\x1b_Gi=31;OK\x1b\\"
CELL_9X17 = "\x1b[6;17;9t"

CHILD = """
import json, os, select, sys, termios, tty
from chatimg.tui.widgets.image import cell_pixels, configure_images, textual_image_widgets
protocol = configure_images("auto", {"TERM": "xterm-256color"})
widgets = textual_image_widgets()  # (as the compare screen imports it, once the app runs)
from textual_image._terminal import get_cell_size
fd = sys.stdin.fileno()
tty.setcbreak(fd, termios.TCSANOW)  # (TCSAFLUSH would drop what is left)
left = b""
while select.select([fd], [], [], 0.5)[0]:  # what the terminal sent that nobody read
    left += os.read(fd, 1024)
size = get_cell_size()
print("done", flush=True)
with open(sys.argv[1], "w") as out:
    json.dump({"protocol": protocol, "cell": list(cell_pixels()),
               "textual_image_cell": [size.width, size.height],
               "left": left.decode("latin-1")}, out)
"""


def play_terminal(tmp_path: Path, answer: str, delay: float) -> tuple[dict[str, object], str]:
    """Run ``CHILD`` on a pty; answer its first queries after ``delay`` seconds. Returns what
    the child found and everything it wrote to the terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # no pixels
    result = tmp_path / "result.json"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(result)], stdin=slave,
                             stdout=slave, stderr=subprocess.PIPE, start_new_session=True)
    os.close(slave)
    written = ""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while "done" not in written and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    written += os.read(master, 4096).decode("latin-1")
                except OSError:  # (the child closed the terminal)
                    break
            if not answered and detect.ATTRIBUTES_QUERY in written:
                time.sleep(delay)
                os.write(master, answer.encode("latin-1"))
                answered = True
        _, errors = child.communicate(timeout=60)
    finally:
        child.kill()
        os.close(master)
    assert child.returncode == 0, errors.decode(errors="replace")[-2000:]
    return json.loads(result.read_text()), written


def test_late_answers_are_read_to_the_end_and_nothing_is_left_as_keys(tmp_path: Path) -> None:
    found, written = play_terminal(tmp_path, CELL_9X17 + SIXEL_XTERM, delay=0.3)
    assert found["protocol"] == "sixel"
    assert found["left"] == ""  # (textual-image's 0.1 s wait left the answer to be typed)
    assert found["cell"] == [9, 17]
    # one round of queries, sent once: importing textual-image later asks nothing
    assert written.count(detect.ATTRIBUTES_QUERY) == 1
    assert written.count(detect.CELL_QUERY) == 1 and written.count("\x1b_G") == 1
    assert found["textual_image_cell"] == [9, 17]


def test_kitty_is_read_from_its_answer_before_the_attributes(tmp_path: Path) -> None:
    found, _ = play_terminal(tmp_path, KITTY_OK + PLAIN, delay=0.0)
    assert found["protocol"] == "kitty"
    assert found["cell"] == list(detect.DEFAULT_CELL)  # (no cell answer, no pixels in the pty)
    assert found["left"] == ""


def test_a_terminal_sending_junk_gets_half_cells_and_the_app_starts(tmp_path: Path) -> None:
    found, _ = play_terminal(tmp_path, "\x1b[?" + "4;" * 20_000, delay=0.0)
    assert found["protocol"] == "halfcell"
    assert found["cell"] == list(detect.DEFAULT_CELL)


@pytest.mark.parametrize(("received", "expected"), [
    (SIXEL_XTERM, detect.Answers(sixel=True)),
    (PLAIN, detect.Answers()),
    (KITTY_OK + CELL_9X17 + PLAIN, detect.Answers(kitty=True, cell=(9, 17))),
    ("\x1b_Gi=31;ENOTSUPPORTED:no graphics\x1b\\" + PLAIN, detect.Answers()),
    (KITTY_OK + SIXEL_XTERM, detect.Answers(sixel=True, kitty=True)),
    ("\x1b[6;0;0t" + PLAIN, detect.Answers()),  # (a cell of no pixels is no answer)
])
def test_answers_are_read_from_what_the_terminal_sent(received: str,
                                                      expected: detect.Answers) -> None:
    assert detect.read_answers(received) == expected
    # until the attributes' answer is whole, the round is not over
    assert detect.read_answers(received[:-1]) is None


def test_sixel_wins_over_kitty_and_silence_is_no_protocol() -> None:
    assert detect.Answers(sixel=True, kitty=True).protocol == "sixel"
    assert detect.Answers(kitty=True).protocol == "kitty"
    assert detect.Answers().protocol is None


def test_without_a_terminal_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "__stdin__", io.StringIO(""))
    assert detect.ask_terminal() is None
