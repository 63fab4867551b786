"""Shared fixtures: every test gets its own CHATIMG_HOME; PostgreSQL when a server is provided."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chatimg.studio import Studio

pytest_plugins = ["tests.tiny_diffusers", "tests.s3server", "tests.teamdb"]

KEY_VARS = ("IDEOGRAM_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY",
            "A1111_AUTH", "COMFYUI_API_KEY", "OPENAI_BASE_URL", "IDEOGRAM_BASE_URL",
            "GEMINI_BASE_URL", "COMFYUI_URL", "A1111_URL")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated CHATIMG_HOME with no keys, no config and no database URL from outside."""
    root = tmp_path / "home"
    monkeypatch.setenv("CHATIMG_HOME", str(root))
    for name in list(os.environ):
        if name.startswith("CHATIMG_") and name not in ("CHATIMG_HOME", "CHATIMG_TEST_POSTGRES_URL"):
            monkeypatch.delenv(name, raising=False)
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return root


@pytest.fixture
def config_file(home: Path) -> Path:
    """The config file path inside the test home (not created)."""
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def studio(home: Path) -> Iterator[Studio]:
    """A Studio on SQLite in the test home, migrated to head."""
    from chatimg.studio import Studio

    instance = Studio.open()
    yield instance
    instance.close()


def _postgres_server_url() -> str | None:
    return os.environ.get("CHATIMG_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the test server (dropped afterwards)."""
    server = _postgres_server_url()
    if not server:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must provide CHATIMG_TEST_POSTGRES_URL (see .ci/with-postgres.sh)")
        pytest.skip("no PostgreSQL server (run through `make test`)")
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, home: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{home / 'data' / 'chatimg.db'}"
    return str(request.getfixturevalue("postgres_url"))
