"""Small UI state kept between runs (last conversation, scroll position, theme, the composer's
settings, whether the sidebar is collapsed, whether the starter model was offered) as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chatimg import paths


@dataclass
class UiState:
    """What the app restores on start."""

    conversation_id: str | None = None
    scroll_y: float = 0.0
    theme: str | None = None
    starter_offered: bool = False
    """The first run with torch installed checked for a GPU (and offered SD-Turbo if one)."""
    composer: dict[str, Any] | None = None
    """The composer's settings (``ComposerOptions.to_state``): model, fan-out, preset, seed
    lock and the pending spec (size, count, steps, ...)."""
    sidebar_collapsed: bool = False
    """Ctrl+B hid the conversation list."""


def load_state(path: Path | None = None) -> UiState:
    """Read the state file; a missing or broken file gives defaults."""
    file = path or paths.state_file()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UiState()
    if not isinstance(data, dict):
        return UiState()
    known = {key: data[key] for key in UiState.__dataclass_fields__ if key in data}
    try:
        state = UiState(**known)
        state.scroll_y = float(state.scroll_y or 0.0)
        state.sidebar_collapsed = bool(state.sidebar_collapsed)
        if not isinstance(state.composer, dict):
            state.composer = None
    except (TypeError, ValueError):
        return UiState()
    return state


def save_state(state: UiState, path: Path | None = None) -> None:
    """Write the state file atomically (temp file + rename); errors are ignored."""
    file = path or paths.state_file()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        temp = file.with_suffix(".tmp")
        temp.write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")
        os.replace(temp, file)
    except OSError:
        pass
