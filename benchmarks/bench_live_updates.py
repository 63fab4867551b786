"""Live updates: how long after a writer's commit the change feed reports it, each against the
write itself measured in the same run (the baseline), and against the one-second goal.

- SQLite: ``PRAGMA data_version`` read every 0.5 s (delay: at most one interval).
- PostgreSQL (when ``CHATIMG_TEST_POSTGRES_URL`` names a server, as under
  ``.ci/with-postgres.sh``): LISTEN/NOTIFY on a throw-away database.

Run: ``.venv/bin/python benchmarks/bench_live_updates.py``
(or ``bash .ci/with-postgres.sh .venv/bin/python benchmarks/bench_live_updates.py``)
"""

from __future__ import annotations

import os
import queue
import statistics
import tempfile
import time
import uuid
from pathlib import Path

WRITES = 10
GOAL_S = 1.0


def measure(url: str, label: str) -> None:
    """Median feed delay and write time for ``WRITES`` messages on ``url``."""
    from chatimg.store.changes import Change, open_feed
    from chatimg.store.database import Database
    from chatimg.store.repository import Repository

    writer, watcher = Database(url), Database(url)
    writer.upgrade()
    repo = Repository(writer, Path(tempfile.mkdtemp()) / "assets")
    conversation = repo.create_conversation("bench")
    received: queue.Queue[tuple[float, Change]] = queue.Queue()
    feed = open_feed(watcher)
    feed.start(lambda change: received.put((time.perf_counter(), change)))
    feed.ready.wait(30)
    delays, writes = [], []
    try:
        for index in range(WRITES):
            while not received.empty():
                received.get_nowait()
            started = time.perf_counter()
            repo.add_message(conversation.id, f"message {index}")
            committed = time.perf_counter()
            arrived, _ = received.get(timeout=30)
            writes.append(committed - started)
            delays.append(max(0.0, arrived - committed))
    finally:
        feed.stop()
        writer.dispose()
        watcher.dispose()
    delay, write = statistics.median(delays), statistics.median(writes)
    print(f"{label}: feed delay median {delay * 1000:.1f} ms (max {max(delays) * 1000:.1f} ms), "
          f"the write itself {write * 1000:.1f} ms: ratio {delay / write:.3f}x; "
          f"{delay / GOAL_S:.2f} of the 1 s goal")


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="chatimg-bench-live-"))
    os.environ["CHATIMG_HOME"] = str(home)
    measure(f"sqlite:///{home / 'chatimg.db'}", "SQLite data_version")
    server = os.environ.get("CHATIMG_TEST_POSTGRES_URL")
    if not server:
        print("PostgreSQL: skipped (run under .ci/with-postgres.sh)")
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        measure(base.set(database=name).render_as_string(hide_password=False),
                "PostgreSQL LISTEN/NOTIFY")
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
