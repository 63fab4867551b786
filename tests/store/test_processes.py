"""Real processes: isolation by CHATIMG_HOME, crash safety under SIGKILL, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHATIMG_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", "chatimg", *args], env=env, capture_output=True, text=True,
        timeout=120, cwd=ROOT,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_homes_are_isolated(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    made = json.loads(run_cli(a, "gen", 'sign that says "A"', "-m", "layout", "--json").stdout)
    assert json.loads(run_cli(b, "ls", "--json").stdout) == []
    listed = json.loads(run_cli(a, "ls", "--json").stdout)
    assert [c["id"] for c in listed] == [made["conversation_id"]]
    assert run_cli(b, "show", made["conversation_id"], check=False).returncode == 1
    assert all(Path(asset["path"]).is_relative_to(a) for asset in made["generations"][0]["assets"])
    assert not (b / "data" / "assets").exists()


WRITER = textwrap.dedent(
    """
    import os, sys, time
    from chatimg.studio import Studio
    from chatimg.store import assets as assets_module

    mode = sys.argv[1]
    studio = Studio.open()
    conversation = studio.create_conversation("crash")
    message = studio.add_message(conversation.id, "before the crash")
    signal_file = sys.argv[2]

    if mode == "pause-in-fsync":
        real_fsync = os.fsync
        def fsync_then_wait(fd):
            open(signal_file, "w").write("writing")
            time.sleep(60)
            real_fsync(fd)
        assets_module.os.fsync = fsync_then_wait

    import numpy as np
    from PIL import Image
    from chatimg.imaging import encode_png
    rng = np.random.default_rng(0)
    index = 0
    while True:
        pixels = rng.integers(0, 255, (700, 700, 3), dtype=np.uint8)
        data = encode_png(Image.fromarray(pixels))
        generation = studio.repo.create_generation(message.id, "layout", {})
        stored = studio.assets.put(data)
        studio.repo.finish_generation(generation.id, [(stored, index, None)], status="succeeded")
        index += 1
        if index == 2 and mode == "loop":
            open(signal_file, "w").write("running")
    """
)


def _check_store_is_consistent(home: Path) -> int:
    from chatimg.studio import Studio

    # A dead writer's temp file is swept once it is older than the grace period.
    long_ago = time.time() - 3600
    for partial in (home / "data" / "assets").rglob(".tmp-*"):
        os.utime(partial, (long_ago, long_ago))
    studio = Studio.open()  # the next start works, and sweeps leftovers
    assets_root = home / "data" / "assets"
    files = [p for p in assets_root.rglob("*") if p.is_file()]
    for path in files:
        assert not path.name.startswith(".tmp-"), f"leftover temp file {path}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, f"half-written {path}"
    thread = studio.load_thread(studio.list_conversations()[0].id)
    linked = [a for m in thread.messages for g in m.generations for a in g.assets]
    for asset in linked:
        assert Path(asset.path).is_file(), "a row points at a missing file"
    assert thread.messages[0].text == "before the crash"
    studio.close()
    return len(linked)


@pytest.mark.parametrize("mode", ["pause-in-fsync", "loop"])
def test_sigkill_while_storing_leaves_no_half_written_asset(
    home: Path, tmp_path: Path, mode: str
) -> None:
    signal_file = tmp_path / "signal"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, mode, str(signal_file)],
        env={**os.environ, "CHATIMG_HOME": str(home)}, cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not signal_file.exists():
        assert process.poll() is None, "writer died early"
        assert time.monotonic() < deadline, "writer never started"
        time.sleep(0.02)
    if mode == "pause-in-fsync":
        partials = list((home / "data" / "assets").rglob(".tmp-*"))
        assert partials, "the writer should be mid-write"
    else:
        time.sleep(0.3)  # kill at an arbitrary point of the write loop
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    linked = _check_store_is_consistent(home)
    if mode == "pause-in-fsync":
        assert linked == 0
    assert not list((home / "data" / "assets").rglob(".tmp-*"))


CONCURRENT = textwrap.dedent(
    """
    import os, sys, time
    from chatimg.studio import Studio
    studio = Studio.open()
    conversation_id, label, go = sys.argv[1], sys.argv[2], sys.argv[3]
    open(go + "." + label, "w").close()
    while not os.path.exists(go):  # start together
        time.sleep(0.005)
    for index in range(150):
        studio.add_message(conversation_id, f"{label} message {index}")
    print("done")
    """
)


def test_two_processes_write_to_one_sqlite_file(home: Path, tmp_path: Path) -> None:
    from chatimg.studio import Studio

    go = tmp_path / "go"
    studio = Studio.open()
    conversation = studio.create_conversation("shared")
    env = {**os.environ, "CHATIMG_HOME": str(home)}
    writers = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, conversation.id, label, str(go)],
                         env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for label in ("left", "right")
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"go.{label}").exists() for label in ("left", "right")):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert "locked" not in err
    thread = studio.load_thread(conversation.id)
    texts = [m.text for m in thread.messages]
    assert len(texts) == 300
    assert sum(t.startswith("left") for t in texts) == 150
    studio.close()
