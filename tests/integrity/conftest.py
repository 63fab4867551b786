"""Fixtures for store-integrity tests: the CLI in-process and a home with a few images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import CliResult, run_cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli("show", ID)`` → CliResult (exit code, stdout, stderr)."""
    return lambda *args: run_cli(capsys, *args)


@pytest.fixture
def made(cli: Any, config_file: Path) -> dict[str, Any]:
    """One conversation with two layout images (blank and size checks on); its ``gen --json``."""
    config_file.write_text('[validation]\nenabled = ["blank", "size"]\n', encoding="utf-8")
    result: CliResult = cli("gen", 'a sign that says "INTACT"', "-m", "layout", "-n", "2",
                            "--seed", "5", "--json")
    assert result.code == 0, result.err
    made: dict[str, Any] = json.loads(result.out)
    return made


def asset_paths(made: dict[str, Any]) -> list[Path]:
    """The stored files of a ``gen --json`` result, in order."""
    return [Path(a["path"]) for g in made["generations"] for a in g["assets"]]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    return child.pid
