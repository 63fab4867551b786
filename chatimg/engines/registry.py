"""Engine kinds, found through the ``chatimg.engines`` entry-point group (built-ins too).

Kinds are listed without importing them; a plugin that fails to import is reported, not fatal.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from chatimg.errors import EngineUnavailableError

if TYPE_CHECKING:
    from chatimg.engines.base import Engine

GROUP = "chatimg.engines"

#: Built-in kinds, also declared as entry points in pyproject.toml; kept here so a source
#: checkout that is not installed still finds them.
BUILTIN_KINDS: dict[str, str] = {
    "layout": "chatimg.engines.layout:LayoutEngine",
    "diffusers": "chatimg.engines.diffusers_engine:DiffusersEngine",
    "ideogram": "chatimg.engines.ideogram:IdeogramEngine",
    "google": "chatimg.engines.google:GeminiEngine",
    "imagen": "chatimg.engines.google:ImagenEngine",
    "openai": "chatimg.engines.openai_images:OpenAIImagesEngine",
    "comfyui": "chatimg.engines.comfyui:ComfyUIEngine",
    "a1111": "chatimg.engines.a1111:A1111Engine",
    "ray": "chatimg.engines.ray_engine:RayEngine",
}


@dataclass(frozen=True)
class EngineKind:
    """An engine kind as listed (not imported)."""

    name: str
    target: str
    """``module:Class``."""
    builtin: bool


def engine_kinds() -> dict[str, EngineKind]:
    """Every engine kind: built-ins, then entry points (which may add or override)."""
    kinds = {name: EngineKind(name, target, True) for name, target in BUILTIN_KINDS.items()}
    for point in entry_points(group=GROUP):
        builtin = BUILTIN_KINDS.get(point.name) == point.value
        kinds[point.name] = EngineKind(point.name, point.value, builtin)
    return kinds


def load_engine_class(kind: str) -> type[Engine]:
    """Import the class for ``kind``.

    Raises:
        EngineUnavailableError: unknown kind, or the plugin failed to import.
    """
    known = engine_kinds()
    if kind not in known:
        raise EngineUnavailableError(
            f"unknown engine kind {kind!r}", "known kinds: " + ", ".join(sorted(known))
        )
    module_name, _, attribute = known[kind].target.partition(":")
    try:
        module = importlib.import_module(module_name)
        engine_class = getattr(module, attribute)
    except Exception as exc:  # a broken plugin must not take the app down
        raise EngineUnavailableError(
            f"engine {kind!r} failed to load: {type(exc).__name__}: {exc}",
            "reinstall the plugin or remove models that use it",
        ) from None
    return engine_class  # type: ignore[no-any-return]
