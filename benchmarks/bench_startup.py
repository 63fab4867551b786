"""Start-up and listing costs of the CLI (issue: foundation).

Prints, each against a baseline measured in the same run:
- ``chatimg --help`` wall time vs ``python -c "import click"``;
- ``chatimg ls --json`` on a database of 1,000 conversations and 50,000 messages vs
  ``chatimg --version`` (and vs ``ls --json`` on an empty database);
- prompt search time per query, in-process, and the database size.

Run: ``.venv/bin/python benchmarks/bench_startup.py``
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Median wall time of a command over RUNS runs (after one warm-up)."""
    subprocess.run(argv, env=env, capture_output=True, check=True, cwd=ROOT)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def populate(home: Path, conversations: int, messages: int) -> None:
    os.environ["CHATIMG_HOME"] = str(home)
    from chatimg.ids import new_id
    from chatimg.store.tables import ConversationRow, MessageRow, utcnow
    from chatimg.studio import Studio

    studio = Studio.open()
    words = ["castle", "forest", "ocean", "portrait", "poster", "neon", "city", "river",
             "dragon", "sunset", "robot", "garden", "mountain", "harbour", "lantern", "desert"]
    conv_rows = [ConversationRow(id=new_id(), title=f"conversation {i}", created_at=utcnow(),
                                 updated_at=utcnow()) for i in range(conversations)]
    with studio.db.write() as session:
        session.add_all(conv_rows)
    batch: list[MessageRow] = []
    for index in range(messages):
        text = (f"a {words[index % 16]} with a {words[(index // 16) % 16]} and "
                f"{words[(index // 256) % 16]} lights, variation {index}")
        batch.append(MessageRow(id=new_id(), conversation_id=conv_rows[index % conversations].id,
                                text=text, role="user", params={}, created_at=utcnow()))
        if len(batch) == 5000:
            with studio.db.write() as session:
                session.add_all(batch)
            batch = []
    if batch:
        with studio.db.write() as session:
            session.add_all(batch)
    studio.close()


def main() -> None:
    python = sys.executable
    # every command starts from compiled bytecode, as an installed chatimg does (with
    # PYTHONDONTWRITEBYTECODE set, a changed module is otherwise compiled in every run)
    compileall.compile_dir(ROOT / "chatimg", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        big, empty = Path(tmp) / "big", Path(tmp) / "empty"
        started = time.perf_counter()
        populate(big, 1_000, 50_000)
        print(f"populated 1,000 conversations / 50,000 messages in {time.perf_counter() - started:.1f} s")
        env_big = {**os.environ, "CHATIMG_HOME": str(big)}
        env_empty = {**os.environ, "CHATIMG_HOME": str(empty)}
        subprocess.run([python, "-m", "chatimg", "ls"], env=env_empty, check=True,
                       capture_output=True)

        click_time = wall([python, "-c", "import click"], env_big)
        help_time = wall([python, "-m", "chatimg", "--help"], env_big)
        version_time = wall([python, "-m", "chatimg", "--version"], env_big)
        ls_empty = wall([python, "-m", "chatimg", "ls", "--json"], env_empty)
        ls_big = wall([python, "-m", "chatimg", "ls", "--json"], env_big)

        print(f"chatimg --help        {help_time * 1000:7.1f} ms   vs import click "
              f"{click_time * 1000:6.1f} ms   ratio {help_time / click_time:.2f} (goal <= 1.5)")
        print(f"chatimg ls --json     {ls_big * 1000:7.1f} ms   vs --version "
              f"{version_time * 1000:6.1f} ms   ratio {ls_big / version_time:.2f} (goal <= 3)")
        print(f"chatimg ls --json     {ls_big * 1000:7.1f} ms   vs the same on an empty database "
              f"{ls_empty * 1000:6.1f} ms   ratio {ls_big / ls_empty:.2f}")

        os.environ["CHATIMG_HOME"] = str(big)
        from chatimg.studio import Studio

        studio = Studio.open()
        queries = ["dragon", "harbour lantern", "neon city", "variation 4999", "mount",
                   "robot garden desert", "castle"]
        studio.search("warm up")
        per_query = []
        for query in queries * 3:
            started = time.perf_counter()
            hits = studio.search(query)
            per_query.append(time.perf_counter() - started)
            assert hits, query
        studio.close()
        size = sum(p.stat().st_size for p in (big / "data").glob("chatimg.db*"))
        print(f"search per query      median {statistics.median(per_query) * 1000:.2f} ms, "
              f"max {max(per_query) * 1000:.2f} ms (goal < 20 ms), 50 hits per query at most")
        print(f"database size         {size / 1e6:.1f} MB (with WAL)")


if __name__ == "__main__":
    main()
