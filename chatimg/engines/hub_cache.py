"""What local hub models occupy in the Hugging Face cache, and removing them safely.

Sizes and deletions go through ``huggingface_hub``'s own cache scanner, which knows which blob
files each cached revision links: removing a model deletes its revisions and only the blobs no
remaining revision links, and keeps the revisions other catalog models use.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatimg.engines.diffusers_source import (
    hub_cache_dir,
    hub_commit,
    hub_repo_folder,
    resolve_source,
)

if TYPE_CHECKING:
    from chatimg.config import ModelEntry

@dataclass(frozen=True)
class LocalModel:
    """A catalog model whose weights are in the hub cache."""

    name: str
    repo_id: str
    commit: str
    size_bytes: int
    """On-disk size of the revision the model uses."""
    other_revisions: int = 0
    """Other cached revisions of the same repository (older pulls, other models' pins)."""


@dataclass(frozen=True)
class Removal:
    """What ``models rm`` did."""

    name: str
    repo_id: str
    removed: tuple[str, ...]
    """Commits removed."""
    freed_bytes: int
    kept: dict[str, list[str]] = field(default_factory=dict)
    """Commit → other models that still use it (left in place)."""


def hub_models(entries: Mapping[str, ModelEntry]) -> dict[str, tuple[str, str | None]]:
    """Name → (hub id, revision) for every diffusers catalog entry whose source is a hub id."""
    found: dict[str, tuple[str, str | None]] = {}
    for name, entry in entries.items():
        if entry.engine == "diffusers" and entry.source:
            source = resolve_source(entry.source, entry.revision)
            if source.kind == "hub":
                found[name] = (source.location, source.revision)
    return found


def _scan() -> tuple[dict[str, Any], Any] | None:
    """Model repositories in the cache by hub id, and the scan (None: no cache yet)."""
    from huggingface_hub import scan_cache_dir

    folder = hub_cache_dir()
    if not folder.is_dir():
        return None
    info = scan_cache_dir(folder)
    return {repo.repo_id: repo for repo in info.repos if repo.repo_type == "model"}, info


def local_models(entries: Mapping[str, ModelEntry]) -> list[LocalModel]:
    """Catalog models whose weights are cached, with the size of the revision each uses."""
    scanned = _scan()
    if scanned is None:
        return []
    repos = scanned[0]
    found: list[LocalModel] = []
    for name, (repo_id, revision) in hub_models(entries).items():
        repo = repos.get(repo_id)
        commit = hub_commit(repo_id, revision)
        if repo is None or commit is None:
            continue
        for cached in repo.revisions:
            if cached.commit_hash == commit:
                found.append(LocalModel(name, repo_id, commit, int(cached.size_on_disk),
                                        len(repo.revisions) - 1))
    return found


def remove_model(name: str, entries: Mapping[str, ModelEntry]) -> Removal:
    """Delete the cached revisions of ``name``'s repository that no other model uses.

    Blobs still linked by a remaining revision stay (``huggingface_hub`` decides), and so do
    the revisions that other catalog models resolve to.
    """
    models = hub_models(entries)
    repo_id, _revision = models[name]
    scanned = _scan()
    if scanned is None or scanned[0].get(repo_id) is None:
        return Removal(name, repo_id, (), 0)
    repos, info = scanned
    repo = repos[repo_id]
    kept: dict[str, list[str]] = {}
    for other, (other_repo, other_revision) in models.items():
        if other != name and other_repo == repo_id:
            commit = hub_commit(other_repo, other_revision)
            if commit:
                kept.setdefault(commit, []).append(other)
    commits = tuple(sorted(r.commit_hash for r in repo.revisions if r.commit_hash not in kept))
    if not commits:
        return Removal(name, repo_id, (), 0, kept)
    # Scoped to this repository: the scanner matches commit hashes across every cached repo,
    # and two repositories can hold the same commit (a fork, a mirror of the same files).
    strategy = dataclasses.replace(info, repos=frozenset({repo})).delete_revisions(*commits)
    freed = int(strategy.expected_freed_size)
    strategy.execute()
    folder = hub_repo_folder(repo_id)
    for commit in commits:  # the tree listings and "file does not exist" notes of those commits
        (folder / "trees" / f"{commit}.json").unlink(missing_ok=True)
        shutil.rmtree(folder / ".no_exist" / commit, ignore_errors=True)
    if not kept:
        for partial in (folder / "blobs").glob("*.incomplete"):
            freed += partial.stat().st_size
            partial.unlink(missing_ok=True)
        snapshots = folder / "snapshots"
        if not (snapshots.is_dir() and any(snapshots.iterdir())):
            # no revision is left, so the refs and notes of this repo serve no model
            shutil.rmtree(folder, ignore_errors=True)
    return Removal(name, repo_id, commits, freed, kept)
