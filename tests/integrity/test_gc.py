"""``rm`` reclaims the images only it used; ``doctor --gc`` reclaims the rest after a grace."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.integrity.conftest import asset_paths


def _gen(cli: Any, text: str, seed: str) -> dict[str, Any]:
    result = cli("gen", f'a sign that says "{text}"', "-m", "layout", "--seed", seed, "--json")
    assert result.code == 0, result.err
    made: dict[str, Any] = json.loads(result.out)
    return made


def test_rm_reclaims_only_what_no_other_conversation_uses(
    cli: Any, made: dict[str, Any]
) -> None:
    own = _gen(cli, "MINE", "1")
    shared = _gen(cli, "INTACT", "5")  # same prompt and seed as `made`'s first image
    assert asset_paths(shared)[0] == asset_paths(made)[0]
    removed = cli("rm", own["conversation_id"], "--yes")
    assert removed.code == 0 and "reclaimed 1 image(s)" in removed.out
    assert not asset_paths(own)[0].exists()
    assert cli("rm", shared["conversation_id"], "--yes").code == 0
    assert all(p.exists() for p in asset_paths(made))  # still used by `made`
    assert cli("doctor", "--grace", "0").code == 0
    report = json.loads(cli("doctor", "--grace", "0", "--json").out)
    assert report["garbage"] == []


def test_kept_files_become_garbage_after_the_grace_period(
    cli: Any, made: dict[str, Any], home: Path
) -> None:
    assert cli("rm", made["conversation_id"], "--yes", "--keep-files").code == 0
    files = asset_paths(made)
    assert all(p.exists() for p in files)
    orphan = files[0].parent / ("f" * 64 + ".png")  # a file no row names
    orphan.write_bytes(files[0].read_bytes())
    fresh = json.loads(cli("doctor", "--json").out)  # inside the default grace period
    assert fresh["ok"] and fresh["garbage"] == []
    old = time.time() - 2 * 3600
    import os

    os.utime(orphan, (old, old))
    report = json.loads(cli("doctor", "--json").out)
    assert [g["kind"] for g in report["garbage"]] == ["orphan-file"]
    everything = json.loads(cli("doctor", "--grace", "0", "--json").out)
    assert sorted(g["kind"] for g in everything["garbage"]) == [
        "orphan-file", "unreferenced-asset", "unreferenced-asset"]
    collected = cli("doctor", "--gc", "--grace", "0", "--json")
    assert collected.code == 0
    summary = json.loads(collected.out)
    assert len(summary["reclaimed"]) == 3 and summary["reclaimed_bytes"] > 0
    assert summary["garbage"] == []
    assert not any(p.exists() for p in [*files, orphan])
