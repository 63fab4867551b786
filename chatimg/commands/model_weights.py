"""``chatimg models pull|ls|rm|update``: local diffusers weights in the Hugging Face cache.

Nothing heavy is imported until a subcommand runs; ``huggingface_hub`` comes with the ``local``
extra, and torch is imported only by ``pull --variant auto`` to see whether there is a GPU.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from chatimg.commands.common import json_option, open_studio, print_json, when
from chatimg.errors import EngineUnavailableError, InvalidRequestError

if TYPE_CHECKING:
    from chatimg.config import ModelEntry, Settings
    from chatimg.engines.hub_pull import PullProgress, PullResult

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Target:
    """The model a subcommand works on."""

    name: str
    repo_id: str
    revision: str | None
    entry: ModelEntry | None
    """None for a hub id pulled for the first time."""


def _catalog_entries() -> tuple[Settings, dict[str, ModelEntry]]:
    from chatimg.config import load_settings
    from chatimg.engines.base import EngineContext
    from chatimg.engines.catalog import Catalog

    settings = load_settings()
    return settings, Catalog.from_settings(EngineContext(settings)).entries


def resolve_target(entries: dict[str, ModelEntry], model: str, *, allow_new: bool,
                   revision: str | None = None) -> Target:
    """A catalog name, the hub id of a catalog model, or (for ``pull``) any hub id.

    A hub id names the catalog model with that source at that revision (unpinned: ``main``);
    ``rm`` and ``update`` take any catalog model with that source, unpinned ones first.
    """
    from chatimg.engines.diffusers_source import resolve_source

    if model not in entries:
        same = [name for name, entry in entries.items() if entry.source == model
                and (not allow_new or entry.revision == revision)]
        same.sort(key=lambda name: entries[name].revision is not None)
        if same:
            model = same[0]
        elif allow_new and _HUB_ID.match(model):
            return Target(model, model, None, None)
        else:
            raise InvalidRequestError(f"unknown model {model!r}",
                                      "`chatimg models` lists them; `pull` also takes a hub id")
    entry = entries[model]
    source = resolve_source(entry.source or "", entry.revision) if entry.source else None
    if entry.engine != "diffusers" or source is None or source.kind != "hub":
        raise InvalidRequestError(f"{model} is not a hub model ({entry.engine}"
                                  f"{', ' + entry.source if entry.source else ''})",
                                  "only diffusers models with a hub id have weights to manage")
    return Target(model, source.location, source.revision, entry)


def _variant(choice: str, settings: Settings, entry: ModelEntry | None) -> str | None:
    if choice != "auto":
        return "fp16" if choice == "fp16" else None
    device = (entry.device if entry else None) or settings.diffusers.device
    dtype = (entry.dtype if entry else None) or ""
    if (device or "").lower() == "cpu" or dtype.lower() in ("float32", "fp32"):
        return None
    from chatimg.engines.hub_pull import accelerator_present

    return "fp16" if accelerator_present() else None


class _Printer:
    """Progress on stderr (a bar on a terminal), or JSON lines on stdout for the app."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.tty = sys.stderr.isatty()
        self.lock = threading.Lock()

    def __call__(self, progress: PullProgress) -> None:
        with self.lock:
            if self.as_json:
                sys.stdout.write(json.dumps(progress.as_dict()) + "\n")
                sys.stdout.flush()
            elif self.tty and progress.phase == "downloading":
                sys.stderr.write("\r" + progress_line(progress) + "\033[K")
                sys.stderr.flush()

    def finish(self) -> None:
        if self.tty and not self.as_json:
            sys.stderr.write("\n")


