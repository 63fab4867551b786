"""``chatimg models rm`` and ``update`` on pulled models: space freed only where no other model
needs it, the model then listed with the pull hint; a new revision becomes a new, unvalidated
version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fakehub import FakeHub
from tests.hub.conftest import REPO, Run, hub_cache, snapshot, tiny_repo_files


def _models(chatimg: Run) -> dict[str, dict[str, Any]]:
    listed = chatimg("models", "--json", offline=True)
    assert listed.returncode == 0, listed.stderr
    return {item["name"]: item for item in json.loads(listed.stdout)}


def _second_commit(hub: FakeHub, tiny_sd_path: Path) -> tuple[str, bytes]:
    """A new commit on main that changes only the scheduler config."""
    files = tiny_repo_files(tiny_sd_path)
    changed = files["scheduler/scheduler_config.json"].replace(b'"steps_offset": 1',
                                                               b'"steps_offset": 0')
    assert changed != files["scheduler/scheduler_config.json"]
    files["scheduler/scheduler_config.json"] = changed
    return hub.repos[REPO].add_commit(files), changed


def _disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def test_rm_frees_only_what_no_other_model_uses(hub: FakeHub, hub_env: dict[str, str],
                                                chatimg: Run, tiny_sd_path: Path) -> None:
    old = hub.repos[REPO].refs["main"]
    config = Path(hub_env["CHATIMG_HOME"]) / "config" / "config.toml"
    config.write_text(config.read_text(encoding="utf-8") + (
        f'\n[models.tiny-old]\nengine = "diffusers"\nsource = "{REPO}"\nrevision = "{old}"\n'
        'steps = 2\nwidth = 64\nheight = 64\n'), encoding="utf-8")
    # the same files, so the same commit hash as tiny-old: removal must stay inside one repo
    hub.repo("tester/other").add_commit(tiny_repo_files(tiny_sd_path))
    for model in ("tiny-old", "tester/other"):
        assert chatimg("models", "pull", model).returncode == 0
    new, changed = _second_commit(hub, tiny_sd_path)
    done = chatimg("models", "pull", REPO)  # the hub id, unpinned: main, now the new commit
    assert done.returncode == 0, done.stderr
    assert snapshot(hub_env, new).is_dir() and snapshot(hub_env, old).is_dir()
    repo_folder = hub_cache(hub_env) / "models--tester--tiny-sd"
    before = _disk_bytes(repo_folder / "blobs")

    removed = chatimg("models", "rm", REPO, "--json")
    assert removed.returncode == 0, removed.stderr
    report = json.loads(removed.stdout)
    assert report["removed"] == [new] and report["kept"] == {old: ["tiny-old"]}
    assert report["freed_bytes"] == len(changed)  # every other blob is shared with tiny-old
    assert before - _disk_bytes(repo_folder / "blobs") == len(changed)
    assert not snapshot(hub_env, new).exists()

    models = _models(chatimg)
    assert not models[REPO]["available"]
    assert f"chatimg models pull {REPO}" in models[REPO]["reason"]
    assert models["tiny-old"]["available"] and models["tester/other"]["available"]
    made = chatimg("gen", "a kite", "-m", "tiny-old", "--json", "-q", offline=True)
    assert made.returncode == 0, made.stderr

    assert chatimg("models", "rm", "tiny-old").returncode == 0
    assert not repo_folder.exists()  # nothing left that another model needs
    text = chatimg("models", offline=True).stdout
    (line,) = [row for row in text.splitlines() if row.startswith("tiny-old ")]
    assert "unavailable: weights not cached" in line and "chatimg models pull tiny-old" in line
    local = json.loads(chatimg("models", "ls", "--local", "--json", offline=True).stdout)
    assert [item["name"] for item in local] == ["tester/other"]
    assert snapshot(hub_env, hub.repos["tester/other"].refs["main"], "tester/other").is_dir()


def test_update_records_a_new_unvalidated_version(hub: FakeHub, chatimg: Run,
                                                  tiny_sd_path: Path) -> None:
    first = hub.repos[REPO].refs["main"]
    assert chatimg("models", "pull", REPO).returncode == 0
    same = chatimg("models", "update", REPO)
    assert same.returncode == 0, same.stderr
    assert f"{REPO} is up to date ({first[:7]})" in same.stdout
    assert _models(chatimg)[REPO]["version"] == first

    second, _changed = _second_commit(hub, tiny_sd_path)
    updated = chatimg("models", "update", REPO)
    assert updated.returncode == 0, updated.stderr
    assert f"{first[:7]} -> {second[:7]}" in updated.stdout and "unvalidated" in updated.stdout
    model = _models(chatimg)[REPO]
    assert model["version"] == second
    assert model["version_state"] == "unvalidated" and model["validated"] is False
    assert len(hub.gets("scheduler/scheduler_config.json")) == 2
    assert len(hub.gets("unet/diffusion_pytorch_model.safetensors")) == 1  # same blob kept
