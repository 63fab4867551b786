"""Killing ``storage migrate`` or ``db copy`` midway (SIGKILL) and running it again completes
with verified counts, and the source is untouched (acceptance 4)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chatimg.config import StorageSection
from chatimg.store.backends import open_asset_store
from chatimg.store.objects import ObjectAssetStore
from tests.storage.test_commands import file_snapshot, fill_file_store, run

ROOT = Path(__file__).resolve().parents[2]

#: Runs a chatimg command whose chosen step, after it ran ``after`` times, signals the test and
#: waits to be killed: the kill lands at a known point, not at a guessed moment.
PAUSING = textwrap.dedent(
    """
    import sys, time
    import importlib
    module_name, attribute, after, signal_file = sys.argv[1:5]
    module = importlib.import_module(module_name)
    owner, _, name = attribute.rpartition(".")
    holder = getattr(module, owner) if owner else module
    original = getattr(holder, name)
    calls = [0]

    def pausing(*args, **kwargs):
        result = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == int(after):
            open(signal_file, "w").close()
            time.sleep(600)
        return result

    async def pausing_async(*args, **kwargs):
        result = await original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == int(after):
            open(signal_file, "w").close()
            time.sleep(600)  # blocks the loop on purpose: nothing else may finish
        return result

    import inspect
    setattr(holder, name, pausing_async if inspect.iscoroutinefunction(original) else pausing)
    from chatimg.cli import main
    main(sys.argv[5:])
    """
)

_SPAWNED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_stragglers() -> Iterator[None]:
    yield
    for process in _SPAWNED:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
    _SPAWNED.clear()


def kill_when_paused(tmp_path: Path, hook: list[str], args: list[str]) -> None:
    """Run ``chatimg ARGS`` with ``hook`` = [module, attribute, after]; SIGKILL it there."""
    signal_file = tmp_path / "paused"
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSING, *hook, str(signal_file), *args], cwd=ROOT,
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _SPAWNED.append(process)
    deadline = time.monotonic() + 120
    while not signal_file.exists():
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "the command never reached the pause"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def test_killed_migrate_resumes_and_the_source_is_untouched(
    s3_url: str, home: Path, config_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = fill_file_store(30)
    before = file_snapshot(home / "data" / "assets")
    monkeypatch.setenv("CHATIMG_STORAGE__CONCURRENCY", "2")
    kill_when_paused(tmp_path, ["chatimg.store.objects", "ObjectAssetStore.put_blob_async", "10"],
                     ["storage", "migrate", "--to", s3_url, "-q"])
    store = open_asset_store(StorageSection(url=s3_url, path_style=True))
    assert isinstance(store, ObjectAssetStore)
    copied = {b.sha256 for b in store.blobs()}
    assert 10 <= len(copied) < 30
    assert not config_file.exists() or "storage" not in tomllib.loads(config_file.read_text())
    code, out, err = run(capsys, "storage", "migrate", "--to", s3_url, "-q")
    assert code == 0, err
    assert (f"30 images: {30 - len(copied)} copied, {len(copied)} already there, "
            "30 verified") in out
    assert {b.sha256 for b in store.blobs()} == set(images)
    assert file_snapshot(home / "data" / "assets") == before
    assert run(capsys, "storage", "verify", "-q")[0] == 0


def _dump(path: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def _counts(url: str) -> dict[str, int]:
    from chatimg.store.copy import copied_tables

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {t.name: int(connection.execute(
                sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in copied_tables()}
    finally:
        engine.dispose()


@pytest.mark.parametrize("target", ["sqlite", pytest.param("postgresql",
                                                           marks=pytest.mark.postgres)])
def test_killed_db_copy_resumes_with_its_images(
    target: str, s3_url: str, home: Path, config_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest,
) -> None:
    config_file.write_text('[validation]\nenabled = []\n')
    for n in range(3):
        assert run(capsys, "gen", f'a sign that says "COPY {n}"', "-m", "layout", "-q",
                   "-n", "2", "--seed", str(n))[0] == 0
    fill_file_store(8)  # more asset rows than one small batch
    source_file = home / "data" / "chatimg.db"
    source_url = f"sqlite:///{source_file}"
    target_url = (f"sqlite:///{tmp_path / 'team.db'}" if target == "sqlite"
                  else str(request.getfixturevalue("postgres_url")))
    before = _dump(source_file)
    # Batches of 3 rows; killed after the 4th batch (inside the asset table).
    hook = ["chatimg.store.copy", "_insert", "4"]
    script_args = ["db", "copy", "--from", source_url, "--to", target_url, "-q",
                   "--assets-to", s3_url, "--batch", "3"]
    kill_when_paused(tmp_path, hook, script_args)
    partial = _counts(target_url)
    source_counts = _counts(source_url)
    assert partial != source_counts and sum(partial.values()) > 0
    code, out, err = run(capsys, *script_args)
    assert code == 0, err
    assert _counts(target_url) == source_counts
    assert f"{sum(source_counts.values())} rows verified" in out
    assert "images: 14, 14 copied, 0 already there, 14 verified" in out
    assert _dump(source_file) == before
    code, out, _ = run(capsys, "db", "copy", "--from", source_url, "--to", target_url, "-q")
    assert code == 0 and " 0 new" in out and " 1 new" not in out
