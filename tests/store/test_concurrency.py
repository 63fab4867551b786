"""Many writers at once on one home: nothing lost, nobody's temp file or running row stolen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Runs `chatimg <args>` ROUNDS times in one process (each call opens and closes the store,
#: as a separate command would), after waiting for the common start signal.
WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from chatimg.cli import main

    go, rounds, label, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    open(go + "." + label, "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    codes = []
    for index in range(rounds):
        try:
            main([a.replace("{i}", str(index)) for a in args])
            codes.append(0)
        except SystemExit as exc:
            codes.append(exc.code or 0)
    print(json.dumps(codes))
    """
)

LISTER = textwrap.dedent(
    """
    import os, sys, time
    from chatimg.cli import main

    stop = sys.argv[1]
    failures, runs = 0, 0
    deadline = time.monotonic() + 600
    while not os.path.exists(stop) and time.monotonic() < deadline:
        try:
            main(["ls", "--json"])
        except SystemExit as exc:
            failures += bool(exc.code)
        runs += 1
    print(runs, failures)
    """
)


@pytest.fixture(autouse=True)
def _no_stragglers() -> Iterator[None]:
    """Whatever a failed test left running is killed (each process by its own handle)."""
    yield
    for process in _SPAWNED:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
    _SPAWNED.clear()


_SPAWNED: list[subprocess.Popen[str]] = []


def _env(home: Path, database_url: str) -> dict[str, str]:
    env = {**os.environ, "CHATIMG_HOME": str(home), "CHATIMG_DATABASE_URL": database_url}
    return env


def _config(home: Path) -> None:
    # OCR would dominate the run time; the blank and size checks still run after every image.
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[validation]\nenabled = ["blank", "size"]\n', encoding="utf-8")


def _start_together(
    home: Path, database_url: str, tmp_path: Path, jobs: list[list[str]], rounds: int
) -> list[subprocess.Popen[str]]:
    go = tmp_path / "go"
    env = _env(home, database_url)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go), str(rounds), f"w{n}", *job],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n, job in enumerate(jobs)
    ]
    _SPAWNED.extend(workers)
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"go.w{n}").exists() for n in range(len(jobs))):
        assert time.monotonic() < deadline, "workers never started"
        assert all(w.poll() is None for w in workers), "a worker died before the start"
        time.sleep(0.02)
    go.touch()
    return workers


def _results(workers: list[subprocess.Popen[str]]) -> list[list[int]]:
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, err[-2000:]
        assert "Traceback" not in err, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.slow
@pytest.mark.timeout(1500)  # 160 CLI runs on a shared 2-core machine
def test_eight_writers_and_a_lister_lose_nothing(
    home: Path, tmp_path: Path, database_url: str
) -> None:
    _config(home)
    stop = tmp_path / "stop"
    lister = subprocess.Popen([sys.executable, "-c", LISTER, str(stop)],
                              env=_env(home, database_url), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _SPAWNED.append(lister)
    jobs = [["gen", f'sign that says "W{n} {{i}}"', "-m", "layout", "--seed", "{i}", "-q"]
            for n in range(8)]
    workers = _start_together(home, database_url, tmp_path, jobs, rounds=20)
    results = _results(workers)
    stop.touch()
    out, err = lister.communicate(timeout=120)
    assert lister.returncode == 0, err[-2000:]
    runs, failures = map(int, out.strip().splitlines()[-1].split())
    assert runs >= 1 and failures == 0, err[-2000:]
    assert results == [[0] * 20] * 8

    from chatimg.config import load_settings
    from chatimg.doctor import examine
    from chatimg.studio import Studio

    os.environ["CHATIMG_DATABASE_URL"] = database_url
    try:
        studio = Studio.open(load_settings())
        generations = [g for c in studio.list_conversations()
                       for m in studio.load_thread(c.id).messages for g in m.generations]
        assert len(generations) == 160
        assert {g.status for g in generations} == {"succeeded"}
        report = examine(studio)
        assert report.problems() == [], report.problems()
        studio.close()
    finally:
        del os.environ["CHATIMG_DATABASE_URL"]


@pytest.mark.slow
@pytest.mark.timeout(900)  # 8 processes at once on a shared 2-core machine
def test_eight_processes_store_the_same_image(
    home: Path, tmp_path: Path, database_url: str
) -> None:
    _config(home)
    # The same prompt and seed on the deterministic layout engine: the same bytes, one asset row.
    jobs = [["gen", 'sign that says "SAME"', "-m", "layout", "--seed", "7", "-q"]] * 8
    results = _results(_start_together(home, database_url, tmp_path, jobs, rounds=5))
    assert results == [[0] * 5] * 8
    import sqlalchemy as sa

    from chatimg.store.database import Database

    database = Database(database_url)
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM asset")).scalar() == 1
        assert connection.execute(sa.text("SELECT count(*) FROM generation_asset")).scalar() == 40
    database.dispose()


@pytest.mark.slow
@pytest.mark.timeout(900)  # 8 processes at once on a shared 2-core machine
def test_eight_simultaneous_first_starts_all_succeed(
    home: Path, tmp_path: Path, database_url: str
) -> None:
    jobs = [["ls", "--json"]] * 8
    results = _results(_start_together(home, database_url, tmp_path, jobs, rounds=1))
    assert results == [[0]] * 8
