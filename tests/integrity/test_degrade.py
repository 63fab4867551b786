"""Full and read-only storage: one-line errors, no row left running, reading still works."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def _statuses(cli: Any) -> list[str]:
    statuses = []
    for conversation in json.loads(cli("ls", "--json").out):
        thread = json.loads(cli("show", conversation["id"], "--json").out)
        statuses += [g["status"] for m in thread["messages"] for g in m["generations"]]
    return statuses


@contextmanager
def _mounted(*args: str) -> Iterator[None]:
    """Run ``mount ARGS`` (root only; the test skips where mounting is not allowed)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", args[-1]], capture_output=True, timeout=30)


def _export_elsewhere(cli: Any, conversation_id: str, folder: Path) -> Path:
    bundle = folder / "elsewhere.zip"
    result = cli("export", conversation_id, "-o", str(bundle))
    assert result.code == 0, result.err
    with zipfile.ZipFile(bundle) as archive:
        assert archive.testzip() is None
    return bundle


def test_disk_full_while_storing_an_image_is_one_line_and_leaves_nothing_running(
    cli: Any, made: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    import os

    real = os.fsync
    monkeypatch.setattr(os, "fsync", full)  # the asset store's fsync (one os module)
    result = cli("gen", 'a sign that says "FULL"', "-m", "layout")
    monkeypatch.setattr(os, "fsync", real)
    assert result.code == 1
    assert "the disk is full" in result.out + result.err and "Traceback" not in result.err
    assert "running" not in _statuses(cli) and "failed" in _statuses(cli)
    assert not list(Path(made["generations"][0]["assets"][0]["path"]).parents[1]
                    .rglob(".tmp-*"))
    _export_elsewhere(cli, made["conversation_id"], tmp_path)


def test_disk_full_on_a_real_small_file_system(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    with _mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)):
        monkeypatch.setenv("CHATIMG_HOME", str(small))
        (small / "config").mkdir()
        (small / "config" / "config.toml").write_text("[validation]\nenabled = []\n")
        made = cli("gen", 'a sign that says "FIRST"', "-m", "layout", "--json")
        assert made.code == 0, made.err
        conversation_id = json.loads(made.out)["conversation_id"]
        filler = small / "filler"
        # fill the disk up (unbuffered: a short last write leaves nothing for close to flush)
        with open(filler, "wb", buffering=0) as handle:
            chunk = b"\0" * 65536
            try:
                while True:
                    handle.write(chunk)
            except OSError:
                pass
        result = cli("gen", 'a sign that says "NO ROOM"', "-m", "layout", "--seed", "3")
        assert result.code == 1
        lines = (result.out + result.err).strip().splitlines()
        assert len(lines) == 1 and ("disk is full" in lines[0]
                                    or "free some space" in lines[0]), lines
        assert "Traceback" not in result.err
        listed = cli("ls")
        assert listed.code == 0, listed.err
        _export_elsewhere(cli, conversation_id, tmp_path)
        filler.unlink()
        assert "running" not in _statuses(cli)


def test_a_read_only_home_can_be_listed_shown_searched_and_exported(
    cli: Any, made: dict[str, Any], home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    view = tmp_path / "read-only-view"
    view.mkdir()
    with _mounted("--bind", "-o", "ro", str(home), str(view)):
        if os.access(view, os.W_OK):
            pytest.skip("the read-only bind mount is writable here")
        monkeypatch.setenv("CHATIMG_HOME", str(view))
        listed = cli("ls", "--json")
        assert listed.code == 0, listed.err
        assert [c["id"] for c in json.loads(listed.out)] == [made["conversation_id"]]
        shown = cli("show", made["conversation_id"])
        assert shown.code == 0 and "INTACT" in shown.out and "DAMAGED" not in shown.out
        found = cli("search", "intact")
        assert found.code == 0 and made["conversation_id"] in found.out
        bundle = _export_elsewhere(cli, made["conversation_id"], tmp_path)
        assert stat.S_IMODE(bundle.stat().st_mode) == 0o666 & ~_umask()
        refused = cli("gen", 'a sign that says "NO"', "-m", "layout")
        assert refused.code == 1 and "read-only" in refused.err
        assert len(refused.err.strip().splitlines()) == 1


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
