"""``chatimg models pull``: fetch a diffusers pipeline into the Hugging Face cache.

The real ``huggingface_hub`` download code does the work (its cache, its token, its
``HF_ENDPOINT``), so other tools share the files. Only the files the pipeline needs are fetched
(``pipeline_files.select_files``). Files finished before an interrupt are not fetched again; a
connection dropped mid-file is resumed by ``huggingface_hub`` with a ``Range`` request.

Progress comes from watching the cache on disk (finished files plus the growing ``.incomplete``
files), so it works with any version of the library and never touches its progress bars.
"""

from __future__ import annotations

import glob
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatimg.engines.diffusers_source import hub_repo_folder
from chatimg.engines.pipeline_files import PipelineFiles, select_files
from chatimg.errors import ChatImgError, EngineUnavailableError, InvalidRequestError

LOGIN_HINT = "log in with `hf auth login` or set HF_TOKEN to a token that can read it"


@dataclass(frozen=True)
class PullProgress:
    """How far a pull is."""

    done_bytes: int
    total_bytes: int
    files_done: int
    files_total: int
    bytes_per_second: float | None
    eta_seconds: float | None
    phase: str
    """``listing``, ``downloading`` or ``done``."""

    def as_dict(self) -> dict[str, Any]:
        """For ``--progress-json`` lines."""
        return {"phase": self.phase, "done_bytes": self.done_bytes,
                "total_bytes": self.total_bytes, "files_done": self.files_done,
                "files_total": self.files_total, "bytes_per_second": self.bytes_per_second,
                "eta_seconds": self.eta_seconds}


@dataclass(frozen=True)
class PullResult:
    """What a pull left in the cache."""

    repo_id: str
    commit: str
    snapshot: str
    files: tuple[str, ...]
    total_bytes: int
    fetched_bytes: int
    """Bytes that were not in the cache before this pull."""
    variant: str | None


ProgressCallback = Callable[[PullProgress], None]


def import_hub() -> Any:
    """``huggingface_hub``, or a one-line error naming the extra to install."""
    try:
        import huggingface_hub
    except ImportError:
        raise EngineUnavailableError(
            "pulling models needs huggingface_hub, which comes with the local extra",
            "pip install 'chatimg[local]'",
        ) from None
    return huggingface_hub


