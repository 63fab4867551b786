"""The tiny diffusers fixture builds a loadable pipeline folder."""

from __future__ import annotations

from pathlib import Path


def test_tiny_sd_folder_has_model_index(tiny_sd_path: Path) -> None:
    assert (tiny_sd_path / "model_index.json").is_file()
    assert (tiny_sd_path / "unet" / "config.json").is_file()
