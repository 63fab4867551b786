"""Where a diffusers model's weights live, and its version, found cheaply (no torch import).

A source is a local folder (``model_index.json``), a single-file checkpoint (``.safetensors``,
``.ckpt``) or a Hugging Face hub id. Versions: the hub commit, a sha256 of a single file (cached by
path, size and mtime), or a hash of a folder's ``model_index.json`` and component configs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".bin")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")

_hash_lock = threading.Lock()
_memory_hashes: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Source:
    """A resolved model source."""

    kind: str
    """``folder``, ``file`` or ``hub``."""
    location: str
    """Absolute path, or the hub id."""
    revision: str | None = None

    @property
    def is_local(self) -> bool:
        return self.kind != "hub"


def resolve_source(source: str, revision: str | None = None) -> Source:
    """Classify ``source``: an existing folder or file, or else a hub id."""
    path = Path(source).expanduser()
    if path.is_dir():
        return Source("folder", str(path.resolve()))
    if path.is_file() or path.suffix.lower() in SINGLE_FILE_SUFFIXES:
        return Source("file", str(path.resolve()))
    if source.startswith(("/", "~", ".")) or os.sep in source.strip("/").replace("/", "", 1):
        return Source("folder", str(path.resolve()))
    return Source("hub", source, revision)


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, found as ``huggingface_hub`` finds it (``HF_HUB_CACHE``,
    ``HF_HOME``, ``XDG_CACHE_HOME``) without importing it."""

    def expand(value: str) -> str:
        return os.path.expandvars(os.path.expanduser(value))

    base = os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    home = expand(os.getenv("HF_HOME", os.path.join(base, "huggingface")))
    legacy = os.getenv("HUGGINGFACE_HUB_CACHE", os.path.join(home, "hub"))
    return Path(expand(os.getenv("HF_HUB_CACHE", legacy)))


def hub_repo_folder(repo_id: str) -> Path:
    """The cache folder of a model repository (``models--org--name``)."""
    return hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))


def hub_commit(repo_id: str, revision: str | None) -> str | None:
    """The cached commit that ``revision`` (default ``main``) points to, if it is cached."""
    folder = hub_repo_folder(repo_id)
    if revision and _COMMIT.match(revision):
        return revision if (folder / "snapshots" / revision).is_dir() else None
    try:
        commit = (folder / "refs" / (revision or "main")).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return commit if commit and (folder / "snapshots" / commit).is_dir() else None


def hub_cached_file(source: Source, filename: str = "model_index.json") -> str | None:
    """The local path of ``filename`` of a hub model if it is in the hub cache, else None."""
    commit = hub_commit(source.location, source.revision)
    if commit is None:
        return None
    path = hub_repo_folder(source.location) / "snapshots" / commit / filename
    return str(path) if path.is_file() else None


def model_index(source: Source) -> dict[str, Any] | None:
    """The ``model_index.json`` of a folder or cached hub model (None when unknown)."""
    if source.kind == "folder":
        path: str | None = str(Path(source.location) / "model_index.json")
    elif source.kind == "hub":
        path = hub_cached_file(source)
    else:
        return None
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def missing_reason(source: Source, name: str | None = None) -> str | None:
    """Why the weights are not here (None when they look present). Cheap: no loading.

    Args:
        source: The model's source.
        name: The catalog name, for the pull hint (default: the hub id).
    """
    if source.kind == "folder":
        folder = Path(source.location)
        if not folder.is_dir():
            return f"folder {source.location} does not exist"
        if not (folder / "model_index.json").is_file():
            return f"{source.location} has no model_index.json (not a diffusers folder)"
        return None
    if source.kind == "file":
        return None if Path(source.location).is_file() else f"file {source.location} not found"
    index = hub_cached_file(source)
    if index is None:
        return f"weights not cached ({download_hint(source, name)})"
    from chatimg.engines.pipeline_files import pipeline_complete

    if not pipeline_complete(Path(index).parent):
        return f"download incomplete ({download_hint(source, name)})"
    return None


