"""A team database for tests: one fresh PostgreSQL database in team mode and three people.

``alice`` and ``bob`` are editors, ``carol`` a viewer; each is a real login role (names carry a
random suffix: roles are shared by the whole server). Each person has their own home (and local
image cache); their images live in one bucket of the test session's S3 server, as a team's do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from chatimg.studio import Studio


@dataclass
class Team:
    """The team database and its people."""

    admin_url: str
    names: dict[str, str]
    """person (``alice``, ``bob``, ``carol``) → their database role."""
    homes: dict[str, Path]

    def url(self, person: str) -> str:
        """The database URL ``person`` connects with (trust auth: no password)."""
        return make_url(self.admin_url).set(username=self.names[person]).render_as_string(
            hide_password=False)

    def use(self, monkeypatch: pytest.MonkeyPatch, person: str) -> None:
        """Point CHATIMG_HOME and CHATIMG_DATABASE_URL at ``person``."""
        monkeypatch.setenv("CHATIMG_HOME", str(self.homes[person]))
        monkeypatch.setenv("CHATIMG_DATABASE_URL", self.url(person))

    def studio(self, monkeypatch: pytest.MonkeyPatch, person: str) -> Studio:
        """An open Studio acting as ``person`` (the environment is left pointing at them)."""
        from chatimg.studio import Studio

        self.use(monkeypatch, person)
        return Studio.open()


@pytest.fixture
def team(postgres_url: str, home: Path, tmp_path: Path, s3_url: str,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    """A migrated database in team mode with alice and bob (editors) and carol (viewer), their
    images in one S3 bucket (``[storage] url`` from the environment, for every person).

    Bob's home is the test's own ``home`` (so its config applies to his app).
    """
    import psycopg

    from chatimg.store import team as store_team
    from chatimg.store.database import Database

    suffix = uuid.uuid4().hex[:8]
    names = {person: f"{person}_{suffix}" for person in ("alice", "bob", "carol")}
    database = Database(postgres_url)
    database.upgrade()
    store_team.init(database)
    for person, role in (("alice", "editor"), ("bob", "editor"), ("carol", "viewer")):
        store_team.add_user(database, names[person], role, None)
    database.dispose()
    homes = {"alice": tmp_path / "alice", "bob": home, "carol": tmp_path / "carol"}
    monkeypatch.setenv("CHATIMG_STORAGE__URL", s3_url)
    try:
        yield Team(postgres_url, names, homes)
    finally:
        admin = make_url(postgres_url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            for role in names.values():
                connection.execute(f'DROP OWNED BY "{role}"')
                connection.execute(f'DROP ROLE "{role}"')