def progress_line(progress: PullProgress) -> str:
    """``42% 1.1 GB / 2.6 GB  35.2 MB/s  ETA 0:43  (5/17 files)``."""
    from chatimg.engines.hub_pull import human_bytes

    total = progress.total_bytes or 1
    width = 24
    filled = int(width * min(1.0, progress.done_bytes / total))
    speed = f"{human_bytes(progress.bytes_per_second)}/s" if progress.bytes_per_second else "-"
    eta = "-"
    if progress.eta_seconds is not None:
        minutes, seconds = divmod(int(progress.eta_seconds), 60)
        eta = f"{minutes}:{seconds:02d}"
    return (f"[{'#' * filled}{'.' * (width - filled)}] "
            f"{100 * progress.done_bytes / total:3.0f}% {human_bytes(progress.done_bytes)} / "
            f"{human_bytes(progress.total_bytes)}  {speed}  ETA {eta}  "
            f"({progress.files_done}/{progress.files_total} files)")


def run_pull(target: Target, revision: str | None, variant: str | None,
             printer: _Printer, on_plan: Callable[[str, Any], None] | None = None
             ) -> PullResult:
    """Pull in a worker thread so Ctrl+C stops at once (finished files stay for next time)."""
    from chatimg.engines import hub_pull

    hub_pull.import_hub()  # one-line error when the local extra is missing
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = hub_pull.pull(target.repo_id, revision, variant=variant,
                                         on_progress=printer, on_plan=on_plan)
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="pull", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        printer.finish()
        click.echo(f"chatimg: interrupted; finished files are kept: "
                   f"`chatimg models pull {target.name}` goes on from there", err=True)
        sys.stdout.flush()
        os._exit(130)  # download threads cannot be stopped politely
    printer.finish()
    if "error" in outcome:
        raise outcome["error"]
    result: PullResult = outcome["result"]
    return result


def _record(versions: dict[str, str]) -> None:
    from chatimg.store.bench import BenchStore

    with open_studio() as studio:
        BenchStore(studio.db).record_versions(dict(versions))


@click.command()
@click.argument("model")
@click.option("--revision", help="Branch, tag or commit (default: the model's, else main).")
@click.option("--variant", type=click.Choice(["auto", "fp16", "full"]), default="auto",
              show_default=True, help="fp16 weights (auto: on a GPU) or full precision.")
@click.option("--progress-json", is_flag=True, hidden=True,
              help="Progress as JSON lines on stdout (used by the app).")
def pull(model: str, revision: str | None, variant: str, progress_json: bool) -> None:
    """Download MODEL (a catalog name or a hub id) into the Hugging Face cache.

    Only the files the pipeline needs: safetensors weights (fp16 on a GPU where the repo has
    them), configs and tokenizers. Run it again after an interrupt: finished files are kept.
    A private or gated model needs `hf auth login` or HF_TOKEN.
    """
    from chatimg.engines import pulled
    from chatimg.engines.hub_pull import human_bytes

    settings, entries = _catalog_entries()
    target = resolve_target(entries, model, allow_new=True, revision=revision)
    if (revision and target.entry is not None and target.name in settings.models
            and target.revision and revision != target.revision):
        raise InvalidRequestError(
            f"{target.name} is pinned to revision {target.revision} in the config file",
            "change revision in its [models] table")
    wanted = revision or target.revision

    def register(_commit: str, _files: Any) -> None:
        """Known to the catalog as soon as the hub answered, so a half-done pull is listed."""
        if target.entry is None or (revision and target.name not in settings.models):
            pulled.remember(pulled.PulledModel(target.name, target.repo_id, wanted))

    result = run_pull(target, wanted, _variant(variant, settings, target.entry),
                      _Printer(progress_json), register)
    _record({target.name: result.commit})
    if progress_json:
        sys.stdout.write(json.dumps({"phase": "pulled", "name": target.name,
                                     "commit": result.commit}) + "\n")
        return
    fetched = f", {human_bytes(result.fetched_bytes)} fetched" if result.fetched_bytes else \
        ", all already here"
    kind = " fp16" if result.variant else ""
    click.echo(f"pulled {target.name}: {target.repo_id}@{result.commit[:7]}, "
               f"{len(result.files)} files,{kind} {human_bytes(result.total_bytes)}{fetched}")
    click.echo(f"try: chatimg gen 'a lighthouse at dusk' -m {target.name}")


