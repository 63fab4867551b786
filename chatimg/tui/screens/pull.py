"""Download a local model from the app: ask, then show bytes, speed and ETA; Escape cancels.

The download runs as ``chatimg models pull NAME --progress-json`` in a child process, so the
app never imports ``huggingface_hub`` or torch and a cancel stops it at once (finished files stay
in the Hugging Face cache, so the next pull goes on from there). ``offer_starter`` asks once, on
the first run with torch and a GPU, whether to fetch SD-Turbo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ProgressBar

if TYPE_CHECKING:
    from textual.app import App

#: The model the first run offers.
STARTER = "sd-turbo"


def size_words(download_gb: float | None) -> str:
    """``about 2.6 GB`` (or ``size unknown``)."""
    return f"about {download_gb:.1f} GB" if download_gb else "size unknown"


def status_words(data: dict[str, Any]) -> str:
    """``1.2 GB / 2.6 GB · 35.0 MB/s · ETA 0:41 · 5/17 files`` from a progress line."""
    from chatimg.engines.hub_pull import human_bytes

    parts = [f"{human_bytes(data.get('done_bytes') or 0)} / "
             f"{human_bytes(data.get('total_bytes') or 0)}"]
    speed = data.get("bytes_per_second")
    if speed:
        parts.append(f"{human_bytes(speed)}/s")
    eta = data.get("eta_seconds")
    if eta is not None:
        minutes, seconds = divmod(int(eta), 60)
        parts.append(f"ETA {minutes}:{seconds:02d}")
    parts.append(f"{data.get('files_done', 0)}/{data.get('files_total', 0)} files")
    return " · ".join(parts)


class PullScreen(ModalScreen[bool]):
    """Offer to download ``name``; returns True once it is here, False if declined/cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "start", "Download", id="pull.start"),
        Binding("n,escape", "cancel", "Cancel", id="pull.cancel"),
    ]

    def __init__(self, name: str, download_gb: float | None = None,
                 licence: str | None = None, question: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.model = name
        self.download_gb = download_gb
        self.licence = licence
        self.question = question or f"Download {name}?"
        self.process: asyncio.subprocess.Process | None = None
        self.running = False
        self.failed: str | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        licence = f" · licence: {self.licence}" if self.licence else ""
        with Vertical(classes="dialog pull"):
            yield Label(self.question, classes="dialog-title")
            yield Label(f"{size_words(self.download_gb)} from the Hugging Face hub into its "
                        f"cache{licence}", id="pull-details")
            yield ProgressBar(total=None, show_eta=False, id="pull-bar")
            yield Label("y downloads · n or esc cancels (finished files are kept)",
                        id="pull-status", classes="dim")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Download (y)", id="pull-yes", variant="primary", compact=True)
                yield Button("Cancel (n)", id="pull-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#pull-bar", ProgressBar).display = False
        self.query_one("#pull-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "pull-yes":
            self.action_start()
        else:
            self.action_cancel()

    def command(self) -> list[str]:
        """The child process that downloads."""
        return [sys.executable, "-m", "chatimg", "models", "pull", self.model, "--progress-json"]

    def action_start(self) -> None:
        if self.running:
            return
        self.running = True
        self.failed = None
        self.query_one("#pull-bar", ProgressBar).display = True
        self.query_one("#pull-yes", Button).disabled = True
        self._status("starting…")
        self.run_worker(self._download(), group="pull", exclusive=True, exit_on_error=False)

    async def _download(self) -> None:
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
        except OSError as exc:
            self.call_later(self._finish, False, f"cannot start the download: {exc}")
            return
        process = self.process
        assert process.stdout is not None and process.stderr is not None
        errors = asyncio.ensure_future(process.stderr.read())
        try:
            async for raw in process.stdout:
                with contextlib.suppress(ValueError):
                    self._progress(json.loads(raw))
            code = await process.wait()
        except asyncio.CancelledError:  # the app is closing: do not leave a download behind
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            raise
        message = (await errors).decode(errors="replace").strip().splitlines()
        if code == 0:
            self.call_later(self._finish, True, None)
        elif self.running:  # not cancelled by us
            error = message[-1] if message else f"the download stopped (exit {code})"
            self.call_later(self._finish, False, error.removeprefix("chatimg: error: "))

    def _progress(self, data: dict[str, Any]) -> None:
        bar = self.query_one("#pull-bar", ProgressBar)
        if data.get("phase") == "listing":
            self._status("asking the hub which files the pipeline needs…")
        elif data.get("phase") in ("downloading", "done"):
            bar.update(total=max(1, int(data.get("total_bytes") or 1)),
                       progress=int(data.get("done_bytes") or 0))
            self._status(status_words(data))

    def _status(self, text: str) -> None:
        self.query_one("#pull-status", Label).update(text)

    def _finish(self, ok: bool, error: str | None) -> None:
        self.running = False
        self.process = None
        if ok:
            self.app.notify(f"{self.model} downloaded", title="Models")
            self.dismiss(True)
            return
        self.failed = error
        self._status(f"✗ {error}")
        self.query_one("#pull-yes", Button).disabled = False

    def action_cancel(self) -> None:
        process, self.running = self.process, False
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            self.app.notify(f"download of {self.model} cancelled; finished files are kept",
                            title="Models")
        self.dismiss(False)


def offer_starter(app: App[Any], state: Any, state_path: Path) -> None:
    """Offer SD-Turbo once: on a run with torch installed and a GPU, if it is not here yet.

    Args:
        app: The running app (``app.studio`` is its Studio).
        state: The app's ``UiState``; ``starter_offered`` is set once torch was found.
        state_path: The state file, where only that flag is written.
    """
    if getattr(state, "starter_offered", False):
        return
    from importlib.util import find_spec

    if find_spec("torch") is None:
        return  # asked again once torch is installed

    async def check() -> None:
        gpu = await probe_accelerator()
        state.starter_offered = True
        mark_offered(state_path)
        if not gpu:
            return
        studio = getattr(app, "studio", None)
        listing = None
        with contextlib.suppress(Exception):
            listing = studio.catalog.listing(STARTER) if studio is not None else None
        if listing is None or listing.download_gb is None:
            return  # already downloaded, or not a downloadable model here
        app.push_screen(PullScreen(STARTER, listing.download_gb, listing.licence,
                                   "Get a local model? SD-Turbo draws in one step on your GPU"))

    app.run_worker(check(), group="starter", exit_on_error=False)


def mark_offered(state_path: Path) -> None:
    """Record in the state file that the starter model was offered (other fields untouched)."""
    from chatimg.tui.state import load_state, save_state

    saved = load_state(state_path)
    saved.starter_offered = True
    save_state(saved, state_path)


async def probe_accelerator() -> bool:
    """Whether torch sees a GPU, asked in a child process (the app never imports torch)."""
    probe = ("import torch, sys; mps = getattr(torch.backends, 'mps', None); "
             "sys.exit(0 if torch.cuda.is_available() or (mps and mps.is_available()) else 1)")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", probe, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, stdin=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(process.wait(), 120) == 0
    except (OSError, TimeoutError):
        return False
