"""Bug 9: an unhandled crash of the app exits non-zero (Textual alone would exit with 0)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


def run_on_pty(args: list[str], env: dict[str, str], timeout: float = 60.0,
               answer: tuple[str, bytes] | None = None) -> tuple[int, str]:
    """Run ``args`` with a pseudo-terminal as stdin/stdout/stderr; return (status, output).

    ``answer``: once the output contains its text, type its bytes (once).
    """
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 1200, 800))
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                               cwd=ROOT, start_new_session=True)
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and process.poll() is not None:
                    break
                output += chunk
                if answer is not None and answer[0].encode() in output:
                    os.write(master, answer[1])
                    answer = None
            elif process.poll() is not None:
                break
        else:
            raise AssertionError(f"no exit within {timeout} s: {output[-2000:]!r}")
        return process.wait(timeout=10), output.decode("utf-8", "replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        os.close(master)


def test_crash_exits_non_zero(home: Path) -> None:
    env = {**os.environ, "CHATIMG_HOME": str(home), "TERM": "xterm-256color",
           "CHATIMG_IMAGES": "halfcell", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    status, output = run_on_pty([sys.executable, "-m", "tests.tui.crashing_app"], env)
    assert "injected crash" in output
    assert status != 0


def test_quitting_exits_zero(home: Path) -> None:
    env = {**os.environ, "CHATIMG_HOME": str(home), "TERM": "xterm-256color",
           "CHATIMG_IMAGES": "halfcell"}
    env.pop("NO_COLOR", None)
    chatimg = Path(sys.executable).with_name("chatimg")
    status, output = run_on_pty([str(chatimg)], env, answer=("Describe an image", b"\x11"))
    assert status == 0, output[-2000:]


def test_bad_image_mode_is_one_line(home: Path) -> None:
    env = {**os.environ, "CHATIMG_HOME": str(home), "CHATIMG_IMAGES": "ascii-art"}
    chatimg = Path(sys.executable).with_name("chatimg")
    done = subprocess.run([str(chatimg)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "chatimg: error: CHATIMG_IMAGES='ascii-art' is not an image mode "
        "(use one of: kitty, sixel, iterm, halfcell, auto)"]