def hub_error(exc: BaseException, repo_id: str, revision: str | None) -> ChatImgError:
    """A one-line error for what the hub (or the network) answered."""
    from huggingface_hub import errors

    at = f"{repo_id}@{revision}" if revision else repo_id
    if isinstance(exc, errors.GatedRepoError):
        return EngineUnavailableError(
            f"{repo_id} is gated (HTTP 401): accept its licence on its hub page", LOGIN_HINT)
    if isinstance(exc, errors.RevisionNotFoundError):
        return InvalidRequestError(f"revision {revision!r} of {repo_id} does not exist",
                                   "check the branch, tag or commit")
    if isinstance(exc, errors.RepositoryNotFoundError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return InvalidRequestError(
            f"{repo_id} was not found on the hub (HTTP {status or 404})",
            f"check the id; if it is private, {LOGIN_HINT}")
    if isinstance(exc, (errors.EntryNotFoundError,
                        getattr(errors, "RemoteEntryNotFoundError", errors.EntryNotFoundError))):
        return InvalidRequestError(f"{at} has no model_index.json: not a diffusers pipeline",
                                   "chatimg pulls diffusers pipelines")
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 401:
            return EngineUnavailableError(f"the hub refused the token for {repo_id} (HTTP 401)",
                                          LOGIN_HINT)
        return EngineUnavailableError(f"the hub answered HTTP {status} for {at}",
                                      "try again later")
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return EngineUnavailableError("HF_HUB_OFFLINE is set: pulling needs the network",
                                      "unset HF_HUB_OFFLINE")
    detail = " ".join(str(exc).split())[:160]
    return EngineUnavailableError(f"cannot reach the hub for {at}: {type(exc).__name__}: {detail}",
                                  "check the network (or HF_ENDPOINT) and run the pull again; "
                                  "finished files are kept")


def plan(repo_id: str, revision: str | None, variant: str | None
         ) -> tuple[str, PipelineFiles, dict[str, int]]:
    """Ask the hub which commit ``revision`` is and which files to fetch.

    Returns:
        The commit, the files, and every file's size at that commit.

    Raises:
        ChatImgError: a missing, gated or non-pipeline repository, or no network.
    """
    hub = import_hub()
    from huggingface_hub import constants

    if constants.is_offline_mode():
        raise EngineUnavailableError("HF_HUB_OFFLINE is set: pulling needs the network",
                                     "unset HF_HUB_OFFLINE")
    try:
        # The HEAD of model_index.json resolves the revision and records it under refs/.
        index_path = hub.hf_hub_download(repo_id, "model_index.json", revision=revision)
        commit = Path(index_path).parent.name
        from huggingface_hub.hf_api import RepoFile

        sizes = {item.path: int(item.size or 0)
                 for item in hub.HfApi().list_repo_tree(repo_id, recursive=True, revision=commit)
                 if isinstance(item, RepoFile)}
    except ChatImgError:
        raise
    except Exception as exc:
        raise hub_error(exc, repo_id, revision) from None
    try:
        index = json.loads(Path(index_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise EngineUnavailableError(f"{repo_id}: model_index.json is not valid JSON") from None
    return commit, select_files(repo_id, sizes, index, variant), sizes


def pull(repo_id: str, revision: str | None = None, *, variant: str | None = None,
         on_progress: ProgressCallback | None = None, interval: float = 0.25,
         on_plan: Callable[[str, PipelineFiles], None] | None = None) -> PullResult:
    """Fetch what the pipeline at ``repo_id@revision`` needs into the Hugging Face cache.

    Args:
        repo_id: The hub id.
        revision: A branch, tag or commit (default ``main``).
        variant: ``fp16`` to fetch fp16 weights where the repo has them.
        on_progress: Called from a watcher thread about every ``interval`` seconds.
        interval: Seconds between progress reports.
        on_plan: Called with the commit and the files once the hub said what to fetch (before
            any weights are downloaded), e.g. to register the model.

    Raises:
        ChatImgError: one line for a missing or gated repository, a missing revision, no
            network, or a repository without safetensors weights.
    """
    report = on_progress or (lambda _progress: None)
    report(PullProgress(0, 0, 0, 0, None, None, "listing"))
    hub = import_hub()
    from huggingface_hub.utils import logging as hub_logging

    hub_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hub.utils.disable_progress_bars()
    commit, chosen, _sizes = plan(repo_id, revision, variant)
    if on_plan is not None:
        on_plan(commit, chosen)
    snapshot = hub_repo_folder(repo_id) / "snapshots" / commit
    cleanup_partials(snapshot.parent.parent / "blobs")
    watcher = _Watcher(snapshot, chosen, report, interval)
    before = watcher.measure()[0]
    watcher.start()
    try:
        hub.snapshot_download(repo_id, revision=commit,
                              allow_patterns=[glob.escape(name) for name in chosen.files])
    except ChatImgError:
        raise
    except Exception as exc:
        raise hub_error(exc, repo_id, revision) from None
    finally:
        watcher.stop()
    missing = [name for name in chosen.files if not (snapshot / name).exists()]
    if missing:
        raise EngineUnavailableError(f"{repo_id}: {len(missing)} files did not arrive "
                                     f"({missing[0]} ...)", "run the pull again")
    done, files_done = watcher.measure()
    report(PullProgress(done, chosen.total_bytes, files_done, len(chosen.files), None, 0.0,
                        "done"))
    return PullResult(repo_id, commit, str(snapshot), chosen.files, chosen.total_bytes,
                      max(0, chosen.total_bytes - before), chosen.variant)


class _Watcher:
    """Reports progress from the cache on disk until stopped."""

    def __init__(self, snapshot: Path, chosen: PipelineFiles, report: ProgressCallback,
                 interval: float) -> None:
        self.snapshot = snapshot
        self.blobs = snapshot.parent.parent / "blobs"
        self.chosen = chosen
        self.report = report
        self.interval = interval
        self.started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pull-progress", daemon=True)
        self._samples: deque[tuple[float, int]] = deque(maxlen=16)

    def measure(self) -> tuple[int, int]:
        """Bytes and files here now (finished files plus this pull's partial files)."""
        done = files = 0
        for name in self.chosen.files:
            path = self.snapshot / name
            if path.exists():
                files += 1
                try:
                    done += path.stat().st_size
                except OSError:
                    continue
        for partial in self.blobs.glob("*.incomplete"):
            try:
                stat = partial.stat()
            except OSError:
                continue
            if stat.st_mtime >= self.started - 1:
                done += stat.st_size
        return min(done, self.chosen.total_bytes or done), files

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            done, files = self.measure()
            now = time.monotonic()
            self._samples.append((now, done))
            first_time, first_done = self._samples[0]
            speed = (done - first_done) / (now - first_time) if now > first_time else None
            remaining = max(0, self.chosen.total_bytes - done)
            eta = remaining / speed if speed else None
            self.report(PullProgress(done, self.chosen.total_bytes, files,
                                     len(self.chosen.files), speed, eta, "downloading"))


def accelerator_present() -> bool:
    """Whether torch sees a CUDA or MPS device (False without torch). Imports torch."""
    from importlib.util import find_spec

    if find_spec("torch") is None:
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - a broken install
        return False
    mps = getattr(torch.backends, "mps", None)
    return bool(torch.cuda.is_available() or (mps is not None and mps.is_available()))


def human_bytes(value: float) -> str:
    """``2.6 GB``, ``512 kB``."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


def cleanup_partials(blobs: Path, older_than: float = 600.0) -> int:
    """Remove ``.incomplete`` files an interrupted pull left (not touched for ``older_than``
    seconds; a running download writes to its file all the time). Returns bytes freed."""
    freed = 0
    now = time.time()
    for partial in blobs.glob("*.incomplete"):
        try:
            stat = partial.stat()
            if now - stat.st_mtime >= older_than:
                partial.unlink()
                freed += stat.st_size
        except OSError:
            continue
    return freed


