"""Twenty processes generating ``layout`` images at once into one PostgreSQL and one S3 bucket:
no error, no lost or duplicated row, ``storage verify`` clean afterwards (acceptance 3)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.storage.test_commands import run

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 20
ROUNDS = 3

#: Waits for the common start, then runs `chatimg gen` ROUNDS times (each opens its own store).
WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from chatimg.cli import main

    go, label = sys.argv[1], sys.argv[2]
    open(go + "." + label, "w").close()
    deadline = time.monotonic() + 300
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.01)
    codes = []
    for index in range(int(sys.argv[3])):
        try:
            main(["gen", f'a sign that says "{label} {index}"', "-m", "layout", "-q",
                  "--seed", str(index)])
            codes.append(0)
        except SystemExit as exc:
            codes.append(exc.code or 0)
        # Then the same image in every process: conditional puts race on one key.
        try:
            main(["gen", 'a sign that says "SHARED"', "-m", "layout", "-q", "--seed", "1"])
            codes.append(0)
        except SystemExit as exc:
            codes.append(exc.code or 0)
    print(json.dumps(codes))
    """
)

_SPAWNED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_stragglers() -> Iterator[None]:
    yield
    for process in _SPAWNED:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
    _SPAWNED.clear()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(1800)  # 120 CLI runs on a shared 2-core machine
def test_twenty_processes_share_one_postgresql_and_one_bucket(
    postgres_url: str, s3_url: str, home: Path, config_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_file.write_text(f'[validation]\nenabled = []\n[storage]\nurl = "{s3_url}"\n')
    monkeypatch.setenv("CHATIMG_DATABASE_URL", postgres_url)
    assert run(capsys, "db", "upgrade")[0] == 0  # the schema exists before the rush
    go = tmp_path / "go"
    import os

    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(go), f"P{n}", str(ROUNDS)],
                         env=dict(os.environ), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for n in range(PROCESSES)
    ]
    _SPAWNED.extend(workers)
    deadline = time.monotonic() + 300
    while not all((tmp_path / f"go.P{n}").exists() for n in range(PROCESSES)):
        assert time.monotonic() < deadline, "workers never started"
        assert all(w.poll() is None for w in workers), "a worker died before the start"
        time.sleep(0.05)
    go.touch()
    for worker in workers:
        out, err = worker.communicate(timeout=1500)
        assert worker.returncode == 0, err[-2000:]
        assert "Traceback" not in err and "error" not in err.lower(), err[-2000:]
        assert json.loads(out.strip().splitlines()[-1]) == [0] * (2 * ROUNDS)

    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        def count(sql: str) -> int:
            return int(connection.execute(sa.text(sql)).scalar_one())

        runs = PROCESSES * ROUNDS * 2
        assert count("SELECT count(*) FROM message") == runs
        assert count("SELECT count(*) FROM generation WHERE status = 'succeeded'") == runs
        assert count("SELECT count(*) FROM generation") == runs
        assert count("SELECT count(*) FROM generation_asset") == runs
        # One image per distinct prompt: the shared sign is stored once.
        assert count("SELECT count(*) FROM asset") == PROCESSES * ROUNDS + 1
        assert count("SELECT count(DISTINCT asset_sha256) FROM generation_asset") == (
            PROCESSES * ROUNDS + 1)
    engine.dispose()
    code, out, err = run(capsys, "storage", "verify", "-q")
    assert code == 0, out + err
    assert f"{PROCESSES * ROUNDS + 1} images checked, 0 problems" in out
