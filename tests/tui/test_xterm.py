"""Issue 12 item 3: chatimg in a real Sixel terminal (xterm as a VT340) on a virtual X server.

Two posters are made with the CLI; ``chatimg`` then opens in ``xterm -ti vt340`` under Xvfb
with ``CHATIMG_IMAGES`` unset, so it must detect Sixel by asking the terminal. Screenshots
(``xwd -root``) must show the red-and-orange poster's own pixels (PSNR against the stored
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


def warm_pixels(shot: Image.Image) -> np.ndarray:
    """Where the red-and-orange poster's colours are (a boolean mask, rows by columns)."""
    pixels = np.asarray(shot, dtype=np.int32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (red > 150) & (red - blue > 60) & (green > 20)  # type: ignore[no-any-return]


def poster_box(shot: Image.Image, min_width: int) -> tuple[int, int, int, int] | None:
    """The box of the red-and-orange poster: the longest run of rows with at least
    ``min_width`` warm pixels, and the columns warm in most of those rows."""
    warm = warm_pixels(shot)
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


Box = tuple[int, int, int, int]


def wait_for_box(display: str, check: Callable[[Image.Image, Box], str | None], min_width: int,
                 what: str, timeout: float = 40.0) -> tuple[Image.Image, Box]:
    """Screenshots until the poster's box is found and ``check`` (given the shot and the box)
    finds nothing wrong, returning ``None``; else it says what is wrong. xterm draws a frame
    progressively, and on a busy machine a shot may catch it half drawn for a while: only
    what stays wrong until ``timeout`` fails."""
    deadline = time.monotonic() + timeout
    while True:
        shot = screenshot(display)
        box = poster_box(shot, min_width)
        wrong = "no poster" if box is None else check(shot, box)
        if wrong is None:
            assert box is not None
            return shot, box
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {wrong} (last box {box})")
        time.sleep(0.3)  # another process draws: nothing to await


def warm_rows(shot: Image.Image, box: Box, min_width: int) -> int:
    """How many rows of ``box`` have at least ``min_width`` of the poster's warm pixels."""
    return int((warm_pixels(shot.crop(box)).sum(axis=1) >= min_width).sum())


def make_posters(home: Path) -> Path:
    env = {**os.environ, "CHATIMG_HOME": str(home)}

    def gen(*args: str) -> dict[str, object]:
        done = subprocess.run([str(CHATIMG), "gen", *args, "-m", "layout", "-q", "--json"],
                              env=env, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    first = gen('a poster that says "FIRST" in blue and green', "--seed", "3")
    conversation = str(first["conversation_id"])
    second = gen('a poster that says "XTERM" on red and orange', "--seed", "5",
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
        # the newest card is in view: the whole (square) poster, in its own pixels
        def whole_poster(shot: Image.Image, box: Box) -> str | None:
            x0, y0, x1, y1 = box
            if x1 - x0 < 100 or y1 - y0 < 0.9 * (x1 - x0):
                return f"a poster of {x1 - x0}x{y1 - y0} px"
            drawn = shot.crop(box)
            # real pixels: hundreds of colours (xterm's text has 16), and the poster's own
            colours = len(np.unique(np.asarray(drawn).reshape(-1, 3), axis=0))
            if colours <= 64:
                return f"{colours} colours"
            similar = psnr(drawn, scaled(x1 - x0).crop((0, 0, x1 - x0, y1 - y0)))
            return None if similar >= 30 else f"PSNR {similar:.1f} dB"

        def scaled(width: int) -> Image.Image:
            return source.resize((width, round(width * source.height / source.width)),
                                 Image.Resampling.LANCZOS)

        _, box = wait_for_box(display, whole_poster, 60, "the poster")
        x0, y0, x1, _ = box
        width = x1 - x0
        expected = scaled(width)

        # scroll the thread up: the poster moves down, clipped by the composer
        subprocess.run(["xdotool", "mousemove", str((x0 + x1) // 2), str(y0), "click", "4"],
                       env=env, timeout=10, check=True)

        def moved(after: Image.Image, box2: Box) -> str | None:
            # one band of poster rows, starting with the poster's first row and showing its
            # top part, and nothing of it left above, where it was
            if box2[1] <= y0:
                return f"the poster's top at {box2[1]}, not below {y0}"
            rows = box2[3] - box2[1]
            similar = psnr(after.crop((x0, box2[1], x1, box2[3])),
                           expected.crop((0, 0, width, min(rows, expected.height))))
            if similar < 30:
                return f"PSNR {similar:.1f} dB"
            left = warm_rows(after, (x0, y0, x1, box2[1]), width // 2)
            return None if not left else f"{left} poster rows left above it"

        wait_for_box(display, moved, width // 2, "the poster to move with the thread")
        subprocess.run(["xdotool", "key", "ctrl+q"], env=env, timeout=10, check=True)
        terminal.wait(timeout=15)
    finally:
        if terminal.poll() is None:
            terminal.kill()
            terminal.wait(timeout=10)
    log = home / "cache" / "stderr.log"
    assert not log.exists() or "Traceback" not in log.read_text()
