"""Fixtures for engine tests: a Studio whose config offers the tiny diffusers pipeline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tiny_diffusers import write_tiny_model_config

#: Small and fast: 2 steps at 64x64 on CPU.
TINY_DEFAULTS: dict[str, Any] = {"steps": 2, "width": 64, "height": 64, "guidance": 5.0}


@pytest.fixture
def tiny_config(config_file: Path, tiny_sd_path: Path) -> Path:
    """A config file with ``[models.tiny]`` on the tiny SD folder and validation off.

    One torch thread: the machines running tests are shared, and spinning threads slow down.
    """
    config_file.write_text("[validation]\nenabled = []\n\n[diffusers]\nthreads = 1\n\n",
                           encoding="utf-8")
    return write_tiny_model_config(config_file, tiny_sd_path, **TINY_DEFAULTS)


@pytest.fixture
def tiny_copy(tmp_path: Path, tiny_sd_path: Path) -> Path:
    """A second folder with the same pipeline (a different model as far as chatimg knows)."""
    return Path(shutil.copytree(tiny_sd_path, tmp_path / "tiny-copy"))


@pytest.fixture
def tiny_studio(tiny_config: Path) -> Iterator[Any]:
    """A migrated Studio on SQLite whose catalog has ``tiny``."""
    from chatimg.studio import Studio

    instance = Studio.open()
    yield instance
    instance.close()


def open_studio() -> Any:
    """A Studio from the current test home's config."""
    from chatimg.studio import Studio

    return Studio.open()
