"""Open an image file in the system's viewer (``open``, ``start`` or ``xdg-open``); no Textual."""

from __future__ import annotations

import shutil
import subprocess
import sys


def viewer_command(path: str) -> list[str] | None:
    """The system viewer command for this platform (``None`` when there is none)."""
    if sys.platform == "darwin":
        return ["open", path]
    if sys.platform.startswith("win"):
        return ["cmd", "/c", "start", "", path]
    opener = shutil.which("xdg-open")
    return [opener, path] if opener else None


def open_in_viewer(path: str) -> str | None:
    """Open ``path`` (blocking, up to 20 s); the reason as one line when it fails, else None."""
    command = viewer_command(path)
    if command is None:
        return "no system image viewer found (xdg-open missing)"
    try:
        result = subprocess.run(command, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if result.returncode:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {result.returncode}"
    return None