def download_hint(source: Source, name: str | None = None) -> str:
    """How to get a hub model's weights: ``chatimg models pull NAME``."""
    if name:
        return f"get them with `chatimg models pull {name}`, which needs network"
    revision = f" --revision {source.revision}" if source.revision else ""
    return f"get them with `chatimg models pull {source.location}{revision}`, which needs network"


def snapshot_folder(source: Source) -> str | None:
    """The cached snapshot folder of a hub model, or a local folder's path (None if absent)."""
    if source.kind == "folder":
        return source.location
    if source.kind == "hub":
        cached = hub_cached_file(source)
        return str(Path(cached).parent) if cached else None
    return None


def cached_variant(source: Source) -> str | None:
    """``fp16`` when the weights here are fp16 variant files only (a pull on a GPU machine)."""
    from chatimg.engines.pipeline_files import snapshot_variant

    folder = snapshot_folder(source)
    return snapshot_variant(folder) if folder else None


def file_sha256(path: str, *, compute: bool = True) -> str | None:
    """sha256 of a file, cached by path, size and mtime (in memory and in the cache folder)."""
    from chatimg import paths

    try:
        stat = Path(path).stat()
    except OSError:
        return None
    key = (path, stat.st_size, stat.st_mtime_ns)
    store = paths.cache_dir() / "file-hashes.json"
    with _hash_lock:
        if key in _memory_hashes:
            return _memory_hashes[key]
        saved: dict[str, Any] = {}
        try:
            saved = json.loads(store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        record = saved.get(path)
        if isinstance(record, dict) and record.get("size") == key[1] and record.get(
            "mtime_ns"
        ) == key[2]:
            _memory_hashes[key] = str(record["sha256"])
            return _memory_hashes[key]
    if not compute:
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = "sha256:" + digest.hexdigest()
    with _hash_lock:
        _memory_hashes[key] = value
        saved[path] = {"size": key[1], "mtime_ns": key[2], "sha256": value}
        try:
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_text(json.dumps(saved, indent=1), encoding="utf-8")
        except OSError:
            pass
    return value


def folder_config_hash(folder: str) -> str | None:
    """A hash of a pipeline folder's ``model_index.json`` and its components' JSON configs."""
    root = Path(folder)
    index = root / "model_index.json"
    if not index.is_file():
        return None
    digest = hashlib.sha256()
    files = [index, *sorted(root.glob("*/*config*.json"))]
    for file in files:
        try:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
        except OSError:
            continue
    return "config-sha256:" + digest.hexdigest()[:16]


def source_version(source: Source, *, compute_file_hash: bool = False) -> str | None:
    """The version to record: hub commit, file sha256 or folder config hash."""
    if source.kind == "folder":
        return folder_config_hash(source.location)
    if source.kind == "file":
        return file_sha256(source.location, compute=compute_file_hash)
    cached = hub_cached_file(source)
    if cached is not None:
        parts = Path(cached).parts
        if "snapshots" in parts:
            return parts[parts.index("snapshots") + 1]
    return source.revision


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt")
_VARIANT_INFIXES = (".fp16.", ".bf16.", ".non_ema.", ".ema.")


def weights_bytes(source: Source) -> int | None:
    """On-disk size of the weights that would load (None when unknown). Cheap: stats only.

    Variant files (``*.fp16.safetensors``) are skipped when a plain file sits beside them.
    """
    if source.kind == "file":
        try:
            return Path(source.location).stat().st_size
        except OSError:
            return None
    if source.kind == "folder":
        root: Path | None = Path(source.location)
    else:
        cached = hub_cached_file(source)
        root = Path(cached).parent if cached else None
    if root is None or not root.is_dir():
        return None
    total = 0
    for component in root.iterdir():
        if not component.is_dir():
            continue
        files = [f for f in component.iterdir() if f.name.endswith(WEIGHT_SUFFIXES)]
        plain = [f for f in files if not any(i in f.name for i in _VARIANT_INFIXES)]
        for file in plain or files:
            try:
                total += file.stat().st_size
            except OSError:
                continue
    return total or None