@click.command()
@click.argument("model")
def update(model: str) -> None:
    """Fetch the newest revision of MODEL; a new revision is a new, unvalidated version."""
    from chatimg.engines.diffusers_source import hub_commit, resolve_source, snapshot_folder
    from chatimg.engines.hub_pull import import_hub
    from chatimg.engines.pipeline_files import snapshot_variant
    from chatimg.store.bench import BenchStore

    import_hub()
    _settings, entries = _catalog_entries()
    target = resolve_target(entries, model, allow_new=False)
    if target.revision and _COMMIT.match(target.revision):
        click.echo(f"{target.name} is pinned to commit {target.revision[:7]}: nothing to update")
        return
    old = hub_commit(target.repo_id, target.revision)
    if old is None:
        raise EngineUnavailableError(f"{target.name} is not downloaded",
                                     f"chatimg models pull {target.name}")
    folder = snapshot_folder(resolve_source(target.repo_id, old))
    variant = snapshot_variant(folder) if folder else None
    _record({target.name: old})
    result = run_pull(target, target.revision, variant, _Printer(False))
    if result.commit == old:
        click.echo(f"{target.name} is up to date ({old[:7]})")
        return
    with open_studio() as studio:
        store = BenchStore(studio.db)
        store.record_versions({target.name: result.commit})
        state = store.version_states({target.name: result.commit})[target.name].state
    click.echo(f"{target.name}: {old[:7]} -> {result.commit[:7]}, a new version: {state} "
               f"until a bench run passes it (chatimg bench default -m {target.name})")


@click.command()
@click.argument("model")
@json_option
def rm(model: str, as_json: bool) -> None:
    """Free the cache space of MODEL (files other models use stay)."""
    from chatimg.engines.hub_cache import remove_model
    from chatimg.engines.hub_pull import human_bytes, import_hub

    import_hub()
    _settings, entries = _catalog_entries()
    target = resolve_target(entries, model, allow_new=False)
    removal = remove_model(target.name, entries)
    if as_json:
        print_json({"name": removal.name, "repo_id": removal.repo_id,
                    "removed": list(removal.removed), "freed_bytes": removal.freed_bytes,
                    "kept": removal.kept})
        return
    if removal.removed:
        click.echo(f"removed {target.name}: {removal.repo_id} "
                   f"({', '.join(c[:7] for c in removal.removed)}), "
                   f"freed {human_bytes(removal.freed_bytes)}")
    elif not removal.kept:
        click.echo(f"{target.name} is not downloaded: nothing to remove")
    for commit, others in removal.kept.items():
        click.echo(f"kept {removal.repo_id}@{commit[:7]}: {', '.join(others)} use it")


@click.command()
@click.option("--local", "local_only", is_flag=True,
              help="Only downloaded models: size on disk, revision, last used.")
@json_option
def ls(local_only: bool, as_json: bool) -> None:
    """List models (with --local: what is downloaded, its size, revision and last use)."""
    if not local_only:
        from chatimg.commands.models import print_listing

        print_listing(as_json)
        return
    from chatimg.engines.hub_cache import local_models
    from chatimg.engines.hub_pull import human_bytes, import_hub
    from chatimg.store.bench import BenchStore

    import_hub()
    _settings, entries = _catalog_entries()
    found = local_models(entries)
    with open_studio() as studio:
        used = BenchStore(studio.db).last_used(item.name for item in found)
    if as_json:
        print_json([{"name": item.name, "repo_id": item.repo_id, "revision": item.commit,
                     "size_bytes": item.size_bytes, "other_revisions": item.other_revisions,
                     "last_used": used.get(item.name)} for item in found])
        return
    if not found:
        click.echo("no downloaded models: try `chatimg models pull sd-turbo`")
        return
    click.echo(f"{'model':<22} {'size':>9}  {'revision':<8}  {'last used':<16}  hub id")
    for item in found:
        extra = f" (+{item.other_revisions} older)" if item.other_revisions else ""
        click.echo(f"{item.name[:22]:<22} {human_bytes(item.size_bytes):>9}  {item.commit[:7]:<8}"
                   f"  {when(used.get(item.name)) if item.name in used else 'never':<16}  "
                   f"{item.repo_id}{extra}")
