"""Which process owns a temp file or a running generation, and whether that process still lives.

An owner is (host, pid, start): the host name, the process id and the process's start time in
clock ticks since boot (``/proc/<pid>/stat`` field 22). The start time tells a live owner from an
unrelated process that later got the same pid. Where ``/proc`` is missing (macOS, Windows) the
start is 0 and liveness falls back to "a process with that pid exists".
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """A process that writes to the store."""

    host: str
    pid: int
    start: int
    """Start time in clock ticks since boot; 0 when unknown."""

    @property
    def host_tag(self) -> str:
        """A short, file-name-safe tag for the host (8 hex digits of its name's sha256)."""
        return host_tag(self.host)

    def file_tag(self) -> str:
        """``<host_tag>-<pid>-<start>``: what temp file names carry."""
        return f"{self.host_tag}-{self.pid}-{self.start}"


def host_tag(host: str) -> str:
    """Eight hex digits naming ``host`` in file names."""
    return hashlib.sha256(host.encode("utf-8", "replace")).hexdigest()[:8]


@functools.cache
def host_name() -> str:
    """This machine's host name (cut to 255 characters)."""
    return (socket.gethostname() or "localhost")[:255]


def process_start(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot; None when no such process.

    Returns 0 when the platform has no ``/proc`` and the process exists.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
        return 0 if _pid_exists(pid) else None
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ")".
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 overall: starttime
    except (IndexError, ValueError):
        return 0


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@functools.cache
def _current(pid: int) -> Owner:
    return Owner(host_name(), pid, process_start(pid) or 0)


def current_owner() -> Owner:
    """This process (computed once per pid, so a forked child gets its own)."""
    return _current(os.getpid())


def is_alive(owner: Owner) -> bool | None:
    """Whether ``owner`` still runs: True, False, or None when it cannot be told (another host)."""
    if owner.host != host_name():
        return None
    start = process_start(owner.pid)
    if start is None:
        return False
    return owner.start in (0, start) or start == 0


def tag_is_alive(tag: str) -> bool | None:
    """Liveness of the owner named by a ``file_tag()``; None when it cannot be told."""
    parts = tag.split("-")
    if len(parts) != 3 or parts[0] != host_tag(host_name()):
        return None
    try:
        pid, start = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    return is_alive(Owner(host_name(), pid, start))
