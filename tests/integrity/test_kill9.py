"""``kill -9`` during gen, checks, export and import: doctor repairs all of it, gc leaves nothing."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KILLS_EACH = 20

#: `gen` whose checks signal, then stall, so the kill lands inside them.
SLOW_CHECKS = textwrap.dedent(
    """
    import sys, time
    import chatimg.validate as validate

    real = validate.validate_images
    def stalled(*args, **kwargs):
        results = real(*args, **kwargs)
        open(sys.argv[1], "w").write("checking")
        time.sleep(120)
        return results
    validate.validate_images = stalled
    from chatimg.cli import main
    main(["gen", 'a sign that says "CHECKS"', "-m", "layout", "-q", "--seed", sys.argv[2]])
    """
)


def _spawn(home: Path, cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args],
                            env={**os.environ, "CHATIMG_HOME": str(home), "PYTHONPATH": str(ROOT)},
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_after(process: subprocess.Popen[bytes], delay: float) -> None:
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def _wait_for(process: subprocess.Popen[bytes], ready: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def _running(database: Path) -> bool:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return bool(db.execute("SELECT 1 FROM generation WHERE status = 'running'").fetchone())


def _kill_during(operation: str, cli: Any, home: Path, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch, chance: random.Random) -> str:
    """Start ``operation`` KILLS_EACH times and kill it at a random moment of its work.

    Returns the id of a conversation that must still replay afterwards.
    """
    made = json.loads(cli("gen", 'a sign that says "BASE"', "-m", "layout", "-n", "6",
                          "--json").out)
    conversation_id: str = made["conversation_id"]
    data = home / "data"
    if operation == "import":  # a bundle of images this home does not have yet
        other = tmp_path / "other-home"
        monkeypatch.setenv("CHATIMG_HOME", str(other))
        other_made = json.loads(cli("gen", 'a sign that says "OTHER"', "-m", "layout", "-n", "6",
                                    "--json").out)
        foreign = tmp_path / "foreign.zip"
        assert cli("export", other_made["conversation_id"], "-o", str(foreign)).code == 0
        monkeypatch.setenv("CHATIMG_HOME", str(home))
        for _ in range(KILLS_EACH):  # once its staging folder exists
            process = _spawn(home, tmp_path, "-m", "chatimg", "import", "--as-copy", str(foreign))
            _wait_for(process, lambda: bool(list(data.glob(".chatimg-import-*"))))
            _kill_after(process, chance.uniform(0.0, 0.3))
    elif operation == "export":
        for _ in range(KILLS_EACH):  # once its .part file exists
            process = _spawn(home, tmp_path, "-m", "chatimg", "export", conversation_id, "-q",
                             "-o", str(tmp_path / "killed.zip"))
            _wait_for(process, lambda: bool(list(tmp_path.glob(".chatimg-export-*"))))
            _kill_after(process, chance.uniform(0.0, 0.3))
    elif operation == "checks":
        for n in range(KILLS_EACH):
            signal_file = tmp_path / f"checks-{n}"
            process = _spawn(home, tmp_path, "-c", SLOW_CHECKS, str(signal_file), str(100 + n))
            _wait_for(process, signal_file.exists)
            _kill_after(process, chance.uniform(0.0, 0.2))
    else:  # gen: once a generation runs
        for n in range(KILLS_EACH):
            process = _spawn(home, tmp_path, "-m", "chatimg", "gen", f'a sign that says "K{n}"',
                             "-m", "layout", "-n", "4", "-q")
            _wait_for(process, lambda: _running(data / "chatimg.db"))
            _kill_after(process, chance.uniform(0.0, 2.0))
    return conversation_id


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 20 killed CLI runs and their start-ups on a shared machine
@pytest.mark.parametrize("operation", ["import", "export", "checks", "gen"])
def test_kill_9_at_random_moments_then_repair_and_gc(
    operation: str, cli: Any, home: Path, config_file: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text('[validation]\nenabled = ["blank", "size"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    chance = random.Random(f"kill-{operation}")
    conversation_id = _kill_during(operation, cli, home, tmp_path, monkeypatch, chance)

    found = json.loads(cli("doctor", "--grace", "0", "--json").out)
    repairable = {"stuck-generation", "checks-missing"}
    assert {p["kind"] for p in found["problems"]} <= repairable, found["problems"]
    if operation == "checks":
        assert any(p["kind"] == "checks-missing" for p in found["problems"])

    fixed = cli("doctor", "--repair", "--gc", "--grace", "0", "--json")
    assert fixed.code == 0, fixed.out
    after = json.loads(cli("doctor", "--grace", "0", "--json").out)
    assert after["ok"] and after["problems"] == [] and after["garbage"] == [], after
    assert not list(tmp_path.glob(".chatimg-export-*"))
    assert not list((home / "data").glob(".chatimg-import-*"))
    assert not list((home / "data" / "assets").rglob(".tmp-*"))
    assert cli("replay", conversation_id).code == 0
