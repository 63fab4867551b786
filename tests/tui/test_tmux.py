"""Acceptance 8: drive ``chatimg`` in a real terminal (tmux) as a person would.

Start the app in a detached tmux session, type a prompt, see the image drawn with half-block
cells, switch model with the picker, send again, quit with Ctrl+Q.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """A private tmux server (own socket) with one session running a command."""

    def __init__(self) -> None:
        self.socket = f"chatimg-test-{uuid.uuid4().hex[:8]}"
        self.session = "app"

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                             text=True, timeout=20, check=False)
        return out.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{key}={value}" for key, value in env.items())
        subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d",
                        "-s", self.session, "-x", "120", "-y", "50",
                        f"env {exports} {command}"], check=True, timeout=20)
        self.run("set-option", "-t", self.session, "remain-on-exit", "on")
        # a detached session may start at the default 80x24: fix the size a person would have
        self.run("set-option", "-t", self.session, "window-size", "manual")
        self.run("resize-window", "-t", self.session, "-x", "120", "-y", "50")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", text)

    def screen(self) -> str:
        return self.run("capture-pane", "-t", self.session, "-p")

    def dead(self) -> bool:
        return self.run("display-message", "-t", self.session, "-p", "#{pane_dead}").strip() == "1"

    def wait(self, predicate: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(0.1)  # polling a separate process: nothing to await

    def kill(self) -> None:
        self.run("kill-server")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    server.kill()


def test_person_in_tmux(tmux: Tmux, home: Path, config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + '[models.second]\nengine = "layout"\n')
    env = {"CHATIMG_HOME": str(home), "TERM": "xterm-256color", "COLORTERM": "truecolor",
           "PYTHONPATH": os.getcwd()}
    tmux.start(f"{sys.executable} -m chatimg", env)
    tmux.wait(lambda s: "Describe an image" in s, "the app to start")

    tmux.type('a "HELLO" sign in red')
    tmux.keys("Enter")
    screen = tmux.wait(lambda s: "succeeded" in s and ("▀" in s or "▄" in s),
                       "the card with a half-block image")
    assert "layout" in screen and "seed" in screen

    tmux.keys("C-o")
    tmux.wait(lambda s: "Choose a model" in s, "the model picker")
    tmux.type("second")
    tmux.keys("Enter")
    tmux.wait(lambda s: "⧉ second" in s, "the chip to show the new model")
    tmux.type('"AGAIN"')
    tmux.keys("Enter")
    # the switch marker itself is checked with Pilot (test_model_switch.py): here the new card
    # may fill the visible part of the thread
    screen = tmux.wait(lambda s: "second  ✓ succeeded" in s, "the second card on the new model")

    tmux.keys("C-q")
    deadline = time.monotonic() + 15
    while not tmux.dead():
        assert time.monotonic() < deadline, "the app did not quit on Ctrl+Q"
        time.sleep(0.1)
    log = home / "cache" / "stderr.log"
    assert not log.exists() or "Traceback" not in log.read_text()
