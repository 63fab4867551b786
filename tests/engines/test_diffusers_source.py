"""Model sources: classification, cheap versions and sizes, and the file-hash cache."""

from __future__ import annotations

import os
from pathlib import Path

from chatimg.engines.diffusers_source import (
    file_sha256,
    folder_config_hash,
    missing_reason,
    resolve_source,
    source_version,
    weights_bytes,
)


def test_sources_are_classified(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(b"weights")
    assert resolve_source(str(folder)).kind == "folder"
    assert resolve_source(str(checkpoint)).kind == "file"
    hub = resolve_source("stabilityai/sd-turbo", "main")
    assert (hub.kind, hub.location, hub.revision) == ("hub", "stabilityai/sd-turbo", "main")
    assert resolve_source(str(tmp_path / "missing" / "deep" / "path")).kind == "folder"


def test_missing_weights_are_explained(tmp_path: Path) -> None:
    assert "does not exist" in (missing_reason(resolve_source(str(tmp_path / "a" / "b" / "c")))
                                or "")
    (tmp_path / "empty").mkdir()
    assert "no model_index.json" in (missing_reason(resolve_source(str(tmp_path / "empty")))
                                     or "")
    reason = missing_reason(resolve_source("nobody-here/never-downloaded"))
    assert reason is not None and reason.startswith("weights not cached")
    assert "chatimg models pull nobody-here/never-downloaded" in reason


def test_file_hash_is_cached_by_size_and_mtime(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(b"first version")
    assert file_sha256(str(checkpoint), compute=False) is None  # never hashed yet
    first = file_sha256(str(checkpoint))
    assert first is not None and first.startswith("sha256:")
    assert file_sha256(str(checkpoint), compute=False) == first  # from the cache
    checkpoint.write_bytes(b"second version!")
    os.utime(checkpoint, ns=(1, 2))
    assert file_sha256(str(checkpoint), compute=False) is None
    assert file_sha256(str(checkpoint)) not in (None, first)


def test_folder_version_follows_configs(tiny_sd_path: Path, tiny_copy: Path) -> None:
    assert folder_config_hash(str(tiny_sd_path)) == folder_config_hash(str(tiny_copy))
    config = tiny_copy / "scheduler" / "scheduler_config.json"
    config.write_text(config.read_text().replace("trailing", "leading"))
    assert folder_config_hash(str(tiny_sd_path)) != folder_config_hash(str(tiny_copy))
    assert source_version(resolve_source(str(tiny_copy))) == folder_config_hash(str(tiny_copy))


def test_weights_size_estimate(tiny_sd_path: Path) -> None:
    size = weights_bytes(resolve_source(str(tiny_sd_path)))
    files = [p for p in tiny_sd_path.rglob("*.safetensors")]
    assert size == sum(p.stat().st_size for p in files) and size > 0
