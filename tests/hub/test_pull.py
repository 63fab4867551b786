"""``chatimg models pull`` against the hub stand-in: the real ``huggingface_hub`` download code,
only the pipeline's files, offline use afterwards, resume after a kill or a dropped connection,
and one-line errors for a missing or gated repository."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.fakehub import FakeHub
from tests.hub.conftest import REPO, ROOT, UNET, UNWANTED, Run, snapshot, tiny_repo_files

PIPELINE_FILES = ("model_index.json", "scheduler/scheduler_config.json", "unet/config.json",
                  UNET, "vae/diffusion_pytorch_model.safetensors",
                  "text_encoder/model.safetensors", "tokenizer/tokenizer.json")


def _wait_for(predicate, seconds: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_pull_then_gen_works_offline(chatimg: Run, hub: FakeHub,
                                     hub_env: dict[str, str]) -> None:
    done = chatimg("models", "pull", REPO)
    assert done.returncode == 0, done.stderr
    commit = hub.repos[REPO].refs["main"]
    assert f"pulled {REPO}: {REPO}@{commit[:7]}" in done.stdout
    fetched = {name for method, _repo, name, _range in hub.log if method == "GET"}
    assert set(PIPELINE_FILES) <= fetched
    assert not fetched & set(UNWANTED)  # no pickle, no single-file checkpoint, no fp16 on CPU
    assert all(len(hub.gets(name)) == 1 for name in PIPELINE_FILES)
    for name in PIPELINE_FILES:
        assert (snapshot(hub_env, commit) / name).is_file()

    requests_before = len(hub.log)
    made = chatimg("gen", "a lighthouse", "-m", REPO, "--steps", "2", "--size", "64x64",
                   "--seed", "3", "--json", "-q", offline=True)
    assert made.returncode == 0, made.stderr
    (generation,) = json.loads(made.stdout)["generations"]
    assert generation["status"] == "succeeded"
    assert len(hub.log) == requests_before  # offline: not one request
    listed_all = json.loads(chatimg("models", "--json", offline=True).stdout)
    (model,) = [m for m in listed_all if m["name"] == REPO]
    assert model["available"] and model["version"] == commit

    listed = chatimg("models", "ls", "--local", "--json", offline=True)
    assert listed.returncode == 0, listed.stderr
    (local,) = json.loads(listed.stdout)
    assert local["name"] == REPO and local["revision"] == commit
    assert local["size_bytes"] >= sum(len(tiny_repo_files_bytes(hub, n)) for n in PIPELINE_FILES)
    assert local["last_used"] is not None


def tiny_repo_files_bytes(hub: FakeHub, name: str) -> bytes:
    repo = hub.repos[REPO]
    return repo.commits[repo.refs["main"]][name]


def test_killed_pull_resumes_without_fetching_finished_files(
        hub: FakeHub, hub_env: dict[str, str], chatimg: Run) -> None:
    release = threading.Event()
    hub.stall[UNET] = release
    commit = hub.repos[REPO].refs["main"]
    others = [name for name in PIPELINE_FILES if name != UNET]
    process = subprocess.Popen([sys.executable, "-m", "chatimg", "models", "pull", REPO],
                               cwd=ROOT, env=hub_env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert hub.stalled.wait(120), "the pull never reached the UNet weights"
        assert _wait_for(lambda: all((snapshot(hub_env, commit) / n).is_file() for n in others))
        os.killpg(process.pid, signal.SIGKILL)  # killed halfway through the UNet
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
        release.set()
    assert not (snapshot(hub_env, commit) / UNET).exists()
    listed = json.loads(chatimg("models", "--json", offline=True).stdout)
    (half,) = [m for m in listed if m["name"] == REPO]
    assert not half["available"] and half["reason"].startswith("download incomplete")
    assert f"chatimg models pull {REPO}" in half["reason"]

    again = chatimg("models", "pull", REPO)
    assert again.returncode == 0, again.stderr
    for name in others:
        assert len(hub.gets(name)) == 1, f"{name} was fetched again"
    assert len(hub.gets(UNET)) == 2
    assert (snapshot(hub_env, commit) / UNET).read_bytes() == tiny_repo_files_bytes(hub, UNET)
    made = chatimg("gen", "a boat", "-m", REPO, "--steps", "2", "--size", "64x64", "--json",
                   "-q", offline=True)
    assert made.returncode == 0, made.stderr


def test_connection_dropped_mid_file_resumes_from_where_it_stopped(
        hub: FakeHub, hub_env: dict[str, str], chatimg: Run, tiny_sd_path: Path) -> None:
    # huggingface_hub writes in 10 MB chunks, so the resumed offset shows on a larger file.
    files = tiny_repo_files(tiny_sd_path)
    files[UNET] = os.urandom(24_000_000)
    big = "tester/big-unet"
    commit = hub.repo(big).add_commit(files)
    hub.cut_once.add(UNET)
    done = chatimg("models", "pull", big)
    assert done.returncode == 0, done.stderr
    first, second = hub.gets(UNET)
    assert first is None and second is not None
    offset = int(second.removeprefix("bytes=").split("-")[0])
    assert 0 < offset <= len(files[UNET]) // 2  # only what was missing came the second time
    assert (snapshot(hub_env, commit, big) / UNET).read_bytes() == files[UNET]


def test_revision_pinning_fetches_that_commit(hub: FakeHub, hub_env: dict[str, str],
                                              chatimg: Run, tiny_sd_path: Path) -> None:
    repo = hub.repos[REPO]
    old = repo.refs["main"]
    files = tiny_repo_files(tiny_sd_path)
    files["scheduler/scheduler_config.json"] = files["scheduler/scheduler_config.json"].replace(
        b'"steps_offset": 1', b'"steps_offset": 0')
    new = repo.add_commit(files)
    done = chatimg("models", "pull", REPO, "--revision", old)
    assert done.returncode == 0, done.stderr
    assert snapshot(hub_env, old).is_dir() and not snapshot(hub_env, new).exists()
    listed = json.loads(chatimg("models", "--json", offline=True).stdout)
    (model,) = [m for m in listed if m["name"] == REPO]
    assert model["available"] and model["version"] == old


def test_missing_and_gated_models_fail_in_one_line(hub: FakeHub, chatimg: Run,
                                                   tiny_sd_path: Path) -> None:
    missing = chatimg("models", "pull", "nobody/not-there")
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    assert "nobody/not-there was not found on the hub (HTTP 404)" in missing.stderr

    hub.repo("vendor/gated").gated = True
    hub.repos["vendor/gated"].add_commit(tiny_repo_files(tiny_sd_path))
    gated = chatimg("models", "pull", "vendor/gated")
    assert gated.returncode == 1
    assert gated.stderr.count("\n") == 1 and "Traceback" not in gated.stderr
    assert "vendor/gated is gated (HTTP 401)" in gated.stderr
    assert "hf auth login" in gated.stderr and "HF_TOKEN" in gated.stderr

    hub.repo("tester/not-a-pipeline").add_commit({"config.json": b"{}"})
    other = chatimg("models", "pull", "tester/not-a-pipeline")
    assert other.returncode == 1 and other.stderr.count("\n") == 1
    assert "has no model_index.json: not a diffusers pipeline" in other.stderr

    offline = chatimg("models", "pull", REPO, offline=True)
    assert offline.returncode == 1 and offline.stderr.count("\n") == 1
    assert "HF_HUB_OFFLINE" in offline.stderr


def test_pull_without_the_local_extra_names_it(hub_env: dict[str, str]) -> None:
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'huggingface_hub':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from chatimg.cli import main\n"
        "main(['models', 'pull', 'sd-turbo'])\n"
    )
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True,
                          cwd=ROOT, env=hub_env, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "pip install 'chatimg[local]'" in done.stderr


def test_fp16_variant_fetches_only_fp16_weights_and_loads(
        hub: FakeHub, hub_env: dict[str, str], chatimg: Run, tiny_sd_path: Path,
        tmp_path: Path) -> None:
    import torch

    from tests.fakehub import folder_files
    from tests.tiny_diffusers import build_tiny_sd_pipeline

    half = tmp_path / "fp16"
    build_tiny_sd_pipeline().to(torch.float16).save_pretrained(
        str(half), variant="fp16", safe_serialization=True)
    files = tiny_repo_files(tiny_sd_path)
    files.update({name: data for name, data in folder_files(half).items()
                  if ".fp16." in name})
    fp16 = {name for name in files if name.endswith(".fp16.safetensors")}
    assert {UNET.replace(".safetensors", ".fp16.safetensors")} <= fp16
    commit = hub.repo("tester/tiny-fp16").add_commit(files)
    done = chatimg("models", "pull", "tester/tiny-fp16", "--variant", "fp16")
    assert done.returncode == 0, done.stderr
    assert " fp16 " in done.stdout
    fetched = {name for method, _repo, name, _range in hub.log if method == "GET"}
    assert fp16 <= fetched
    assert not fetched & {name.replace(".fp16.", ".") for name in fp16}  # no full weights
    made = chatimg("gen", "a tree", "-m", "tester/tiny-fp16", "--steps", "2", "--size",
                   "64x64", "--json", "-q", offline=True)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["generations"][0]["status"] == "succeeded"
    assert snapshot(hub_env, commit, "tester/tiny-fp16").is_dir()
