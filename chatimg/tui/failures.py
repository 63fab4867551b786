"""Failed workers reach one place: the app's ``Worker.StateChanged`` handler.

Textual posts ``Worker.StateChanged`` to the node that ran the worker and does not bubble it, so
a failure in a screen's or a widget's worker would reach no one. Nodes that run workers mix in
``ForwardFailedWorkers``, which hands the ERROR state on to the app; the app shows one line
(``failure_line``) and logs the traceback (``log_failure``) to the log file (``open_log``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from chatimg.errors import ChatImgError

#: The logger worker failures go to (the app adds a file handler while it runs).
log = logging.getLogger("chatimg.tui")

#: What a worker does, by the name given to ``run_worker``/``@work`` (for the one-line notice).
WORKER_TITLES: dict[str, str] = {
    "sidebar-load": "loading conversations",
    "thread-load": "loading the conversation",
    "listings": "loading models",
    "generate": "generation",
    "card-action": "card action",
    "compare-load": "loading the comparison",
    "thumbnails": "loading an image",
    "export": "export",
    "viewer": "opening the image",
    "earlier": "loading earlier messages",
}


class ForwardFailedWorkers(DOMNode):
    """Mix into a widget or screen that runs workers: their failures go to the app."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.app.post_message(event)


def error_text(error: BaseException | None) -> str:
    """One line for an exception: ``ChatImgError.one_line()`` or ``Type: message``."""
    if error is None:
        return "unknown error"
    if isinstance(error, ChatImgError):
        return error.one_line()
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def failure_line(worker: Worker[object], log_path: Path | None) -> str:
    """The notification for a failed worker: what failed, why, and where the details are."""
    title = WORKER_TITLES.get(worker.name or "", worker.name or "background task")
    where = f" (traceback in {log_path})" if log_path is not None else ""
    return f"{title} failed: {error_text(worker.error)}{where}"


def log_failure(worker: Worker[object]) -> None:
    """Log a failed worker with its traceback."""
    error = worker.error
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    log.error("worker %r (group %r) failed", worker.name, worker.group, exc_info=exc_info)


def open_log(path: Path) -> logging.Handler | None:
    """Send ``chatimg`` log records to ``path`` while the app runs; ``None`` if it can't."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("chatimg")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def close_log(handler: logging.Handler | None) -> None:
    """Undo ``open_log``."""
    if handler is None:
        return
    logging.getLogger("chatimg").removeHandler(handler)
    handler.close()
