"""Issue 12 item 3: chatimg in a real Sixel terminal (xterm as a VT340) on a virtual X server.

Two posters are made with the CLI; ``chatimg`` then opens in ``xterm -ti vt340`` under Xvfb
with ``CHATIMG_IMAGES`` unset, so it must detect Sixel by asking the terminal. Screenshots
(``xwd -root``) must show the red-and-yellow poster's own pixels (PSNR against the stored
image, and far more colours than xterm's 16), and after a mouse-wheel scroll the poster
must have moved with the thread, clipped, with nothing of it left behind. ``.ci/run``
installs xterm, xvfb, x11-apps and xdotool; in CI the test never skips.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.termimage.decoders import psnr
from tests.termimage.xwd import read_xwd

TOOLS = ("xterm", "Xvfb", "xwd", "xdotool")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]
if MISSING and os.environ.get("CI") == "true":
    pytest.fail(f"CI needs {', '.join(MISSING)} (.ci/run installs them)", pytrace=False)
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)}")

CHATIMG = Path(sys.executable).with_name("chatimg")


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb server; yields its display name."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0",
                               "1000x700x24", "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 15)
        assert ready, "Xvfb did not start"
        number = os.read(read_end, 32).decode().strip()
        assert number.isdigit(), f"Xvfb said {number!r}"
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


def screenshot(display: str) -> Image.Image:
    done = subprocess.run(["xwd", "-root", "-silent", "-display", display],
                          capture_output=True, timeout=10, check=True)
    return read_xwd(done.stdout)


def poster_box(shot: Image.Image, min_width: int) -> tuple[int, int, int, int] | None:
    """The box of the red-and-yellow poster: the longest run of rows with at least
    ``min_width`` warm pixels, and the columns warm in most of those rows."""
    pixels = np.asarray(shot, dtype=np.int32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    warm = (red > 150) & (red - blue > 60) & (green > 20)
    dense = warm.sum(axis=1) >= min_width
    best: tuple[int, int] | None = None
    start = None
    for y, flag in enumerate([*dense.tolist(), False]):
        if flag and start is None:
            start = y
        elif not flag and start is not None:
            if best is None or y - start > best[1] - best[0]:
                best = (start, y)
            start = None
    if best is None:
        return None
    columns = np.nonzero(warm[best[0]:best[1]].sum(axis=0) >= 0.5 * (best[1] - best[0]))[0]
    if not len(columns):
        return None
    return int(columns.min()), best[0], int(columns.max()) + 1, best[1]


def wait_for_box(display: str, check: Callable[[tuple[int, int, int, int]], bool],
                 min_width: int, what: str,
                 timeout: float = 20.0) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Screenshots until the poster's box passes ``check`` and is the same in two shots in a
    row (xterm draws a frame progressively; a shot may catch it half drawn)."""
    deadline = time.monotonic() + timeout
    previous: tuple[int, int, int, int] | None = None
    while True:
        shot = screenshot(display)
        box = poster_box(shot, min_width)
        if box is not None and check(box) and box == previous:
            return shot, box
        previous = box
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last box {box})")
        time.sleep(0.3)  # another process draws: nothing to await


def make_posters(home: Path) -> Path:
    env = {**os.environ, "CHATIMG_HOME": str(home)}

    def gen(*args: str) -> dict[str, object]:
        done = subprocess.run([str(CHATIMG), "gen", *args, "-m", "layout", "-q", "--json"],
                              env=env, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    first = gen('a poster that says "FIRST" in blue and green', "--seed", "3")
    conversation = str(first["conversation_id"])
    second = gen('a poster that says "XTERM" in red and yellow', "--seed", "7",
                 "--conversation", conversation)
    state = home / "data" / "state.json"
    state.write_text(json.dumps({"conversation_id": conversation}), encoding="utf-8")
    generation = second["generations"][0]  # type: ignore[index]
    return Path(generation["assets"][0]["path"])


def test_sixel_poster_in_xterm(display: str, home: Path) -> None:
    source_path = make_posters(home)
    with Image.open(source_path) as opened:
        source = opened.convert("RGB")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "CHATIMG_HOME": str(home), "DISPLAY": display, "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "HF_HUB_OFFLINE": "1"}
    terminal = subprocess.Popen(
        ["xterm", "-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340",
         "-xrm", "XTerm*numColorRegisters: 256", "-geometry", "120x34+0+0",
         "-e", str(CHATIMG)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the newest card is in view: the whole (square) poster
        shot, box = wait_for_box(display, lambda b: b[2] - b[0] >= 100 and
                                 b[3] - b[1] >= 0.9 * (b[2] - b[0]), 60, "the poster",
                                 timeout=40.0)
        x0, y0, x1, y1 = box
        width = x1 - x0
        drawn = shot.crop(box)
        # real pixels: hundreds of colours (xterm's text has 16), and the poster's own
        colours = np.unique(np.asarray(drawn).reshape(-1, 3), axis=0)
        assert len(colours) > 64
        expected = source.resize((width, round(width * source.height / source.width)),
                                 Image.Resampling.LANCZOS)
        assert psnr(drawn, expected.crop((0, 0, width, y1 - y0))) >= 30

        # scroll the thread up: the poster moves down, clipped by the composer
        subprocess.run(["xdotool", "mousemove", str((x0 + x1) // 2), str(y0), "click", "4"],
                       env=env, timeout=10, check=True)

        after, box2 = wait_for_box(display, lambda b: b[1] > y0, width // 2,
                                   "the poster to move with the thread")
        # one band of poster rows, starting with the poster's first row (nothing of it left
        # above, where it was), and showing its top part
        rows = box2[3] - box2[1]
        assert psnr(after.crop((x0, box2[1], x1, box2[3])),
                    expected.crop((0, 0, width, min(rows, expected.height)))) >= 30
        subprocess.run(["xdotool", "key", "ctrl+q"], env=env, timeout=10, check=True)
        terminal.wait(timeout=15)
    finally:
        if terminal.poll() is None:
            terminal.kill()
            terminal.wait(timeout=10)
    log = home / "cache" / "stderr.log"
    assert not log.exists() or "Traceback" not in log.read_text()
