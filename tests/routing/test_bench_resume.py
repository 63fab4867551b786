"""Acceptance 5 of the scale issue: a bench killed halfway resumes without redoing stored work;
``--max-cost`` stops before the limit; the progress line shows throughput and time left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]

#: A bench whose 101st result is held (its image already stored), so the kill lands there.
HELD_BENCH = textwrap.dedent(
    """
    import sys, time
    from chatimg.store.bench import BenchStore

    real = BenchStore.add_result
    calls = []
    def held(self, run_id, result):
        calls.append(result)
        if len(calls) == 101:
            open(sys.argv[1], "w").write("held")
            time.sleep(300)
        return real(self, run_id, result)
    BenchStore.add_result = held
    from chatimg.cli import main
    main(["bench", sys.argv[2], "-m", "layout", "--seeds", "4", "--run-id", "half", "-q",
          "--concurrency", "2"])
    """
)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return lambda *args: run_cli(capsys, *args)


@pytest.fixture
def prompts(tmp_path: Path, config_file: Path) -> Path:
    """50 prompts (x 4 seeds = 200 generations) on a small, unchecked layout model."""
    config_file.write_text('[validation]\nenabled = []\n\n[models.layout]\nengine = "layout"\n'
                           'width = 96\nheight = 64\n\n[models.priced]\nengine = "layout"\n'
                           'width = 96\nheight = 64\ncost_per_image = 0.01\n', encoding="utf-8")
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"poster number {n}\n" for n in range(50)), encoding="utf-8")
    return path


def query(database: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_bench_killed_halfway_resumes_to_exactly_200_results(
        cli: Any, home: Path, prompts: Path, tmp_path: Path) -> None:
    marker = tmp_path / "held"
    process = subprocess.Popen(
        [sys.executable, "-c", HELD_BENCH, str(marker), str(prompts)],
        env={**os.environ, "CHATIMG_HOME": str(home), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 400
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"the bench never got halfway (exit {process.poll()})"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    database = home / "data" / "chatimg.db"
    assert query(database, "SELECT count(*) FROM bench_result WHERE run_id = 'half'") == [(100,)]
    succeeded_sql = ("SELECT m.text, g.params FROM generation g JOIN message m "
                     "ON m.id = g.message_id WHERE g.status = 'succeeded'")
    before = len(query(database, succeeded_sql))
    assert before >= 101  # the held result's image was stored before the kill

    result = cli("bench", str(prompts), "-m", "layout", "--seeds", "4", "--run-id", "half",
                 "--resume", "--json")
    data = json.loads(result.out)
    assert data["run_id"] == "half" and data["complete"] and data["stopped"] is None
    assert data["resumed"] == 101  # 100 results, plus the image stored without its result
    assert len(data["results"]) == 200
    keys = {(r["model"], r["prompt_index"], r["seed"]) for r in data["results"]}
    assert len(keys) == 200
    assert query(database, "SELECT count(*) FROM bench_result WHERE run_id = 'half'") == [(200,)]
    # Every prompt x seed was generated exactly once across both processes: nothing redone.
    made = Counter((text, json.loads(params)["seed"])
                   for text, params in query(database, succeeded_sql))
    assert len(made) == 200 and set(made.values()) == {1}
    assert query(database, "SELECT finished_at IS NOT NULL FROM bench_run WHERE id = 'half'") \
        == [(1,)]

    # Resuming a finished run runs nothing more; the run id cannot be reused for a new run.
    again = json.loads(cli("bench", str(prompts), "-m", "layout", "--seeds", "4", "--run-id",
                           "half", "--resume", "--json").out)
    assert again["resumed"] == 200 and len(again["results"]) == 200
    assert len(query(database, succeeded_sql)) == 200
    taken = cli("bench", str(prompts), "-m", "layout", "--seeds", "4", "--run-id", "half")
    assert taken.code != 0 and "bench run half exists" in taken.err
    assert len(taken.err.strip().splitlines()) <= 2


def test_max_cost_stops_before_the_limit_and_resume_finishes(
        cli: Any, home: Path, prompts: Path, tmp_path: Path) -> None:
    few = tmp_path / "few.txt"
    few.write_text("".join(f"card {n}\n" for n in range(12)), encoding="utf-8")
    stopped = cli("bench", str(few), "-m", "priced", "--run-id", "budget", "--max-cost",
                  "0.055", "--concurrency", "3", "--json")
    data = json.loads(stopped.out)
    assert stopped.code == 3 and data["stopped"] == "max-cost" and not data["complete"]
    assert len(data["results"]) == 5 and data["spent_usd"] == pytest.approx(0.05)
    assert sum(r["cost_usd"] for r in data["results"]) <= 0.055
    assert data["validated"] == {}  # an unfinished run validates nothing

    text = cli("bench", str(few), "-m", "priced", "--run-id", "budget", "--resume",
               "--max-cost", "0.08")
    assert "stopped by --max-cost after $0.0800: 8 of 12 done" in text.out
    assert "resumed: 5 results were already stored" in text.out
    done = json.loads(cli("bench", str(few), "-m", "priced", "--run-id", "budget",
                          "--resume", "--json").out)
    assert done["complete"] and len(done["results"]) == 12 and done["resumed"] == 8
    assert done["spent_usd"] == pytest.approx(0.12)


def test_resume_refuses_what_it_cannot_continue(cli: Any, home: Path, prompts: Path,
                                                tmp_path: Path) -> None:
    few = tmp_path / "few.txt"
    few.write_text("a\nb\n", encoding="utf-8")
    missing = cli("bench", str(few), "-m", "layout", "--run-id", "nope", "--resume")
    assert missing.code != 0 and "no bench run nope to resume" in missing.err
    assert cli("bench", str(few), "-m", "layout", "--run-id", "small").code == 0
    other = cli("bench", str(few), "-m", "layout", "--seeds", "2", "--run-id", "small",
                "--resume")
    assert other.code != 0 and "started with other prompts, models or seeds" in other.err
    bad = cli("bench", str(few), "-m", "layout", "--run-id", "../etc")
    assert bad.code != 0 and "bad run id" in bad.err
    unnamed = cli("bench", str(few), "-m", "layout", "--resume")
    assert unnamed.code != 0 and "--resume needs --run-id" in unnamed.err
    unpriced = cli("bench", str(few), "-m", "layout", "--max-cost", "1")
    assert unpriced.code == 0  # the built-in layout model is free (price 0)


def test_progress_line_shows_throughput_and_time_left() -> None:
    from chatimg.commands.bench import ProgressMeter

    now = [100.0]
    meter = ProgressMeter(clock=lambda: now[0])
    assert meter.line(40, 200) == "[######........................] 40/200"  # resumed at 40
    now[0] = 110.0
    assert meter.line(60, 200) == "[#########.....................] 60/200 2.00/s ETA 1m10s"
    now[0] = 180.0
    assert meter.line(199, 200).endswith("199/200 1.99/s ETA 1s")
    now[0] = 4000.0
    assert meter.line(200, 200).startswith("[##############################] 200/200")
    slow = ProgressMeter(clock=lambda: now[0])
    slow.line(0, 10_000)
    now[0] += 100
    assert slow.line(1, 10_000).endswith("0.01/s ETA 277h45m")
