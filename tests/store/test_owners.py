"""A start never steals a live process's work: its temp files and its running generations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from chatimg.store.owner import Owner, current_owner, is_alive, process_start, tag_is_alive

ROOT = Path(__file__).resolve().parents[2]

#: Marks a generation running, then pauses inside the fsync of an asset write, holding a temp
#: file, until killed.
LIVE_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from chatimg.studio import Studio
    from chatimg.store import assets as assets_module

    signal_file = sys.argv[1]
    studio = Studio.open()
    conversation = studio.create_conversation("live")
    message = studio.add_message(conversation.id, "still working")
    generation = studio.repo.create_generation(message.id, "layout", {})
    studio.repo.update_generation(generation.id, status="running")

    def fsync_then_wait(fd):
        open(signal_file, "w").write(generation.id)
        time.sleep(120)

    assets_module.os.fsync = fsync_then_wait
    from PIL import Image
    from chatimg.imaging import encode_png
    studio.assets.put(encode_png(Image.new("RGB", (32, 32), "red")))
    """
)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatimg", *args], env={**os.environ, "CHATIMG_HOME": str(home)},
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )


def _status(generation_id: str) -> str:
    from chatimg.studio import Studio

    studio = Studio.open(tidy=False)
    try:
        return studio.get_generation(generation_id).status
    finally:
        studio.close()


def test_a_live_writers_temp_file_and_running_row_survive_other_starts(
    home: Path, tmp_path: Path
) -> None:
    signal_file = tmp_path / "signal"
    writer = subprocess.Popen([sys.executable, "-c", LIVE_WRITER, str(signal_file)],
                              env={**os.environ, "CHATIMG_HOME": str(home)}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists() or not signal_file.read_text():
            assert writer.poll() is None, "writer died early"
            assert time.monotonic() < deadline, "writer never started"
            time.sleep(0.02)
        generation_id = signal_file.read_text()
        partials = list((home / "data" / "assets").rglob(".tmp-*.part"))
        assert len(partials) == 1
        # Old enough to be swept if age were all that counted: only the live owner protects it.
        long_ago = time.time() - 7 * 24 * 3600
        os.utime(partials[0], (long_ago, long_ago))
        for _ in range(2):
            assert _cli(home, "ls").returncode == 0
        assert partials[0].exists(), "another start removed a live writer's temp file"
        assert _status(generation_id) == "running"
        doctor = _cli(home, "doctor", "--grace", "0")
        assert "stuck-generation" not in doctor.stdout and "temp-file" not in doctor.stdout
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    # Once the writer is gone, the next start cleans up after it.
    assert _cli(home, "ls").returncode == 0
    assert not partials[0].exists()
    assert _status(generation_id) == "interrupted"


def test_liveness_tells_a_reused_pid_and_other_hosts_apart() -> None:
    me = current_owner()
    assert me.pid == os.getpid() and is_alive(me) is True
    assert is_alive(Owner(me.host, me.pid, me.start + 1)) is False  # same pid, another process
    assert is_alive(Owner("another-host.example", me.pid, me.start)) is None
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    assert process_start(child.pid) is None
    assert is_alive(Owner(me.host, child.pid, 1)) is False
    assert tag_is_alive(me.file_tag()) is True
    assert tag_is_alive(f"{me.host_tag}-{child.pid}-1") is False
    other = "00000000" if me.host_tag != "00000000" else "11111111"
    assert tag_is_alive(f"{other}-{me.pid}-{me.start}") is None  # written on another host
