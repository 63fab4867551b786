"""Bad input from outside gives one line and a non-zero exit, never a traceback, and deletes nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatimg", *args],
        env={**os.environ, "CHATIMG_HOME": str(home), **(env or {})},
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chatimg: error: ")
    return lines[0]


def test_config_file_with_invalid_toml(home: Path) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('default_model = "layout"\n[models.x]\nengine = \n', encoding="utf-8")
    before = config.read_bytes()
    line = assert_one_line_error(run(home, "ls"))
    assert str(config) in line and "line 3" in line
    assert config.read_bytes() == before


def test_config_file_with_a_wrong_value_names_the_line_and_key(home: Path) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '# comment\ndefault_model = "layout"\n\n[network]\nread_timeout = "soon"\n',
        encoding="utf-8",
    )
    line = assert_one_line_error(run(home, "ls"))
    assert str(config) in line and "line 5" in line and "network.read_timeout" in line


def test_config_file_with_an_unknown_key(home: Path) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[models.mine]\nengine = "layout"\n[diffusers]\nbudget = 3\n', encoding="utf-8")
    line = assert_one_line_error(run(home, "ls"))
    assert "line 4" in line and "diffusers.budget" in line and "unknown key" in line


def test_config_named_by_env_var(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text("theme = 3\n", encoding="utf-8")
    line = assert_one_line_error(run(home, "ls", env={"CHATIMG_CONFIG": str(other)}))
    assert str(other) in line and "theme" in line


def test_bad_environment_override(home: Path) -> None:
    line = assert_one_line_error(run(home, "ls", env={"CHATIMG_NETWORK__MAX_RETRIES": "many"}))
    assert "CHATIMG_NETWORK__MAX_RETRIES" in line


def test_unknown_conversation_id(home: Path) -> None:
    line = assert_one_line_error(run(home, "show", "01J000000000000000000NOPE0"))
    assert "no conversation" in line


def test_database_file_that_is_not_a_database(home: Path) -> None:
    database = home / "data" / "chatimg.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is a text file, not SQLite\n" * 100)
    digest = hashlib.sha256(database.read_bytes()).hexdigest()
    for args in (("ls",), ("gen", "x", "-m", "layout"), ("db", "current")):
        line = assert_one_line_error(run(home, *args))
        assert "not a chatimg database" in line
    assert hashlib.sha256(database.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in database.parent.iterdir()) == ["chatimg.db"]


def test_the_app_without_a_terminal_on_stdin_says_so_and_opens_nothing(home: Path) -> None:
    # (``chatimg < /dev/null``, cron, a pipeline: Textual's input thread spun at 100% CPU on
    # the end of the input, and no key, not even the quit key, could reach the app)
    result = subprocess.run([sys.executable, "-m", "chatimg"], stdin=subprocess.DEVNULL,
                            env={**os.environ, "CHATIMG_HOME": str(home)},
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    line = assert_one_line_error(result)
    assert "needs a terminal" in line and "stdin" in line
    assert result.stdout == ""
    assert not (home / "data").exists()  # (no store opened or made)
