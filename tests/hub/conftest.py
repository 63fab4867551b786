"""Fixtures for ``chatimg models pull|ls|rm|update``: a hub stand-in serving the tiny pipeline.

The commands run in subprocesses, as a person runs them: ``huggingface_hub`` reads
``HF_ENDPOINT``, ``HF_HOME`` and ``HF_HUB_OFFLINE`` once at import, so each step gets a fresh
process with its own environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakehub import FakeHub, folder_files, serve_hub

ROOT = Path(__file__).resolve().parents[2]
REPO = "tester/tiny-sd"
#: Files in the repository that a pull must never fetch.
UNWANTED = ("README.md", "tiny-single-file.ckpt", "unet/diffusion_pytorch_model.bin",
            "unet/diffusion_pytorch_model.fp16.safetensors")
UNET = "unet/diffusion_pytorch_model.safetensors"


def tiny_repo_files(tiny_sd_path: Path) -> dict[str, bytes]:
    """The tiny pipeline as a hub repository, with files a pull must leave alone."""
    files = folder_files(tiny_sd_path)
    files["README.md"] = b"# tiny\n"
    files["tiny-single-file.ckpt"] = b"\0" * 4096
    files["unet/diffusion_pytorch_model.bin"] = b"\1" * 4096
    files["unet/diffusion_pytorch_model.fp16.safetensors"] = b"\2" * 4096
    return files


@pytest.fixture
def hub(tiny_sd_path: Path) -> Iterator[FakeHub]:
    """A running hub stand-in with ``tester/tiny-sd`` at one commit on main."""
    with serve_hub() as server:
        server.repo(REPO).add_commit(tiny_repo_files(tiny_sd_path))
        yield server


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def hub_env(home: Path, tmp_path: Path, hub: FakeHub) -> dict[str, str]:
    """Environment for a chatimg subprocess: online, the stand-in as the hub, a fresh cache."""
    env = {key: value for key, value in os.environ.items()
           if not key.upper().startswith(("HF_", "HUGGINGFACE", "TRANSFORMERS_OFFLINE"))
           and key.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update({"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"),
                "CHATIMG_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost",
                "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_ETAG_TIMEOUT": "5",
                "HF_HUB_DOWNLOAD_TIMEOUT": "10"})
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[validation]\nenabled = []\n\n[diffusers]\nthreads = 1\n",
                      encoding="utf-8")
    return env


@pytest.fixture
def chatimg(hub_env: dict[str, str]) -> Run:
    """Run ``chatimg ARGS`` in a subprocess (``offline=True`` sets HF_HUB_OFFLINE=1)."""

    def run(*args: str, offline: bool = False, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = dict(hub_env)
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        return subprocess.run([sys.executable, "-m", "chatimg", *args], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=timeout, check=False)

    return run


def hub_cache(hub_env: dict[str, str]) -> Path:
    """The hub cache folder the subprocesses use."""
    return Path(hub_env["HF_HOME"]) / "hub"


def snapshot(hub_env: dict[str, str], commit: str, repo: str = REPO) -> Path:
    return hub_cache(hub_env) / ("models--" + repo.replace("/", "--")) / "snapshots" / commit
