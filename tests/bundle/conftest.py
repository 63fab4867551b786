"""Fixtures for bundle tests: a rich thread, the CLI in-process, and store snapshots."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatimg import domain, paths
from tests.tiny_diffusers import write_tiny_model_config

#: Small and fast: 2 steps at 64x64 on CPU.
TINY_DEFAULTS: dict[str, Any] = {"steps": 2, "width": 64, "height": 64, "guidance": 5.0}
ENV_SECRET = "sk-env-SECRET-4f1d9c2b7a"
CONFIG_SECRET = "ideo-config-SECRET-88c1e0"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """Run ``chatimg ARGS`` in-process, as the console script would."""
    from chatimg.cli import main

    capsys.readouterr()
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli("show", ID, "--json")`` → CliResult."""
    return lambda *args: run_cli(capsys, *args)


def write_config(config_file: Path, tiny_path: Path | None, **tiny_extra: Any) -> None:
    """Validation off (tests add checks themselves), a second layout model, maybe ``tiny``."""
    config_file.write_text(
        "[validation]\nenabled = []\n\n"
        '[models.poster]\nengine = "layout"\ncost_per_image = 0.01\n\n'
        f'[keys]\nideogram = "{CONFIG_SECRET}"\n\n',
        encoding="utf-8",
    )
    if tiny_path is not None:
        write_tiny_model_config(config_file, tiny_path, **{**TINY_DEFAULTS, **tiny_extra})


async def build_thread(studio: Any, with_tiny: bool = False) -> str:
    """A thread with several models, a branch, a failed generation, checks and a pick."""
    from chatimg.spec import GenerationSpec

    first = await studio.generate(
        'a red poster that says "HELLO" <script>alert(1)</script> & more',
        ["layout", "poster"], GenerationSpec.build(seed=11, width=128, height=96), validate=False,
    )
    cid = first.message.conversation_id
    second = await studio.generate(
        'a blue card that says "AGAIN"', ["layout"],
        GenerationSpec.build(seed=12, width=96, height=96, count=2), conversation_id=cid,
        validate=False,
    )
    branch = await studio.generate(
        'a green sign that says "BRANCH"', ["poster", "no-such-model"],
        GenerationSpec.build(seed=13, width=64, height=64), conversation_id=cid,
        parent_id=first.message.id, validate=False,
    )
    if with_tiny:
        await studio.generate("a tiny cat", ["tiny"], GenerationSpec.build(seed=5),
                              conversation_id=cid, parent_id=second.message.id, validate=False)
    failed = [g for g in branch.generations if g.status == "failed"]
    assert failed, "the thread needs a failed generation"
    ok = [g for g in (*first.generations, *second.generations) if g.status == "succeeded"]
    studio.repo.add_validations([
        domain.ValidationResult(ok[0].assets[0].sha256, "blank", "1", True, 0.93,
                                {"std": 41.5}, ok[0].id),
        domain.ValidationResult(ok[1].assets[0].sha256, "typography", "2", False, 0.4,
                                {"expected": "HELLO", "read": "HELL0"}, ok[1].id),
    ])
    studio.add_pick([ok[0].id, ok[1].id], ok[1].id, "tester")
    return str(cid)


def snapshot() -> dict[str, Any]:
    """Bytes of the database (file and WAL) and of every file under the asset store."""
    state: dict[str, Any] = {}
    database = paths.database_file()
    for suffix in ("", "-wal"):
        file = Path(str(database) + suffix)
        state[f"db{suffix}"] = hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None
    root = paths.assets_dir()
    state["assets"] = {
        str(file.relative_to(root)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(root.rglob("*")) if file.is_file()
    } if root.exists() else {}
    state["asset_dirs"] = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()) if root.exists() else []
    state["data_dir"] = sorted(p.name for p in paths.data_dir().iterdir())
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        state["dump"] = list(connection.iterdump())
    connection.close()
    return state


@pytest.fixture
def made_thread(config_file: Path) -> Iterator[tuple[str, Path]]:
    """A thread in the test home (Studio closed afterwards) and its exported bundle."""
    import asyncio

    from chatimg.bundle import export_conversation
    from chatimg.studio import Studio

    write_config(config_file, None)
    studio = Studio.open()
    try:
        cid = asyncio.run(build_thread(studio))
        bundle = export_conversation(studio, cid, config_file.parent.parent / "good.zip")
    finally:
        studio.close()
    yield cid, bundle
